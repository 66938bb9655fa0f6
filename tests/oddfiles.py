"""A corpus of filesystem oddities a user's runtime dir or command line can hold.

Each case writes one ``kernel-<name>.json`` (or something in its place) into a directory
and says what the connection-file layer must answer: ``None`` for a valid file, else a
fragment of the "unreadable" reason. Shared by the targeted tests and the fuzz suite.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

VALID = {
    "shell_port": 50001,
    "iopub_port": 50002,
    "stdin_port": 50003,
    "control_port": 50004,
    "hb_port": 50005,
    "ip": "127.0.0.1",
    "key": "secret",
    "transport": "tcp",
    "signature_scheme": "hmac-sha256",
    "kernel_name": "python3",
}


def valid_text(**changes) -> str:
    return json.dumps(dict(VALID, **changes))


def _write(text: str | bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))

    return make


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _link_to_fifo(path: Path) -> None:
    target = path.with_name(path.name + ".pipe")
    os.mkfifo(target)
    path.symlink_to(target)


def _link_loop(path: Path) -> None:
    other = path.with_name(path.name + ".loop")
    path.symlink_to(other)
    other.symlink_to(path)


def _dangling(path: Path) -> None:
    path.symlink_to(path.with_name("missing-target.json"))


def _link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    path.mkdir()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# name → (how to make it, a fragment of the reason; None = a valid file)
CASES: dict[str, tuple[Callable[[Path], None], str | None]] = {
    "fifo": (_fifo, "FIFO"),
    "link-to-fifo": (_link_to_fifo, "FIFO"),
    "link-loop": (_link_loop, "symbolic link"),
    "dangling-link": (_dangling, "does not exist"),
    "dev-zero": (_link_to_dev_zero, "character device"),
    "directory": (_directory, "directory"),
    "five-mb": (_write(b" " * (5 * 1024 * 1024) + b"{}"), "larger than 1 MiB"),
    "huge-int": (_write('{"shell_port": ' + "9" * 5000 + "}"), "number too large"),
    "deep-nesting": (_write('{"a": ' + _nested(1000) + "}"), "nests"),
    "deep-nesting-100k": (_write(_nested(100_000)), "nests"),
    "surrogate-ip": (_write(valid_text().replace("127.0.0.1", "\\ud800")), "surrogate"),
    "surrogate-name": (_write(valid_text().replace("python3", "py\\udfff")), "surrogate"),
    "utf16": (_write(valid_text().encode("utf-16")), "not UTF-8"),
    "utf32": (_write(valid_text().encode("utf-32")), "not UTF-8"),
    "binary": (_write(bytes(range(256))), "not UTF-8"),
    "empty": (_write(b""), "empty"),
    "json-list": (_write("[1, 2]"), "JSON object"),
    "port-as-float": (_write(valid_text(shell_port=1.5)), "integer"),
    "ip-with-newline": (_write(valid_text(ip="127.0.0.1\nevil")), "address or host name"),
    "bom": (_write(b"\xef\xbb\xbf" + valid_text().encode()), None),
    "valid": (_write(valid_text()), None),
}


def make_case(directory: Path, name: str) -> Path:
    """Create case ``name`` as ``directory/kernel-<name>.json``; return its path."""
    path = directory / f"kernel-{name}.json"
    CASES[name][0](path)
    return path
