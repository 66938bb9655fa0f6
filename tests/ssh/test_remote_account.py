"""The connection never disturbs the remote account: its rc files run to the end, every time.

sshd runs our one no-op command (for its TCP_NODELAY) through the user's login shell, and
Debian's bash reads ~/.bashrc for it. A throwaway account whose .bashrc prints, pauses,
prints more than a pipe holds and appends "begin"/"end" markers shows whether the shell
was cut off (no "end"), left running (a process of the account after close), or its
output dropped.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from spyder_kernel_connect.ssh import TunnelManager, TunnelState
from tests.conftest import wait_for

pytestmark = pytest.mark.sshd

BASHRC = """\
echo begin >> "$HOME/markers"
echo "rc file says hello"
sleep 0.5
head -c 300000 /dev/zero | tr '\\0' x
echo
echo end >> "$HOME/markers"
"""


@pytest.fixture
def rc_account(sshd):
    """(name, password, home) of a local bash account whose .bashrc writes markers; root only."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("bash"):
        pytest.skip("creating a throwaway account needs root, useradd and bash")
    name = f"skcrc{secrets.randbelow(10**6)}"
    password = secrets.token_urlsafe(12)
    # Not under pytest's tmp_path: its parents are 0700, the account could not enter.
    parent = Path(tempfile.mkdtemp(prefix="skc-account-"))
    os.chmod(parent, 0o755)
    home = parent / name
    subprocess.run(
        ["useradd", "-M", "-d", str(home), "-s", shutil.which("bash"), name],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            ["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True
        )
        home.mkdir(mode=0o755)
        (home / ".bashrc").write_text(BASHRC)
        uid = pwd.getpwnam(name).pw_uid
        for path in (home, home / ".bashrc"):
            os.chown(path, uid, -1)
        yield name, password, home
    finally:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        subprocess.run(["userdel", "-f", name], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


def markers(home) -> str:
    path = home / "markers"
    return path.read_text() if path.exists() else ""


def account_processes(name: str) -> list[str]:
    """Processes running as the account (sshd's per-connection child included)."""
    result = subprocess.run(["pgrep", "-a", "-u", name], capture_output=True, text=True)
    return result.stdout.splitlines()


def test_rc_file_runs_to_the_end_on_connect_reconnect_and_quick_close(sshd, rc_account):
    name, password, home = rc_account
    target = sshd.target(user=name, identity_file=None, password=password)
    events = []
    with TunnelManager(on_state=events.append, keepalive_interval=1.0) as mgr:
        session = mgr.session(target)
        nodelay = session.transport.nodelay
        assert nodelay is not None
        assert nodelay.wait(30), "the no-op command did not finish"
        # Its shell ran the whole .bashrc and we read what it printed.
        assert nodelay.exit_status == 0
        assert nodelay.output.startswith(b"rc file says hello\nxxx")
        assert markers(home) == "begin\nend\n"

        sshd.kill_connections()  # reconnect: the new login runs the no-op again
        wait_for(lambda: TunnelState.RECONNECTING in [e.state for e in events], 15, "loss")
        wait_for(lambda: events[-1].state is TunnelState.UP, 30, "reconnect")
        assert session.transport.nodelay.wait(30)
        assert markers(home) == "begin\nend\n" * 2

    # Connect and close at once, while the .bashrc still sleeps: it still finishes.
    with TunnelManager() as mgr:
        mgr.session(target)
    assert markers(home) == "begin\nend\n" * 3
    # Nothing of the account is left running (no orphaned shell or rc-file child).
    deadline = time.monotonic() + 10
    while account_processes(name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert account_processes(name) == []
