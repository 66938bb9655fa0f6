"""A channel open waiting for the server never holds up the bytes of other forwards.

A second kernel's forward is opened while the first kernel's console is busy; its channel
open cannot complete (sshd's connect to the port hangs: the port's listen queue is full,
so the SYN is dropped and retried), and the first kernel must keep answering meanwhile.
"""

from __future__ import annotations

import socket

import paramiko
import pytest
from jupyter_client import BlockingKernelClient

from tests.conftest import wait_for

pytestmark = pytest.mark.sshd


def test_pending_channel_open_does_not_stall_other_forwards(sshd, manager, remote_kernel, tmp_path):
    tunnel = manager.open_tunnel(sshd.target(), remote_kernel.connection_file, local_dir=tmp_path)
    session = tunnel.session
    client = BlockingKernelClient(connection_file=tunnel.local_connection_file)
    client.load_connection_file()
    client.start_channels()
    slow = socket.socket()
    filler = pending = None
    try:
        client.wait_for_ready(timeout=30)
        # A port whose only queue slot is taken: sshd's connect to it stays in progress.
        slow.bind(("127.0.0.1", 0))
        slow.listen(0)
        filler = socket.create_connection(slow.getsockname(), timeout=10)
        forward = session.open_forward("127.0.0.1", slow.getsockname()[1])
        pending = socket.create_connection(("127.0.0.1", forward.local_port), timeout=10)
        wait_for(lambda: session.opens_in_flight == 1, 10, "the channel open to start")

        # The first kernel's forwards still carry bytes both ways, several round trips.
        for i in range(5):
            out = []
            reply = client.execute_interactive(
                f"print({i} * 7)",
                timeout=60,
                output_hook=lambda m, out=out: out.append(m["content"].get("text", "")),
            )
            assert reply["content"]["status"] == "ok"
            assert "".join(out) == f"{i * 7}\n"
        # ... while the other open was still waiting (a loop blocked by it would only
        # have moved them after the open timed out, and refused the pending connection).
        assert session.opens_in_flight == 1
        pending.setblocking(False)
        with pytest.raises(BlockingIOError):
            pending.recv(1)

        # Free the queue: sshd's retried connect succeeds and the pending connection works.
        slow.accept()[0].close()
        slow.settimeout(30)
        server_side, _ = slow.accept()
        with server_side:
            pending.setblocking(True)
            pending.settimeout(30)
            pending.sendall(b"ping")
            assert server_side.recv(4) == b"ping"
            server_side.sendall(b"pong")
            assert pending.recv(4) == b"pong"
        assert session.opens_in_flight == 0
    finally:
        client.stop_channels()
        for sock in (filler, pending, slow):
            if sock is not None:
                sock.close()


def test_one_flight_of_opens_gives_each_request_its_own_result(sshd, manager):
    """open_channels: listening ports get working channels, a closed port its refusal, in
    the order asked (the requests leave together, the replies come in any order)."""
    from spyder_kernel_connect.ssh.channel_open import open_channels

    session = manager.session(sshd.target())
    listeners = []
    for _ in range(3):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listeners.append(listener)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: the connect is refused
    ports = [listeners[0], closed, listeners[1], listeners[2]]
    requests = [("127.0.0.1", s.getsockname()[1], 40000 + i) for i, s in enumerate(ports)]
    try:
        results = open_channels(session.transport, requests, timeout=30)
        assert [chan is None for chan, _error in results] == [False, True, False, False]
        assert isinstance(results[1][1], paramiko.ChannelException)
        for listener, (chan, error) in zip(
            listeners, [results[0], results[2], results[3]], strict=True
        ):
            assert error is None
            conn, _ = listener.accept()
            with conn:
                chan.settimeout(30)
                chan.sendall(b"to %d" % listener.getsockname()[1])
                assert conn.recv(64) == b"to %d" % listener.getsockname()[1]
                conn.sendall(b"back")
                assert chan.recv(4) == b"back"
            chan.close()
        assert session.run("echo still fine", timeout=120)[1] == "still fine\n"
    finally:
        for sock in (*listeners, closed):
            sock.close()
