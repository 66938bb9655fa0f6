"""The CLI's TCP handshake starts before its imports, only where ~/.ssh/config cannot redirect."""

from __future__ import annotations

import pytest

from spyder_kernel_connect import predial

pytestmark = pytest.mark.sshd


def test_plain_host_is_dialed_early_and_taken_by_the_engine(sshd, ssh_home):
    predial.start(["tunnel", f"{sshd.user}@127.0.0.1:{sshd.port}", "kernel.json"])
    sock = predial.take("127.0.0.1", sshd.port, 10)
    assert sock is not None
    with sock:
        assert sock.recv(64).startswith(b"SSH-2.0")  # the banner waited in the socket
    assert predial.take("127.0.0.1", sshd.port, 10) is None  # taken once


@pytest.mark.parametrize(
    ("config", "argv_tail"),
    [
        ("Host *\n    Port 2222\n", []),
        ("Host lab\n    HostName 127.0.0.1\n", []),
        ("Include other\n", []),
        ("", ["-J", "jump"]),
        ("", ["--slurm"]),
        ("", ["-F", "other-config"]),
        ("", ["--ssh-config=other-config"]),
    ],
)
def test_no_early_dial_where_the_connection_may_go_elsewhere(sshd, ssh_home, config, argv_tail):
    if config:
        (ssh_home / ".ssh" / "config").write_text(config)
    host = "lab" if "lab" in config else "127.0.0.1"
    predial.start(["tunnel", f"{host}:{sshd.port}", "kernel.json", *argv_tail])
    assert predial.take(host, sshd.port, 1) is None


def test_other_commands_and_odd_hosts_are_not_dialed(sshd, ssh_home):
    predial.start(["list"])
    predial.start(["resolve", f"127.0.0.1:{sshd.port}"])
    predial.start(["tunnel", "-i", "key", f"127.0.0.1:{sshd.port}"])
    assert predial.take("127.0.0.1", sshd.port, 1) is None


def test_engine_logs_in_over_the_early_socket(sshd, ssh_home, manager):
    predial.start(["tunnel", f"{sshd.user}@127.0.0.1:{sshd.port}"])
    early = predial._pending[("127.0.0.1", sshd.port)]
    assert early.done.wait(10) and early.sock is not None
    address = early.sock.getsockname()
    session = manager.session(sshd.target())
    assert session.transport.sock.getsockname() == address  # that connection, not a new one
    assert session.run("echo ok")[1] == "ok\n"
    assert predial.take("127.0.0.1", sshd.port, 1) is None
