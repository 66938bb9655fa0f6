"""Authentication and connection errors against a real sshd: each failure its own error."""

from __future__ import annotations

import socket
import threading
import time

import paramiko
import pytest

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.ssh import (
    AuthenticationFailed,
    Cancelled,
    ConnectionRefused,
    ConnectTimeout,
    HostNotFound,
    KernelUnreachable,
    KeyFileError,
    KeyPassphraseRequired,
    KeyPassphraseWrong,
    LatencyOptions,
    SSHError,
    SSHProtocolError,
    SSHTarget,
    TunnelManager,
)
from tests.sshd import KEY_PASSPHRASE, free_port, keygen

pytestmark = pytest.mark.sshd


def test_key_auth_runs_commands_and_sftp(sshd, manager):
    session = manager.session(sshd.target())
    status, out, err = session.run("echo hello; echo oops >&2; exit 3", timeout=20)
    assert (status, out, err) == (3, "hello\n", "oops\n")
    sftp = session.sftp()
    assert sftp is session.sftp()  # cached
    assert "sshd_config" in sftp.listdir(str(sshd.directory))


def test_a_command_reads_its_stdin_to_the_end(sshd, manager):
    session = manager.session(sshd.target())
    data = b"".join(b"line %d\n" % i for i in range(20000))  # larger than one window packet
    status, out, _err = session.run("wc -l; echo done >&2", timeout=20, stdin=data)
    assert (status, out.strip()) == (0, "20000")


def test_key_with_passphrase(sshd, manager):
    target = sshd.target(identity_file=str(sshd.passphrase_key), passphrase=KEY_PASSPHRASE)
    assert manager.session(target).run("echo ok")[1] == "ok\n"


def test_encrypted_key_without_passphrase_says_so(sshd, manager):
    with pytest.raises(KeyPassphraseRequired, match="encrypted"):
        manager.session(sshd.target(identity_file=str(sshd.passphrase_key)))


def test_wrong_passphrase_is_not_a_server_error(sshd, manager):
    target = sshd.target(identity_file=str(sshd.passphrase_key), passphrase="nope")
    with pytest.raises(KeyPassphraseWrong, match="passphrase"):
        manager.session(target)


def test_missing_key_file(sshd, manager, tmp_path):
    with pytest.raises(KeyFileError, match="does not exist"):
        manager.session(sshd.target(identity_file=str(tmp_path / "absent")))


def test_unauthorized_key_is_refused(sshd, manager, tmp_path):
    stranger = keygen(tmp_path / "stranger")
    before = sshd.auth_count()
    with pytest.raises(AuthenticationFailed, match=r"tried: key .*stranger") as info:
        manager.session(sshd.target(identity_file=str(stranger)))
    assert isinstance(info.value, SSHError) and isinstance(info.value, KernelConnectError)
    assert sshd.auth_count() == before


def test_password_auth(sshd, sshd_password_user, manager):
    name, password = sshd_password_user
    target = sshd.target(user=name, identity_file=None, password=password)
    status, out, _err = manager.session(target).run("id -un")
    assert (status, out) == (0, f"{name}\n")
    assert f"Accepted password for {name}" in sshd.log_text()


def test_wrong_password(sshd, sshd_password_user, manager):
    name, _password = sshd_password_user
    target = sshd.target(user=name, identity_file=None, password="wrong-password")
    started = time.monotonic()
    with pytest.raises(AuthenticationFailed, match="tried: password"):
        manager.session(target)
    assert time.monotonic() - started < target.connect_timeout + 5


def test_no_credentials_at_all_fails_without_prompting(sshd, manager):
    with pytest.raises(AuthenticationFailed, match="no key, agent or password"):
        manager.session(sshd.target(identity_file=None))


def test_closed_port(manager, sshd):
    with pytest.raises(ConnectionRefused, match="refused"):
        manager.session(sshd.target(port=free_port()))


def test_unknown_host_name(manager, sshd):
    with pytest.raises(HostNotFound, match="not found"):
        manager.session(sshd.target(host="no-such-host.invalid"))


@pytest.fixture
def silent_server():
    """A port that accepts TCP but never sends an SSH banner (a hung or filtered server)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_timeout_within_connect_timeout(manager, sshd, silent_server):
    started = time.monotonic()
    with pytest.raises(ConnectTimeout, match=r"Timed out after 1\.5 s"):
        manager.session(sshd.target(port=silent_server, connect_timeout=1.5))
    assert time.monotonic() - started < 5


def test_cancel_aborts_promptly(manager, sshd, silent_server):
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        manager.session(sshd.target(port=silent_server, connect_timeout=30), cancel=cancel)
    assert time.monotonic() - started < 5


def test_not_an_ssh_server(manager, sshd):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def answer():
            conn, _ = server.accept()
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            conn.close()

        thread = threading.Thread(target=answer)
        thread.start()
        with pytest.raises(SSHProtocolError, match="handshake"):
            manager.session(sshd.target(port=server.getsockname()[1]))
        thread.join()


def test_dead_kernel_port_is_a_clear_error(sshd, manager, tmp_path):
    from spyder_kernel_connect.connection import ConnectionInfo

    dead = free_port()
    info = ConnectionInfo(dead, dead, dead, dead, dead, key="k")
    with pytest.raises(KernelUnreachable, match=f"127.0.0.1:{dead}"):
        manager.open_tunnel(sshd.target(), info, local_dir=tmp_path / "files")
    assert manager.sessions == [] and list((tmp_path / "files").glob("*")) == []


def test_ssh_config_alias_and_proxyjump(sshd, ssh_home, tmp_path):
    """~/.ssh/config: alias → HostName/Port/User/IdentityFile, through a ProxyJump host."""
    (ssh_home / ".ssh" / "config").write_text(
        f"""\
Host jumpbox
    HostName {sshd.host}
    Port {sshd.port}
    User {sshd.user}
    IdentityFile {sshd.user_key}
Host inner
    HostName {sshd.host}
    Port {sshd.port}
    User {sshd.user}
    IdentityFile {sshd.user_key}
    ProxyJump jumpbox
"""
    )
    target = SSHTarget("inner", known_hosts=str(sshd.known_hosts), use_agent=False)
    connections_before = set(sshd.connection_pids())
    with TunnelManager() as mgr:
        session = mgr.session(target)
        assert session.label == f"{sshd.user}@{sshd.host}:{sshd.port}"
        assert session.run("echo via-jump")[1] == "via-jump\n"
        # The jump host is a session of its own, and the target's transport rides inside it.
        assert len(mgr.sessions) == 2
        assert isinstance(session.transport.sock, paramiko.Channel)
    # Closing must not leave either connection behind (nor reconnect the inner one through
    # a new jump session while closing).
    deadline = time.monotonic() + 10
    while set(sshd.connection_pids()) - connections_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(sshd.connection_pids()) - connections_before


def test_target_parse():
    target = SSHTarget.parse("me@example.org:2222", identity_file="k")
    assert (target.user, target.host, target.port, target.identity_file) == (
        "me",
        "example.org",
        2222,
        "k",
    )
    assert SSHTarget.parse("[::1]:22").host == "::1"
    with pytest.raises(SSHError, match="not a valid SSH target"):
        SSHTarget.parse("a@b@c:x")


def test_server_nodelay_command_can_be_switched_off(sshd):
    """The one no-op command after login (sshd then sets TCP_NODELAY) is optional."""

    def commands_logged() -> int:
        return sshd.log_text().count("Starting session: command")

    for enabled, expected in ((True, 1), (False, 0)):
        before = commands_logged()
        with TunnelManager(latency=LatencyOptions(server_nodelay=enabled)) as mgr:
            mgr.session(sshd.target())
        deadline = time.monotonic() + 5
        while commands_logged() - before < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert commands_logged() - before == expected


def test_pipelined_public_key_login_and_its_switch(sshd):
    """The key login goes right behind the service request (one round trip less); the
    LatencyOptions switch restores paramiko's wait for the reply. Both log in."""
    from spyder_kernel_connect.ssh.connect import _PipelinedAuthHandler

    for pipelined in (True, False):
        latency = LatencyOptions(pipelined_auth=pipelined)
        with TunnelManager(latency=latency) as mgr:
            session = mgr.session(sshd.target())
            handler = session.transport.auth_handler
            assert isinstance(handler, _PipelinedAuthHandler) is pipelined
            assert session.run("echo in")[1] == "in\n"
