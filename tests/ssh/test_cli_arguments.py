"""Bad command lines of the SSH commands: exit 2 with one plain line, never a hang (issue 14).

A FIFO given as key file, known_hosts or remote connection file used to block for ever
(ignoring SIGTERM); /dev/zero as key file ate memory; odd host names, directories and
timeouts ended in "unexpected error" (exit 1) or a paramiko traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spyder_kernel_connect.ssh.keys import load_key
from tests.cli_helpers import first_line, run_as, start_tunnel, stop
from tests.oddfiles import valid_text

pytestmark = pytest.mark.sshd


def assert_one_line_exit_2(result, *fragments) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    (line,) = result.stderr.splitlines()
    assert line.startswith("spyder-kernel-connect")
    for fragment in fragments:
        assert fragment in line, line
    return line


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "kernel-1.json"
    path.write_text(valid_text())
    return path


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "link-to-fifo", "dev-zero", "directory"])
def test_key_file_that_is_not_a_file(sshd, ssh_home, tmp_path, spec, fifo, kind):
    path = {
        "fifo": fifo,
        "link-to-fifo": tmp_path / "link",
        "dev-zero": "/dev/zero",
        "directory": tmp_path,
    }[kind]
    if kind == "link-to-fifo":
        path.symlink_to(fifo)
    result = run_as(ssh_home, "tunnel", sshd.address, spec, "-i", path, "--timeout", "5")
    what = {"directory": "directory", "dev-zero": "character device"}.get(kind, "FIFO")
    assert_one_line_exit_2(result, "Key file", what)


def test_key_file_fifo_refused_by_the_engine_too(tmp_path, fifo):
    from spyder_kernel_connect.ssh import KeyFileError

    with pytest.raises(KeyFileError, match="FIFO"):
        load_key(str(fifo), None, "host")


@pytest.mark.parametrize("kind", ["fifo", "directory", "binary"])
def test_known_hosts_that_is_not_a_known_hosts_file(sshd, ssh_home, tmp_path, spec, fifo, kind):
    path = {"fifo": fifo, "directory": tmp_path / "dir", "binary": tmp_path / "bin"}[kind]
    if kind == "directory":
        path.mkdir()
    if kind == "binary":
        path.write_bytes(bytes(range(256)))
    args = ["-i", sshd.user_key, "--known-hosts", path, "--timeout", "5"]
    result = run_as(ssh_home, "tunnel", sshd.address, spec, *args)
    what = {"fifo": "FIFO", "directory": "directory", "binary": "binary"}[kind]
    assert_one_line_exit_2(result, "Known-hosts file", what)


def test_local_dir_that_cannot_be_a_directory(sshd, ssh_home, tmp_path, spec):
    a_file = tmp_path / "file"
    a_file.write_text("")
    for local_dir, what in [
        (a_file, "is not a directory"),
        (a_file / "sub", "not a directory"),
        (tmp_path / ("x" * 300), "too long"),
    ]:
        args = ["-i", sshd.user_key, "--known-hosts", sshd.known_hosts, "--local-dir", local_dir]
        result = run_as(ssh_home, "tunnel", sshd.address, spec, *args)
        assert_one_line_exit_2(result, "--local-dir", what)


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
@pytest.mark.parametrize("command", ["tunnel", "remote-list"])
def test_timeout_must_be_positive_and_finite(sshd, ssh_home, spec, command, value):
    args = [sshd.address, *([spec] if command == "tunnel" else []), "--timeout", value]
    result = run_as(ssh_home, command, *args)
    assert_one_line_exit_2(result, "--timeout")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["a..b", ".", "x" * 64 + ".example.org", "host..:22"])
def test_host_names_that_fail_idna(ssh_home, spec, host):
    result = run_as(ssh_home, "tunnel", host, spec, "--timeout", "5")
    assert_one_line_exit_2(result)


def test_remote_spec_naming_a_fifo_on_the_host(sshd, ssh_home, remote_dir, fifo):
    args = ["-i", sshd.user_key, "--known-hosts", sshd.known_hosts]
    args += ["--remote", "--remote-runtime-dir", remote_dir, "--timeout", "10"]
    result = run_as(ssh_home, "tunnel", sshd.address, fifo, *args)
    assert_one_line_exit_2(result, "FIFO")
    os.mkfifo(remote_dir / "kernel-77.json")  # by ID in the runtime dir, too
    result = run_as(ssh_home, "tunnel", sshd.address, "77", *args)
    assert_one_line_exit_2(result, "FIFO")


def test_passphrase_for_an_unencrypted_key_is_ignored_and_target_shown(
    sshd, ssh_home, remote_kernel, tmp_path
):
    """Like OpenSSH, a passphrase the key does not need is ignored; the "Forwarding" line
    names where the kernel really is (127.0.0.1 for a kernel listening on 0.0.0.0)."""
    data = json.loads(Path(remote_kernel.connection_file).read_text())
    wildcard = tmp_path / "kernel-wild.json"
    wildcard.write_text(json.dumps(dict(data, ip="0.0.0.0")))
    args = [sshd.address, wildcard, "-i", sshd.user_key, "--known-hosts", sshd.known_hosts]
    args += ["--local-dir", tmp_path / "local", "--passphrase-stdin"]
    process = start_tunnel(ssh_home, *args, stdin_text="not needed\n")
    try:
        path = first_line(process)
        assert os.path.isfile(path)
    finally:
        code, _out, err = stop(process)
    assert code == 0, err
    assert "to 127.0.0.1 on" in err and "0.0.0.0" not in err
    assert "passphrase" not in err.lower()


def test_remote_list_odd_files_and_dead_kernels_no_library_lines(sshd, ssh_home, remote_dir):
    """A dead kernel's probe makes paramiko log "Secsh channel N open FAILED"; a FIFO or a
    link to a good file in the host's runtime dir is one row each. Nothing else on stderr."""
    from tests.oddfiles import make_case

    (remote_dir / "kernel-dead.json").write_text(valid_text())  # nothing listens there
    make_case(remote_dir, "fifo")
    (remote_dir / "kernel-link.json").symlink_to(remote_dir / "kernel-dead.json")
    args = ["-i", sshd.user_key, "--known-hosts", sshd.known_hosts]
    args += ["--remote-runtime-dir", remote_dir, "--timeout", "10"]
    result = run_as(ssh_home, "remote-list", sshd.address, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"dead", "fifo", "link"}
    assert " dead " in rows["dead"] and " dead " in rows["link"]
    assert "unreadable: " in rows["fifo"] and "FIFO" in rows["fifo"]


def test_sigterm_while_the_host_runs_a_command(sshd, ssh_home, tmp_path):
    """`tunnel --remote` asks the host's Python for its runtime dir; a Python that hangs
    must not hold SIGTERM for the command's whole timeout."""
    marker = f"600.{os.getpid()}"  # a unique duration, to find the host-side process
    slow_python = tmp_path / "python"
    slow_python.write_text(f"#!/bin/sh\nexec sleep {marker}\n")
    slow_python.chmod(0o755)
    args = [sshd.address, "1234", "-i", sshd.user_key, "--known-hosts", sshd.known_hosts]
    process = start_tunnel(ssh_home, *args, "--remote", "--remote-python", slow_python)
    try:
        deadline = time.monotonic() + 60
        while not _processes_with(marker) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        assert _processes_with(marker), "the host never ran the command"
        code, _out, err = stop(process, signal.SIGTERM)  # a hang guard: fails after 20 s
    finally:
        for pid in _processes_with(marker):  # the host-side command this test started
            os.kill(pid, signal.SIGKILL)
    assert code == 2 and "Cancelled" in err, err
    assert len(err.splitlines()) == 1


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and b"sleep" in cmdline:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("option", ["--password-stdin", "--passphrase-stdin"])
def test_secret_from_an_endless_stdin_is_refused(ssh_home, spec, option):
    with open("/dev/zero", "rb") as zeros:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "spyder_kernel_connect",
                "tunnel",
                "me@127.0.0.1:1",
                spec,
                option,
            ],
            stdin=zeros,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, HOME=str(ssh_home)),
        )
    assert_one_line_exit_2(result, "standard input is longer than")
