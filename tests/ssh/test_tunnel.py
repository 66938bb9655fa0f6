"""Kernels through the tunnel: execute, share one connection, survive a dropped link, no leaks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import threading
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient

from spyder_kernel_connect.connection import probe_heartbeats, read_connection_file
from spyder_kernel_connect.ssh import TunnelManager, TunnelState
from tests.conftest import wait_for
from tests.ssh.conftest import execute

pytestmark = pytest.mark.sshd


def listening_addresses(port: int) -> list[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp*)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def test_execute_through_tunnel(sshd, manager, remote_kernel, tmp_path):
    tunnel = manager.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
    assert tunnel.state is TunnelState.UP
    path = tunnel.local_connection_file
    assert os.path.dirname(path) == str(tmp_path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    local = read_connection_file(path)
    remote = tunnel.remote_info
    assert local.ip == "127.0.0.1" and local.key == remote.key
    assert local.signature_scheme == remote.signature_scheme
    assert set(local.ports.values()).isdisjoint(remote.ports.values())
    for port in local.ports.values():
        assert listening_addresses(port) == ["0100007F"]  # 127.0.0.1 only
    assert execute(path, "print(6 * 7)") == "42\n"
    tunnel.close()
    assert tunnel.state is TunnelState.CLOSED
    assert not os.path.exists(path)
    assert all(listening_addresses(p) == [] for p in local.ports.values())
    assert manager.sessions == []  # last tunnel on the host closed the SSH connection


def test_two_kernels_one_authentication(sshd, manager, remote_kernel, kernel_factory, tmp_path):
    second = kernel_factory()
    before = sshd.auth_count()
    first_tunnel = manager.open_tunnel(
        sshd.target(), remote_kernel.connection_file, local_dir=tmp_path
    )
    second_tunnel = manager.open_tunnel(sshd.target(), second.connection_file, local_dir=tmp_path)
    assert sshd.auth_count() == before + 1
    assert first_tunnel.session is second_tunnel.session
    assert len(sshd.connection_pids()) > 0
    assert execute(first_tunnel.local_connection_file, "import os; print(os.getpid())") != (
        execute(second_tunnel.local_connection_file, "import os; print(os.getpid())")
    )
    first_tunnel.close()
    assert execute(second_tunnel.local_connection_file, "print('still up')") == "still up\n"
    assert manager.sessions == [second_tunnel.session]
    assert sshd.auth_count() == before + 1


def test_dropped_connection_recovers_on_same_ports(sshd, remote_kernel, tmp_path):
    events = []
    with TunnelManager(on_state=events.append, keepalive_interval=1.0) as mgr:
        tunnel = mgr.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
        ports = dict(tunnel.local_info.ports)
        client = BlockingKernelClient(connection_file=tunnel.local_connection_file)
        client.load_connection_file()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=30)
            client.execute_interactive("survivor = 41", timeout=30)
            auths = sshd.auth_count()
            assert sshd.kill_connections()  # sshd's side of the connection dies
            wait_for(lambda: TunnelState.RECONNECTING in [e.state for e in events], 15, "loss")
            wait_for(lambda: events[-1].state is TunnelState.UP, 30, "reconnect")
            # It logged in again (on a loaded machine a slow first attempt may be retried,
            # so the count can exceed one; sshd is shared by the whole session).
            assert sshd.auth_count() >= auths + 1
            assert tunnel.local_info.ports == ports
            assert read_connection_file(tunnel.local_connection_file).ports == ports
            # The same client, with no action: ZMQ reconnects to the same local ports. Wait
            # until shell *and* iopub are back (what a console's kernel_info check does), or
            # a reply could come before iopub resubscribed and its output be missed.
            client.wait_for_ready(timeout=60)
            out = []
            reply = client.execute_interactive(
                "print(survivor + 1)",
                timeout=60,
                output_hook=lambda m: out.append(m["content"].get("text", "")),
            )
            assert reply["content"]["status"] == "ok"
            assert "".join(out) == "42\n"
        finally:
            client.stop_channels()
    assert [e.state for e in events][-1] is TunnelState.CLOSED
    assert "reconnecting" in " ".join(e.message for e in events).lower()


def test_keepalive_detects_silent_peer(sshd, remote_kernel, tmp_path):
    """A peer that stops answering (frozen, not closed) is found by the keepalive round trip."""
    events = []
    with TunnelManager(on_state=events.append, keepalive_interval=0.5, keepalive_timeout=2) as mgr:
        tunnel = mgr.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
        frozen = sshd.kill_connections(signal.SIGSTOP)
        try:
            wait_for(lambda: TunnelState.RECONNECTING in [e.state for e in events], 15, "loss")
            wait_for(lambda: events[-1].state is TunnelState.UP, 30, "reconnect")
        finally:
            for pid in frozen:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        assert execute(tunnel.local_connection_file, "print('alive')") == "alive\n"


def test_open_close_cycles_leak_nothing(sshd, remote_kernel, tmp_path):
    def cycle(mgr):
        tunnel = mgr.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
        assert probe_heartbeats([tunnel.local_info], timeout=10) == [True]
        tunnel.close()

    with TunnelManager() as mgr:
        cycle(mgr)  # warm-up: imports, zmq's context threads
        threads = {t.ident for t in threading.enumerate()}
        fds = len(os.listdir("/proc/self/fd"))
        for _ in range(100):
            cycle(mgr)
        assert mgr.sessions == [] and mgr.tunnels == []
    wait_for(lambda: {t.ident for t in threading.enumerate()} <= threads, 10, "threads to end")
    assert len(os.listdir("/proc/self/fd")) <= fds
    assert list(tmp_path.glob("kernel-*.json")) == []


def test_20_mb_of_output_byte_exact(sshd, manager, remote_kernel, tmp_path):
    tunnel = manager.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
    code = (
        "import sys\n"
        "for i in range(200_000):\n"
        "    sys.stdout.write(f'{i:08d} ' + 'abcdefghij' * 9 + '\\n')\n"
    )
    expected = "".join(f"{i:08d} " + "abcdefghij" * 9 + "\n" for i in range(200_000))
    assert len(expected) == 20_000_000
    out = execute(tunnel.local_connection_file, code, timeout=240)
    assert len(out) == len(expected)
    assert hashlib.sha256(out.encode()).hexdigest() == hashlib.sha256(expected.encode()).hexdigest()


def test_open_forward_for_heartbeat_probes(sshd, manager, remote_kernel):
    session = manager.session(sshd.target())
    info = read_connection_file(remote_kernel.connection_file)
    forward = session.open_forward("127.0.0.1", info.hb_port)
    assert listening_addresses(forward.local_port) == ["0100007F"]
    with socket.create_connection(("127.0.0.1", forward.local_port), timeout=10):
        pass
    local = type(info)(*(forward.local_port,) * 5, key=info.key)
    assert probe_heartbeats([local], timeout=10) == [True]
    forward.close()
    assert listening_addresses(forward.local_port) == []


def test_large_input_crosses_full_ssh_windows(sshd, manager, remote_kernel, tmp_path):
    """6 MB from client to kernel: more than sshd's 2 MB channel window, sent without loss."""
    tunnel = manager.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
    payload = os.urandom(3_000_000).hex()
    code = f"import hashlib\nprint(hashlib.sha256({payload!r}.encode()).hexdigest())"
    out = execute(tunnel.local_connection_file, code, timeout=120)
    assert out == hashlib.sha256(payload.encode()).hexdigest() + "\n"
