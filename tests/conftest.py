"""Shared fixtures: an isolated Jupyter runtime dir and real ipykernel kernels."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from jupyter_client import KernelManager

pytest_plugins = ["tests.sshd", "tests.sshd_otp", "tests.sshd_chain", "tests.slurm"]


def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds (never a hang)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs; a zombie is dead too (/proc tells, child or not)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    """A private Jupyter runtime dir, so tests never see (or touch) the user's kernels."""
    path = tmp_path / "runtime"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(path))
    return path


@pytest.fixture
def remote_dir(tmp_path):
    """The "remote" host's runtime dir (the host is this machine through the sshd fixture);
    tests point the runtime-dir override at it, as a user would."""
    path = tmp_path / "remote-runtime"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def python_without_spyder_kernels() -> str:
    """An interpreter lacking spyder-kernels (Debian's own python3), for the install hint."""
    python = "/usr/bin/python3"
    if not os.path.exists(python) or (
        subprocess.run([python, "-c", "import spyder_kernels"], capture_output=True).returncode == 0
    ):
        pytest.skip(f"needs a Python without spyder-kernels at {python}")
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_kernel_file():
    """Write a well-formed connection file whose kernel is gone (nothing listens on its
    ports): ``dead_kernel_file(directory, kernel_id)`` returns its path."""

    def write(directory, kernel_id: str) -> str:
        path = os.path.join(str(directory), f"kernel-{kernel_id}.json")
        ports = {name: free_port() for name in ("shell_port", "iopub_port", "stdin_port")}
        ports.update(control_port=free_port(), hb_port=free_port())
        with open(path, "w") as handle:
            json.dump({**ports, "ip": "127.0.0.1", "key": "k", "transport": "tcp"}, handle)
        return path

    return write


class DictBacking:
    """Stands where Spyder's config keeps the presets: JSON-able data, copied on read."""

    def __init__(self) -> None:
        self.data: dict = {}

    def read(self) -> dict:
        return json.loads(json.dumps(self.data))

    def write(self, data: dict) -> None:
        self.data = json.loads(json.dumps(data))


@pytest.fixture
def preset_backing() -> DictBacking:
    return DictBacking()


@pytest.fixture
def keyring_file(tmp_path):
    """A real file keyring in tmp, handed to the secret store explicitly for this test
    (never installed as keyring's default, so Spyder started by ``./dev run`` never uses it)."""
    from tests.keyrings import file_keyring

    with file_keyring(tmp_path / "keyring.cfg") as backend:
        yield backend


@pytest.fixture
def without_keyring():
    from tests.keyrings import no_keyring

    with no_keyring():
        yield


def start_kernel(
    connection_file: str, extra_env: dict | None = None, module: str = "ipykernel_launcher"
) -> KernelManager:
    """Start a real kernel (``python -m <module>``) writing ``connection_file``; wait until
    it answers. ``module="spyder_kernels.console"`` starts one as the guide tells users to."""
    env = dict(os.environ, **(extra_env or {}))
    km = KernelManager(connection_file=connection_file, kernel_name="python3")
    # Use this interpreter, not whatever `python3` the kernelspec would find on PATH.
    km.kernel_spec.argv[:] = [sys.executable, "-m", module, "-f", "{connection_file}"]
    km.start_kernel(env=env)
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
    finally:
        client.stop_channels()
    return km


def stop_kernel(km: KernelManager) -> None:
    if km.has_kernel:
        km.shutdown_kernel(now=True)
    km.cleanup_resources()


@pytest.fixture
def kernel_factory(runtime_dir):
    """Start real kernels in ``runtime_dir``; every one is killed at teardown by its PID."""
    started: list[KernelManager] = []

    def factory(kernel_id: str | None = None, directory=None, **kwargs) -> KernelManager:
        kernel_id = kernel_id or uuid.uuid4().hex[:12]
        path = os.path.join(str(directory or runtime_dir), f"kernel-{kernel_id}.json")
        km = start_kernel(path, **kwargs)
        started.append(km)
        return km

    yield factory
    for km in started:
        stop_kernel(km)


@pytest.fixture
def local_kernel(kernel_factory):
    """One running kernel with a numeric ID, as ``python -m spyder_kernels.console`` names them."""
    return kernel_factory(kernel_id=str(40000 + os.getpid() % 20000))
