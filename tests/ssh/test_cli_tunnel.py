"""`spyder-kernel-connect tunnel`, run as a user runs it, with `jupyter console --existing`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_helpers import first_line, start_tunnel, stop
from tests.ssh.conftest import execute

pytestmark = pytest.mark.sshd


def test_cli_tunnel_with_jupyter_console_then_sigterm(sshd, ssh_home, sshd_tunnel_args, tmp_path):
    process = start_tunnel(ssh_home, *sshd_tunnel_args)
    try:
        path = first_line(process)
        assert os.path.dirname(path) == str(tmp_path) and os.path.isfile(path)
        assert os.stat(path).st_mode & 0o777 == 0o600
        console = subprocess.run(
            [sys.executable, "-m", "jupyter_console", "--existing", path, "--simple-prompt"],
            input="print(6 * 7)\n",  # then EOF: the console leaves, the kernel stays
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "42" in console.stdout, (console.stdout, console.stderr)
        assert "keeping kernel alive" in console.stdout
        assert execute(path, "print('client ok')") == "client ok\n"
        connections = sshd.connection_pids()
        assert connections
    finally:
        code, out, err = stop(process, signal.SIGTERM)
    assert code == 0, err
    assert out == ""  # the path was the only stdout line, already read
    assert "Traceback" not in err
    assert not os.path.exists(path)
    deadline = time.monotonic() + 10
    while set(connections) & set(sshd.connection_pids()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(connections) & set(sshd.connection_pids())  # sshd saw us go


def test_cli_unknown_host_key_refused_then_accepted(sshd, ssh_home, sshd_tunnel_args, tmp_path):
    known_hosts = tmp_path / "new_known_hosts"
    args = [*sshd_tunnel_args[:5], known_hosts, *sshd_tunnel_args[6:]]
    refused = start_tunnel(ssh_home, *args)
    out, err = refused.communicate(timeout=30)
    code = refused.returncode
    assert code == 2 and out == ""
    assert (
        len(err.strip().splitlines()) == 1 and "unknown" in err and "--accept-new-host-key" in err
    )
    assert not known_hosts.exists()

    accepted = start_tunnel(ssh_home, *args, "--accept-new-host-key")
    path = first_line(accepted)
    code, _out, err = stop(accepted, signal.SIGINT)
    assert code == 0 and os.path.basename(path).startswith("kernel-")
    assert "Accepting new host key" in err
    assert known_hosts.read_text() == sshd.host_key_line()


def test_cli_password_stdin(sshd, sshd_password_user, ssh_home, remote_kernel, tmp_path):
    name, password = sshd_password_user
    common = [
        f"{name}@{sshd.host}:{sshd.port}",
        remote_kernel.connection_file,
        "--password-stdin",
        "--known-hosts",
        sshd.known_hosts,
        "--local-dir",
        tmp_path,
    ]
    process = start_tunnel(ssh_home, *common, stdin_text=password + "\n")
    path = first_line(process)
    assert execute(path, "print('via password')") == "via password\n"
    assert stop(process)[0] == 0

    wrong = start_tunnel(ssh_home, *common, stdin_text="not-it\n")
    code = wrong.wait(60)
    out, err = wrong.communicate()
    assert code == 2 and out == "" and "Authentication as" in err and "failed" in err
