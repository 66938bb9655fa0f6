"""Channel data handed to a local socket straight from paramiko's transport thread.

While nothing is queued, the transport thread sends each packet to the local socket itself
(bridge.py's short path); when the local reader stops, what the socket cannot take must
wait in the channel's buffer, the SSH window must close (so memory stays bounded), and every
byte must arrive in order once the reader resumes.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time

import pytest

from spyder_kernel_connect.ssh.connect import WINDOW_SIZE
from tests.conftest import wait_for

pytestmark = pytest.mark.sshd

TOTAL = 40_000_000  # five times our channel window


def pattern(offset: int, size: int) -> bytes:
    """The stream's bytes [offset, offset + size): position-dependent, so any loss,
    duplicate or reordering changes the digest."""
    block = b"".join(b"%015d\n" % i for i in range(offset // 16, (offset + size) // 16 + 2))
    start = offset % 16
    return block[start : start + size]


def serve_stream(listener: socket.socket, done: threading.Event) -> None:
    conn, _ = listener.accept()
    with conn:
        sent = 0
        while sent < TOTAL:
            chunk = pattern(sent, min(256 * 1024, TOTAL - sent))
            conn.sendall(chunk)
            sent += len(chunk)
    done.set()


def test_a_stalled_reader_closes_the_window_and_loses_nothing(sshd, manager):
    session = manager.session(sshd.target())
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    served = threading.Event()
    server = threading.Thread(target=serve_stream, args=(listener, served), daemon=True)
    server.start()
    forward = session.open_forward("127.0.0.1", listener.getsockname()[1])
    reader = socket.create_connection(("127.0.0.1", forward.local_port), timeout=60)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    try:
        digest = hashlib.sha256()
        got = reader.recv(65536)
        digest.update(got)
        received = len(got)

        # Stall: the local socket fills, the rest queues in the channel, the window closes.
        wait_for(lambda: len(forward.bridges) == 1, 10, "the bridge")
        (bridge,) = forward.bridges
        queued = 0
        for _ in range(20):
            time.sleep(0.1)
            # Bytes move from the channel's buffer to the bridge's queue: look at the queue
            # first, so a chunk moving between the two looks is never counted twice.
            to_local = len(bridge.to_local)
            queued = max(queued, to_local + len(bridge.chan.in_buffer._buffer))
        assert not served.is_set()  # the sender is held back by the closed window
        assert 0 < queued <= WINDOW_SIZE + 65536
        assert not bridge.direct  # bytes are queued: the transport thread must not overtake

        # Resume: every byte, in order.
        while received < TOTAL:
            got = reader.recv(1 << 20)
            assert got, f"stream ended after {received} of {TOTAL} bytes"
            digest.update(got)
            received += len(got)
        assert served.wait(30)
        assert received == TOTAL
        assert digest.hexdigest() == hashlib.sha256(pattern(0, TOTAL)).hexdigest()
    finally:
        reader.close()
        listener.close()
        server.join(30)
        forward.close()
