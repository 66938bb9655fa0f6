"""Jump-host chains and ProxyCommand through three real sshd: bastion → login → target."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from jupyter_client import BlockingKernelClient

from spyder_kernel_connect.ssh import (
    AuthenticationFailed,
    HostKeyDecision,
    HostKeyRejected,
    ProxyCommandFailed,
    SSHError,
    TunnelManager,
    TunnelState,
)
from tests.conftest import wait_for
from tests.ssh.conftest import execute

pytestmark = pytest.mark.sshd


class Decider:
    """Accepts (once) only the host keys it is told to; records every question."""

    def __init__(self, *ports):
        self.ports = set(ports)
        self.asked = []

    def __call__(self, info):
        self.asked.append((info.hostname, info.port))
        return HostKeyDecision.ACCEPT_ONCE if info.port in self.ports else HostKeyDecision.REJECT


def chain_manager(decider, **kwargs) -> TunnelManager:
    return TunnelManager(
        host_key_decider=decider, keepalive_interval=1.0, keepalive_timeout=5.0, **kwargs
    )


def accepted_users(server) -> list[str]:
    return [
        line.split(" for ")[1].split()[0]
        for line in server.log_text().splitlines()
        if line.startswith("Accepted publickey for ")
    ]


def test_config_chain_each_hop_its_own_user_key_and_host_key(chain, remote_kernel, tmp_path):
    decider = Decider(chain.login.port)
    with chain_manager(decider) as manager:
        tunnel = manager.open_tunnel(
            chain.ssh_target(), remote_kernel.connection_file, local_dir=tmp_path
        )
        assert execute(tunnel.local_connection_file, "print(6 * 7)") == "42\n"
        # Only the middle hop's key was unknown, and it was asked about once.
        assert decider.asked == [("127.0.0.1", chain.login.port)]
        assert len(manager.sessions) == 3
        assert tunnel.session.label == f"{chain.users['target']}@127.0.0.1:{chain.target.port}"
    for hop in ("bastion", "login", "target"):
        assert chain.users[hop] in accepted_users(getattr(chain, hop))


def test_jump_option_like_ssh_J(chain, remote_kernel, tmp_path):
    decider = Decider(chain.login.port)
    with chain_manager(decider) as manager:
        target = chain.ssh_target("target-direct", jump="bastion,login")
        tunnel = manager.open_tunnel(target, remote_kernel.connection_file, local_dir=tmp_path)
        assert execute(tunnel.local_connection_file, "print('via -J')") == "via -J\n"
        assert decider.asked == [("127.0.0.1", chain.login.port)]
        # Listing, starting and SFTP ride on the same login: no new session appears.
        session = manager.session(target)
        assert session is tunnel.session and len(manager.sessions) == 3
        assert str(chain.target.directory.name) in session.sftp().listdir(
            str(chain.target.directory.parent)
        )


def key_fingerprint(path) -> str:
    """``SHA256:…`` of a key file, as sshd logs it (OpenSSH's own ssh-keygen says it)."""
    out = subprocess.run(["ssh-keygen", "-lf", str(path)], capture_output=True, text=True)
    return out.stdout.split()[1]


def test_key_given_with_i_goes_to_the_target_only(chain):
    """``-i k -J bastion,login``: as OpenSSH (whose jump ``ssh -W`` gets no ``-i``), each
    jump host logs in with its own config entry's key; k is never offered to them."""
    given = key_fingerprint(chain.target.user_key)
    before = {hop: len(getattr(chain, hop).log_text()) for hop in ("bastion", "login", "target")}
    target = chain.ssh_target(
        "127.0.0.1",
        port=chain.target.port,
        user=chain.users["target"],
        identity_file=str(chain.target.user_key),
        jump="bastion,login",
    )
    with chain_manager(Decider(chain.login.port)) as manager:
        assert manager.session(target).run("echo through")[1] == "through\n"
    logs = {hop: getattr(chain, hop).log_text()[start:] for hop, start in before.items()}
    assert f"Accepted publickey for {chain.users['target']}" in logs["target"]
    assert given in logs["target"]
    for hop in ("bastion", "login"):
        assert f"Accepted publickey for {chain.users[hop]}" in logs[hop]
        assert given not in logs[hop], logs[hop]  # not even offered and refused


def test_jump_option_none_connects_directly(chain):
    with chain_manager(Decider()) as manager:
        session = manager.session(chain.ssh_target("target", jump="none"))
        assert session.run("echo direct")[1] == "direct\n" and len(manager.sessions) == 1


def test_proxycommand_hop_through_openssh(chain, remote_kernel, tmp_path):
    with chain_manager(Decider()) as manager:
        target = chain.ssh_target("target-via-command")
        tunnel = manager.open_tunnel(target, remote_kernel.connection_file, local_dir=tmp_path)
        assert execute(tunnel.local_connection_file, "print('proxied')") == "proxied\n"
        assert type(tunnel.session.transport.sock).__name__ == "ProxyCommandSocket"
        assert len(manager.sessions) == 1


def test_proxycommand_failure_says_why(chain):
    with chain_manager(Decider()) as manager, pytest.raises(ProxyCommandFailed) as caught:
        manager.session(chain.ssh_target("target-via-failing-command"))
    message = str(caught.value)
    assert "exited with 255" in message and "no route to lab" in message
    assert manager.sessions == []


def test_failing_jump_host_is_named(chain):
    with chain_manager(Decider()) as manager, pytest.raises(AuthenticationFailed) as caught:
        manager.session(chain.ssh_target("target-behind-wrong-key"))
    assert str(caught.value).startswith("Jump host bastion-wrong-key: Authentication as")


def test_unknown_middle_host_key_refused_names_the_hop(chain):
    with chain_manager(Decider()) as manager, pytest.raises(HostKeyRejected) as caught:
        manager.session(chain.ssh_target())
    assert str(caught.value).startswith("Jump host login: The host key of")
    assert f":{chain.login.port}" in str(caught.value)


def test_proxyjump_loop_is_an_error_not_a_hang(chain):
    with (
        chain_manager(Decider()) as manager,
        pytest.raises(SSHError, match="jump hosts of loop loop"),
    ):
        manager.session(chain.ssh_target("loop"))


def test_20_mb_byte_exact_through_three_hops(chain, remote_kernel, tmp_path):
    """20 MB of kernel output through bastion → login → target, hashed as it arrives (kept
    whole, it would grow this test process for the rest of the session)."""
    line = "abcdefghij" * 9 + "\n"
    expected = hashlib.sha256()
    for i in range(200_000):
        expected.update(f"{i:08d} {line}".encode())
    received, size = hashlib.sha256(), 0

    def hash_stdout(msg):
        nonlocal size
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            data = msg["content"]["text"].encode()
            received.update(data)
            size += len(data)

    with chain_manager(Decider(chain.login.port)) as manager:
        tunnel = manager.open_tunnel(
            chain.ssh_target(), remote_kernel.connection_file, local_dir=tmp_path
        )
        code = (
            "import sys\n"
            "for i in range(200_000):\n"
            f"    sys.stdout.write(f'{{i:08d}} ' + {line!r})\n"
        )
        client = BlockingKernelClient(connection_file=tunnel.local_connection_file)
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            reply = client.execute_interactive(code, timeout=280, output_hook=hash_stdout)
        finally:
            client.stop_channels()
    assert reply["content"]["status"] == "ok"
    assert size == 20_000_000
    assert received.digest() == expected.digest()


def test_dropped_middle_hop_reconnects(chain, remote_kernel, tmp_path):
    states = []
    with chain_manager(Decider(chain.login.port), on_state=states.append) as manager:
        tunnel = manager.open_tunnel(
            chain.ssh_target(), remote_kernel.connection_file, local_dir=tmp_path
        )
        ports = tunnel.local_ports
        assert execute(tunnel.local_connection_file, "print('before')") == "before\n"
        chain.login.kill_connections()
        login_label = f"{chain.users['login']}@127.0.0.1:{chain.login.port}"
        wait_for(
            lambda: any(
                s.host == login_label and s.state is TunnelState.RECONNECTING for s in states
            ),
            timeout=90,
        )
        wait_for(lambda: all(s.state is TunnelState.UP for s in manager.sessions), timeout=90)
        assert execute(tunnel.local_connection_file, "print('after')", timeout=120) == "after\n"
        assert tunnel.local_ports == ports
