"""Real kernels for the UMR tests: plain ipykernel, spyder-kernels, and one without this package."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from jupyter_client import KernelManager

SRC_DIR = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(autouse=True)
def _bytecode_as_users_have_it(monkeypatch):
    """Kernels and imports write .pyc files, as on a user's machine.

    Some environments set PYTHONDONTWRITEBYTECODE; with it, a stale .pyc (same size, same
    second) could never be read, and a reload that loaded old bytecode would go unseen.
    """
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


class Kernel:
    """A started kernel plus a blocking client; ``run`` returns what the cell printed."""

    def __init__(self, km: KernelManager, workdir: Path) -> None:
        self.km = km
        self.workdir = workdir
        self.client = km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, silent: bool = False, timeout: float = 60) -> Result:
        streams = {"stdout": [], "stderr": []}
        errors = []

        def on_output(msg):
            kind = msg["msg_type"]
            if kind == "stream":
                streams[msg["content"]["name"]].append(msg["content"]["text"])
            elif kind == "error":
                errors.append("\n".join(msg["content"]["traceback"]))
            elif kind in ("execute_result", "display_data"):
                streams["stdout"].append(msg["content"]["data"].get("text/plain", "") + "\n")

        reply = self.client.execute_interactive(
            textwrap.dedent(code), silent=silent, timeout=timeout, output_hook=on_output
        )
        return Result("".join(streams["stdout"]), "".join(streams["stderr"]), errors, reply)

    def write(self, relpath: str, text: str, mtime: float | None = None) -> Path:
        """Write a user file; ``mtime`` pins its timestamp (to fake a coarse filesystem)."""
        path = self.workdir / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    def close(self) -> None:
        self.client.stop_channels()
        if self.km.has_kernel:
            self.km.shutdown_kernel(now=True)
        self.km.cleanup_resources()


class Result:
    def __init__(self, stdout: str, stderr: str, errors: list, reply: dict) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.errors = errors
        self.reply = reply

    @property
    def listed(self) -> list:
        """Entries of the 'Reloaded modules:' line ("a (patched)", "b"), [] if there was none."""
        for line in self.stdout.splitlines():
            if "Reloaded modules: " in line:
                names = line.split("Reloaded modules: ", 1)[1].replace("\x1b[0m", "")
                return [name.strip() for name in names.split(",")]
        return []

    @property
    def reloaded(self) -> list:
        """Module names of the 'Reloaded modules:' line, patched or not."""
        return [name.removesuffix(" (patched)") for name in self.listed]

    @property
    def patched(self) -> list:
        """Module names the red line marks "(patched)": updated in place, nothing re-ran."""
        return [name[: -len(" (patched)")] for name in self.listed if name.endswith(" (patched)")]

    def __repr__(self) -> str:
        return f"Result(stdout={self.stdout!r}, stderr={self.stderr!r}, errors={self.errors!r})"


@pytest.fixture
def start_umr_kernel(runtime_dir, tmp_path):
    """Start kernels whose cwd and sys.path[0] is a fresh work dir; all killed at teardown."""
    started: list[Kernel] = []

    def start(argv: list | None = None, env: dict | None = None, setup: str = "") -> Kernel:
        workdir = tmp_path / f"work-{len(started)}"
        workdir.mkdir()
        connection_file = str(runtime_dir / f"kernel-{uuid.uuid4().hex[:12]}.json")
        km = KernelManager(connection_file=connection_file, kernel_name="python3")
        km.kernel_spec.argv[:] = argv or [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ]
        km.start_kernel(env=dict(os.environ, **(env or {})), cwd=str(workdir))
        kernel = Kernel(km, workdir)
        started.append(kernel)
        kernel.run(f"import sys, os; sys.path.insert(0, {str(workdir)!r})\n{setup}")
        return kernel

    yield start
    for kernel in started:
        kernel.close()


@pytest.fixture
def umr_kernel(start_umr_kernel):
    """An ipykernel with the UMR loaded the documented way."""
    kernel = start_umr_kernel()
    result = kernel.run("%load_ext spyder_kernel_connect.umr")
    assert not result.errors, result
    return kernel
