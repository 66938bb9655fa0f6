"""Kernels on the SSH host: runtime dir, listing, fetching and starting, against real sshd.

The "remote" host is this machine seen through the sshd fixture; its runtime dir is a temp
dir the tests point the remote side at, as a user would with the runtime-dir override.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from spyder_kernel_connect.connection import AmbiguousConnectionSpec, ConnectionFileNotFound
from spyder_kernel_connect.ssh import Cancelled
from spyder_kernel_connect.ssh.remote import (
    RemoteKernelStartFailed,
    RemotePythonMissing,
    RemoteSpyderKernelsMissing,
    check_remote_python,
    list_remote_kernels,
    platform_runtime_dir,
    read_remote_connection_file,
    remote_runtime_dir,
    resolve_remote_spec,
    start_remote_kernel,
    stop_remote_kernel,
)
from tests.conftest import process_alive
from tests.ssh.conftest import execute

pytestmark = pytest.mark.sshd


@pytest.fixture
def session(sshd, manager):
    return manager.session(sshd.target())


@pytest.fixture
def kill_later():
    """PIDs of kernels started on the 'remote' side; killed at teardown whatever happens."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_platform_default_runtime_dirs():
    assert (
        platform_runtime_dir("Linux", "", "", "/home/a") == "/home/a/.local/share/jupyter/runtime"
    )
    assert platform_runtime_dir("Linux", "", "/x/data", "/home/a") == "/x/data/jupyter/runtime"
    assert platform_runtime_dir("Darwin", "", "", "/Users/a") == "/Users/a/Library/Jupyter/runtime"
    assert platform_runtime_dir("Linux", "/run/j", "/x", "/home/a") == "/run/j"


def test_runtime_dir_from_remote_jupyter_core_and_fallbacks(session):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG"))}
    env["HOME"] = os.path.expanduser("~root") if os.geteuid() == 0 else env["HOME"]
    expected = subprocess.run(
        [sys.executable, "-c", "import jupyter_core.paths as p; print(p.jupyter_runtime_dir())"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert remote_runtime_dir(session, sys.executable) == expected
    # No such interpreter and no `jupyter` on sshd's PATH: the platform default.
    home = session.sftp().normalize(".")
    fallback = remote_runtime_dir(session, "/nonexistent/python3")
    assert fallback == f"{home}/.local/share/jupyter/runtime"
    assert remote_runtime_dir(session, override="/srv/rt") == "/srv/rt"
    assert remote_runtime_dir(session, override="~/rt") == f"{home}/rt"


def test_list_shows_live_dead_and_malformed_with_reason(session, kernel_factory, remote_dir):
    km = kernel_factory(kernel_id="7001", directory=remote_dir)
    with open(km.connection_file) as handle:
        dead = json.load(handle)
    for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"):
        dead[name] = 9  # the discard port: nothing listens there
    (remote_dir / "kernel-dead.json").write_text(json.dumps(dead))
    os.utime(remote_dir / "kernel-dead.json", (time.time() - 600, time.time() - 600))
    (remote_dir / "kernel-broken.json").write_text('{"shell_port": 1,')
    (remote_dir / "notes.txt").write_text("not a kernel")

    entries = {e.kernel_id: e for e in list_remote_kernels(session, str(remote_dir), timeout=1.0)}
    assert set(entries) == {"7001", "dead", "broken"}
    assert entries["7001"].alive is True and entries["7001"].kernel_name == "python3"
    assert entries["dead"].alive is False
    assert entries["broken"].alive is None and "not valid JSON" in entries["broken"].error
    order = [e.kernel_id for e in list_remote_kernels(session, str(remote_dir), probe=False)]
    assert order[-1] == "dead"  # newest first
    assert list_remote_kernels(session, str(remote_dir / "missing")) == []


def test_resolve_remote_spec_uses_the_local_rules(session, remote_dir):
    for name in ("kernel-1234.json", "kernel-12399.json", "remote.json"):
        (remote_dir / name).write_text("{}")
    rd = str(remote_dir)
    assert resolve_remote_spec(session, "1234", rd) == f"{rd}/kernel-1234.json"
    assert resolve_remote_spec(session, "remote.json", rd) == f"{rd}/remote.json"
    assert resolve_remote_spec(session, "1239", rd) == f"{rd}/kernel-12399.json"  # partial ID
    with pytest.raises(AmbiguousConnectionSpec):
        resolve_remote_spec(session, "12", rd)
    with pytest.raises(ConnectionFileNotFound, match=rd):
        resolve_remote_spec(session, "999", rd)
    assert resolve_remote_spec(session, f"{rd}/remote.json", "/elsewhere") == f"{rd}/remote.json"


def test_remote_file_is_read_into_memory_then_tunnel_executes(
    sshd, manager, session, kernel_factory, remote_dir, ssh_home
):
    """The kernel's key is never copied to disk on this side except in the tunnel's file."""
    km = kernel_factory(kernel_id="7002", directory=remote_dir)
    remote_path = resolve_remote_spec(session, "7002", str(remote_dir))
    info = read_remote_connection_file(session, remote_path)
    assert info.path == remote_path
    assert info.key == km.session.key.decode()
    tunnel = manager.open_tunnel(sshd.target(), info)
    assert execute(tunnel.local_connection_file, "print(6 * 7)") == "42\n"
    assert not (ssh_home / ".cache" / "spyder-kernel-connect").exists()


def test_start_kernel_connect_and_it_outlives_ssh(sshd, manager, remote_dir, kill_later):
    session = manager.session(sshd.target())
    started = start_remote_kernel(session, sys.executable, runtime_dir=str(remote_dir))
    kill_later.append(started.pid)
    assert started.remote_path.startswith(str(remote_dir))
    assert stat.S_IMODE(os.stat(started.remote_path).st_mode) & 0o077 == 0
    tunnel = manager.open_tunnel(sshd.target(), started.info)
    assert execute(tunnel.local_connection_file, "import os; print(os.getpid())") == (
        f"{started.pid}\n"
    )

    manager.close_all()  # the SSH connection goes away...
    sshd.kill_connections()
    time.sleep(1.0)
    assert process_alive(started.pid)  # ...the kernel stays

    with type(manager)() as fresh:
        again = fresh.session(sshd.target())
        entries = list_remote_kernels(again, str(remote_dir))
        assert [(e.path, e.alive) for e in entries] == [(started.remote_path, True)]
        stop_remote_kernel(again, started)
    deadline = time.monotonic() + 10
    while process_alive(started.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(started.pid)
    assert not os.path.exists(started.remote_path)


def test_missing_spyder_kernels_says_what_to_install(session, python_without_spyder_kernels):
    python = python_without_spyder_kernels
    with pytest.raises(RemoteSpyderKernelsMissing) as info:
        check_remote_python(session, python)
    assert f"{python} -m pip install spyder-kernels" in str(info.value)
    with pytest.raises(RemoteSpyderKernelsMissing):
        start_remote_kernel(session, python, runtime_dir="/tmp")


def test_missing_interpreter(session):
    with pytest.raises(RemotePythonMissing, match="was not found"):
        check_remote_python(session, "/nonexistent/bin/python3")


def test_kernel_that_dies_at_start_reports_its_log(session, remote_dir, tmp_path):
    fake = tmp_path / "python-that-crashes"
    fake.write_text(
        f'#!/bin/sh\nif [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi\n'
        'echo "ImportError: broken environment" >&2\nexit 3\n'
    )
    fake.chmod(0o755)
    with pytest.raises(RemoteKernelStartFailed, match="broken environment"):
        start_remote_kernel(session, str(fake), runtime_dir=str(remote_dir), timeout=30)


def test_cancel_while_waiting_for_a_start_stops_the_kernel(session, remote_dir, tmp_path):
    """Cancel from a GUI: the call returns promptly and leaves no process behind."""
    slow = tmp_path / "python-that-hangs"
    pid_file = tmp_path / "hanging.pid"
    slow.write_text(
        f'#!/bin/sh\nif [ "$1" = "-c" ]; then exec {sys.executable} "$@"; fi\n'
        f"echo $$ > {pid_file}\nexec sleep 300\n"
    )
    slow.chmod(0o755)
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        start_remote_kernel(session, str(slow), runtime_dir=str(remote_dir), cancel=cancel)
    assert time.monotonic() - started < 20  # not the 60 s start timeout
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(pid)
