"""Hostile or silent servers end in one typed error, never a traceback (issues 11.1 and 14).

A "black hole" (accept, then silence) is left by cancel or by the timeout; the others
(closing at once, garbage, an endless banner line, bad or huge packets) by their own
failure. Engine level: nothing reaches threading.excepthook or the application's logging
handlers. CLI level: exit code 2, exactly one line on stderr, bounded memory; SIGTERM
while connecting ends the command at once.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from spyder_kernel_connect.ssh import Cancelled, ConnectTimeout, SSHError, SSHTarget, TunnelManager
from tests.hostile import BEHAVIOURS, hostile_server, known_hosts_line
from tests.oddfiles import valid_text

# Peak memory allowed for the whole CLI process (Python + paramiko + zmq load ~60 MB).
MAX_RSS_MB = 200


def target(port: int, home, timeout: float = 2.0) -> SSHTarget:
    return SSHTarget(
        host="127.0.0.1",
        port=port,
        user="nobody",
        known_hosts=str(home / "known_hosts"),
        use_agent=False,
        look_for_keys=False,
        ssh_config=str(home / "no-config"),
        connect_timeout=timeout,
    )


@pytest.fixture
def thread_errors(monkeypatch):
    """Whatever reaches threading.excepthook (Spyder's internal-error window) or sys.excepthook."""
    caught: list = []
    monkeypatch.setattr(threading, "excepthook", lambda args: caught.append(args.exc_value))
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc[1]))
    return caught


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def library_records():
    """Records of paramiko that reach an application's root handler (Spyder's stderr)."""
    handler = _Collect()
    logging.getLogger().addHandler(handler)
    yield lambda: [r for r in handler.records if r.name.startswith("paramiko")]
    logging.getLogger().removeHandler(handler)


def settle() -> None:
    """Give paramiko's own thread time to finish (and log or raise) after our error."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        t.name.startswith("paramiko") or "Transport" in type(t).__name__
        for t in threading.enumerate()
        if t is not threading.current_thread() and t.is_alive()
    ):
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_black_hole_cancel_and_timeout_end_in_our_error_only(
    ssh_home, thread_errors, library_records, how
):
    cancel = threading.Event()
    with hostile_server("black-hole") as port, TunnelManager() as manager:
        if how == "cancel":
            threading.Timer(0.5, cancel.set).start()
        expected = Cancelled if how == "cancel" else ConnectTimeout
        with pytest.raises(expected):
            manager.session(target(port, ssh_home, timeout=2.0), cancel=cancel)
        settle()
    assert thread_errors == []
    assert library_records() == []


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_server_stalling_authentication_cancel_and_timeout(
    ssh_home, thread_errors, library_records, how
):
    """Past the key exchange and the host key check, the server never answers a login."""
    cancel = threading.Event()
    with hostile_server("stalling-auth") as port, TunnelManager() as manager:
        (ssh_home / "known_hosts").write_text(known_hosts_line(port))
        if how == "cancel":
            threading.Timer(1.0, cancel.set).start()
        expected = Cancelled if how == "cancel" else ConnectTimeout
        with pytest.raises(expected):
            login = dataclasses.replace(target(port, ssh_home, timeout=3.0), password="x")
            manager.session(login, cancel=cancel)
        settle()
    assert thread_errors == []
    assert library_records() == []


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_hostile_server_is_one_typed_error(ssh_home, thread_errors, library_records, behaviour):
    with hostile_server(behaviour) as port, TunnelManager() as manager:
        with pytest.raises(SSHError) as caught:
            manager.session(target(port, ssh_home, timeout=3.0))
        settle()
    assert "\n" not in str(caught.value)
    assert thread_errors == []
    assert library_records() == []


# A small parent that forks the command and reports the command's own peak RSS: Linux
# counts a child's memory from its fork, so a child forked straight from this (large)
# test process would report the test process's size. SIGTERM is passed on.
MEASURE = """
import os, signal, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "spyder_kernel_connect", *sys.argv[2:]])
signal.signal(signal.SIGTERM, lambda sig, frame: os.kill(pid, sig))
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def run_cli_measured(args, home, sig_after: float | None = None):
    """Run the command; return (exit code, stdout, stderr, its own peak RSS in MB)."""
    env = dict(os.environ, HOME=str(home))
    env.pop("SSH_AUTH_SOCK", None)
    rss_file = home / "peak-rss-kb"
    process = subprocess.Popen(
        [sys.executable, "-c", MEASURE, str(rss_file), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=str(home),
    )
    if sig_after is not None:
        time.sleep(sig_after)
        process.send_signal(signal.SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=60)  # a hang fails, never blocks
    except subprocess.TimeoutExpired:
        process.kill()
        _out, stderr = process.communicate()
        pytest.fail(f"{args} did not end within 60 s: {stderr.decode(errors='replace')}")
    peak = int(rss_file.read_text()) / 1024
    return process.returncode, stdout.decode(), stderr.decode(errors="replace"), peak


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
@pytest.mark.parametrize("command", ["tunnel", "remote-list"])
def test_cli_against_hostile_server_exits_2_with_one_line(ssh_home, behaviour, command):
    spec = ssh_home / "kernel-1.json"
    spec.write_text(valid_text())
    with hostile_server(behaviour) as port:
        args = [command, f"nobody@127.0.0.1:{port}", "--timeout", "3"]
        args += [str(spec)] if command == "tunnel" else []
        code, stdout, stderr, peak = run_cli_measured(args, ssh_home)
    assert code == 2, stderr
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("spyder-kernel-connect: error: ")
    assert peak < MAX_RSS_MB


def test_cli_debug_shows_library_logging(ssh_home):
    with hostile_server("garbage") as port:
        args = ["--debug", "remote-list", f"nobody@127.0.0.1:{port}", "--timeout", "3"]
        code, _out, stderr, _peak = run_cli_measured(args, ssh_home)
    assert code == 2
    assert "paramiko.transport" in stderr and "banner" in stderr


@pytest.mark.parametrize("command", ["tunnel", "remote-list"])
def test_sigterm_while_connecting_ends_the_command(ssh_home, command):
    spec = ssh_home / "kernel-1.json"
    spec.write_text(valid_text())
    with hostile_server("black-hole") as port:
        args = [command, f"nobody@127.0.0.1:{port}", "--timeout", "600"]
        args += [str(spec)] if command == "tunnel" else []
        code, _stdout, stderr, _peak = run_cli_measured(args, ssh_home, sig_after=1.5)
    assert code in (2, 130, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) <= 1, stderr
