"""Load and validate a Jupyter kernel connection file."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from dataclasses import dataclass, field
from typing import Any

from spyder_kernel_connect.connection.errors import (
    ConnectionFileInvalid,
    ConnectionFileNotFound,
    ConnectionFileUnreadable,
    dangling_link,
)
from spyder_kernel_connect.files import NotARegularFile, read_regular_file

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
TRANSPORTS = ("tcp", "ipc")
LOOPBACK = "127.0.0.1"
# A real connection file is a few hundred bytes; refuse to slurp a huge file by mistake.
MAX_FILE_SIZE = 1024 * 1024


@dataclass(frozen=True)
class ConnectionInfo:
    """The validated contents of a connection file.

    Keys this package does not know (``kernel_name``, ``jupyter_session``…) are kept
    in ``extra`` and written back unchanged, so newer kernels keep working.
    """

    shell_port: int
    iopub_port: int
    stdin_port: int
    control_port: int
    hb_port: int
    ip: str = "127.0.0.1"
    key: str = ""
    transport: str = "tcp"
    signature_scheme: str = "hmac-sha256"
    extra: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def ports(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in PORT_NAMES}

    @property
    def kernel_name(self) -> str:
        name = self.extra.get("kernel_name", "")
        return name if isinstance(name, str) else ""

    def to_dict(self) -> dict[str, Any]:
        """The dict jupyter_client expects (``load_connection_info`` / a file on disk)."""
        data = dict(self.extra)
        data.update(self.ports)
        data.update(
            ip=self.ip,
            key=self.key,
            transport=self.transport,
            signature_scheme=self.signature_scheme,
        )
        return data

    @property
    def reachable_ip(self) -> str:
        """Where to reach the kernel on its own machine: a wildcard listen address
        (the IPv4 or IPv6 wildcard, or ``*``) means the kernel listens on every interface,
        loopback included."""
        if self.ip in ("", "*"):
            return LOOPBACK
        try:
            unspecified = ipaddress.ip_address(self.ip).is_unspecified
        except ValueError:
            return self.ip  # a host name
        return LOOPBACK if unspecified else self.ip

    def address(self, port_name: str) -> str:
        """The ZMQ address of one channel, e.g. ``tcp://127.0.0.1:5555``."""
        port = getattr(self, port_name)
        if self.transport == "ipc":
            return f"ipc://{self.ip}-{port}"
        return f"tcp://{self.ip}:{port}"


def read_connection_file(path: str | os.PathLike[str]) -> ConnectionInfo:
    """Read and validate ``path``; every failure raises a ConnectionFileError subclass."""
    path = os.path.abspath(os.fspath(path))
    return decode_connection_file(_read_bytes(path), path)


def decode_connection_file(raw: bytes, path: str) -> ConnectionInfo:
    """Validate a connection file's bytes, however they were read (disk, SFTP)."""
    if len(raw) > MAX_FILE_SIZE:
        raise ConnectionFileInvalid(
            f"{path} is larger than 1 MiB, far too large to be a connection file.",
            "Pick the kernel-<id>.json file the kernel wrote.",
            path=path,
        )
    try:
        # utf-8-sig: a BOM (Windows editors add one) is harmless; other encodings are refused.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ConnectionFileInvalid(
            f"Connection file {path} is not UTF-8 text (bad byte at offset {err.start}).",
            "It is probably not a connection file.",
            path=path,
        ) from None
    if not text.strip():
        raise ConnectionFileInvalid(
            f"Connection file {path} is empty.",
            "The kernel may still be starting; wait a moment, or pick another file.",
            path=path,
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConnectionFileInvalid(
            f"Connection file {path} is not valid JSON: {err.msg} at line {err.lineno}, "
            f"column {err.colno}.",
            "It may be truncated or not a connection file at all.",
            path=path,
        ) from None
    except RecursionError:
        raise ConnectionFileInvalid(
            f"Connection file {path} nests its JSON too deeply to be a connection file.",
            "Pick the kernel-<id>.json file the kernel wrote.",
            path=path,
        ) from None
    except ValueError as err:  # an integer of thousands of digits (int_max_str_digits)
        raise ConnectionFileInvalid(
            f"Connection file {path} holds a number too large to read ({err}).".replace(
                "; use sys.set_int_max_str_digits() to increase the limit", ""
            ),
            "Pick the kernel-<id>.json file the kernel wrote.",
            path=path,
        ) from None
    return parse_connection_info(data, path=path)


def parse_connection_info(data: Any, path: str | None = None) -> ConnectionInfo:
    """Validate an already-decoded connection mapping (from a file, SFTP, or a dict)."""
    where = path or "connection info"
    if not isinstance(data, dict):
        raise ConnectionFileInvalid(
            f"{where} must contain a JSON object, not {type(data).__name__}.",
            'A kernel connection file looks like {"shell_port": 1234, …}.',
            path=path,
        )
    _check_encodable(data, where, path)

    def bad(name: str, problem: str) -> ConnectionFileInvalid:
        return ConnectionFileInvalid(
            f"{where}: field {name!r} {problem}.",
            "The file is not a usable kernel connection file; pick the file the kernel wrote.",
            path=path,
            field=name,
        )

    ports: dict[str, int] = {}
    for name in PORT_NAMES:
        if name not in data:
            raise bad(name, "is missing")
        value = data[name]
        # bool is an int subclass; `true` is never a port.
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(name, f"must be an integer, not {json.dumps(value)[:40]}")
        if not 0 < value < 65536:
            raise bad(name, f"must be between 1 and 65535, not {value}")
        ports[name] = value

    def text_field(name: str, default: str | None) -> str:
        if name not in data:
            if default is None:
                raise bad(name, "is missing")
            return default
        value = data[name]
        if not isinstance(value, str):
            raise bad(name, f"must be a string, not {json.dumps(value)[:40]}")
        return value

    ip = text_field("ip", "127.0.0.1")
    if not ip.strip():
        raise bad("ip", "is empty")
    if not ip.isprintable() or any(c.isspace() for c in ip):
        raise bad("ip", f"must be an address or host name, not {ip!r}")
    key = text_field("key", None)
    transport = text_field("transport", "tcp")
    if transport not in TRANSPORTS:
        raise bad("transport", f"must be 'tcp' or 'ipc', not {transport!r}")
    scheme = text_field("signature_scheme", "hmac-sha256")
    algorithm = scheme.partition("hmac-")[2]
    if not scheme.startswith("hmac-") or algorithm not in hashlib.algorithms_available:
        raise bad(
            "signature_scheme", f"must name an HMAC digest like 'hmac-sha256', not {scheme!r}"
        )

    known = set(PORT_NAMES) | {"ip", "key", "transport", "signature_scheme"}
    extra = {k: v for k, v in data.items() if k not in known}
    return ConnectionInfo(
        **ports,
        ip=ip,
        key=key,
        transport=transport,
        signature_scheme=scheme,
        extra=extra,
        path=path,
    )


def write_connection_file(path: str | os.PathLike[str], info: ConnectionInfo) -> str:
    """Write ``info`` to ``path`` readable by the owner only (it holds the HMAC key)."""
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    # Create with 0600 from the start so the key is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump(info.to_dict(), handle, indent=1)
    return path


def _check_encodable(data: dict, where: str, path: str | None) -> None:
    """Refuse lone surrogates (JSON allows ``"\\ud800"``): they cannot be sent to ZMQ,
    printed or written back, so they would fail far from the file that holds them."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise ConnectionFileInvalid(
            f"{where} holds text that is not valid Unicode (a lone surrogate "
            f"{err.object[err.start : err.end]!a}).",
            "The file is not a usable kernel connection file; pick the file the kernel wrote.",
            path=path,
        ) from None
    except (RecursionError, ValueError):
        raise ConnectionFileInvalid(
            f"{where} nests too deeply or holds values too large for a connection file.",
            "Pick the kernel-<id>.json file the kernel wrote.",
            path=path,
        ) from None


def _read_bytes(path: str) -> bytes:
    try:
        return read_regular_file(path, MAX_FILE_SIZE)
    except NotARegularFile as err:
        hint = (
            "Pick the kernel-<id>.json file inside it."
            if err.kind == "a directory"
            else "Give the kernel-<id>.json file the kernel wrote."
        )
        raise ConnectionFileUnreadable(
            f"{path} is {err.kind}, not a connection file.", hint, path=path
        ) from None
    except (FileNotFoundError, ValueError):  # ValueError: a NUL in the name
        if os.path.islink(path):
            raise dangling_link(path) from None
        raise ConnectionFileNotFound(path, [os.path.dirname(path)]) from None
    except PermissionError:
        raise ConnectionFileUnreadable(
            f"Permission denied reading connection file {path}.",
            "Connection files are readable only by the user who started the kernel; "
            "run as that user or copy the file.",
            path=path,
        ) from None
    except IsADirectoryError:
        raise ConnectionFileUnreadable(
            f"{path} is a directory, not a connection file.",
            "Pick the kernel-<id>.json file inside it.",
            path=path,
        ) from None
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise ConnectionFileUnreadable(
            f"Cannot read connection file {path}: {reason}.", "", path=path
        ) from None
