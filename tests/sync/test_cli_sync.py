"""`spyder-kernel-connect sync`, run as a user runs it: one-shot, conflicts, --watch."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.cli_helpers import run_cli, start_cli
from tests.sync.conftest import tree, write

pytestmark = pytest.mark.sshd


def sync_args(sshd, *args) -> list:
    return [
        "sync",
        sshd.address,
        "-i",
        str(sshd.user_key),
        "--known-hosts",
        str(sshd.known_hosts),
        *args,
    ]


def state_env(tmp_path) -> dict:
    """The sync record of pushed files lives under XDG_STATE_HOME: one per test."""
    return dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"))


def run_sync(sshd, ssh_home, tmp_path, *args) -> subprocess.CompletedProcess:
    return run_cli(*sync_args(sshd, *args), home=ssh_home, env=state_env(tmp_path))


def test_one_shot_sync_then_only_changes(sshd, ssh_home, project, host_dir, tmp_path):
    write(project / "a.py", "A = 1\n")
    write(project / "pkg" / "b.py", "B = 1\n")
    write(project / "__pycache__" / "a.cpython-311.pyc", b"\0")
    first = run_sync(sshd, ssh_home, tmp_path, project, host_dir)
    assert first.returncode == 0, first.stderr
    assert "2 pushed, 0 unchanged" in first.stderr
    assert tree(host_dir) == {"a.py": b"A = 1\n", "pkg/b.py": b"B = 1\n"}

    write(project / "a.py", "A = 2222\n")
    second = run_sync(sshd, ssh_home, tmp_path, project, host_dir)
    assert second.returncode == 0, second.stderr
    assert "1 pushed, 1 unchanged" in second.stderr
    assert (host_dir / "a.py").read_text() == "A = 2222\n"


def test_conflicts_exit_2_with_the_way_out_and_overwrite_keeps_theirs_aside(
    sshd, ssh_home, project, host_dir, tmp_path
):
    write(project / "a.py", "A = 1\n")
    assert run_sync(sshd, ssh_home, tmp_path, project, host_dir).returncode == 0
    write(host_dir / "a.py", "A = 'edited on the host'\n")
    write(project / "a.py", "A = 2\n")

    refused = run_sync(sshd, ssh_home, tmp_path, project, host_dir)
    assert refused.returncode == 2
    assert "left on the host (changed there): a.py" in refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("spyder-kernel-connect: error: 1 file(s) changed on the host")
    assert "--overwrite" in last
    assert "Traceback" not in refused.stderr
    assert (host_dir / "a.py").read_text() == "A = 'edited on the host'\n"

    forced = run_sync(sshd, ssh_home, tmp_path, project, host_dir, "--overwrite")
    assert forced.returncode == 0, forced.stderr
    assert (host_dir / "a.py").read_text() == "A = 2\n"
    (aside,) = [p for p in host_dir.iterdir() if p.name.startswith("a.py.remote-")]
    assert aside.read_text() == "A = 'edited on the host'\n"


def test_bad_folders_are_one_line_errors(sshd, ssh_home, project, tmp_path):
    missing = run_sync(sshd, ssh_home, tmp_path, tmp_path / "nope", "/tmp/x")
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    relative = run_sync(sshd, ssh_home, tmp_path, project, "relative/dir")
    assert relative.returncode == 2
    assert relative.stderr.count("\n") == 1 and "neither absolute nor under ~" in relative.stderr


def test_watch_pushes_each_save_until_sigint(sshd, ssh_home, project, host_dir, tmp_path):
    write(project / "a.py", "A = 1\n")
    process = start_cli(
        *sync_args(sshd, project, host_dir, "--watch", "--interval", "0.1"),
        home=ssh_home,
        env=state_env(tmp_path),
    )
    try:
        for _ in range(600):
            if (host_dir / "a.py").exists():
                break
            time.sleep(0.1)
        write(project / "a.py", "A = 'saved while watching'\n")
        for _ in range(600):
            if (host_dir / "a.py").read_text() == "A = 'saved while watching'\n":
                break
            time.sleep(0.1)
        assert (host_dir / "a.py").read_text() == "A = 'saved while watching'\n"
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Pushed a.py" in err
    assert "Traceback" not in err
