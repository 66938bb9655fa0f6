"""Tiny TCP servers that are not (good) SSH servers: one behaviour each, on 127.0.0.1.

Used by the hostile-server tests (issue 14) and the cancel/timeout tests (issue 11 item 1):
the client must end with one typed error, in bounded time and memory, with no traceback.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator

BANNER = b"SSH-2.0-OpenSSH_9.6 hostile\r\n"


def _black_hole(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()  # accept, then silence


def _close_at_once(conn: socket.socket, stop: threading.Event) -> None:
    conn.close()


def _garbage(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(os.urandom(4096))
    stop.wait()


def _endless_banner(conn: socket.socket, stop: threading.Event) -> None:
    """One banner line that never ends (no newline), as fast as the client takes it."""
    conn.sendall(b"SSH-2.0-")
    chunk = b"x" * 65536
    while not stop.is_set():
        conn.sendall(chunk)


def _many_lines(conn: socket.socket, stop: threading.Event) -> None:
    """Text lines before a banner that never comes (RFC 4253 allows some lines first)."""
    while not stop.is_set():
        conn.sendall(b"hello, this is not ssh\r\n" * 1000)


def _bad_packet(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(BANNER + struct.pack(">I", 7) + b"\x00" * 7)  # too short to be a packet
    stop.wait()


def _huge_packet(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(BANNER + struct.pack(">I", 0xFFFFFFF0) + b"\x04" + b"\x00" * 64)
    stop.wait()


def _banner_then_reset(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(BANNER)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST in the middle of the key exchange


class _StallingAuth:
    """A real SSH server (paramiko's) that completes the key exchange, then never answers
    an authentication request: the step after the host key check."""

    key = None  # one throw-away host key per test session, made when first needed

    @classmethod
    def host_key(cls):
        import paramiko

        if cls.key is None:
            cls.key = paramiko.ECDSAKey.generate()
        return cls.key


def _stalling_auth(conn: socket.socket, stop: threading.Event) -> None:
    import paramiko

    class Stall(paramiko.ServerInterface):
        def get_allowed_auths(self, username):
            return "publickey,password"

        def check_auth_none(self, username):
            stop.wait()
            return paramiko.AUTH_FAILED

        check_auth_password = check_auth_publickey = lambda self, *args: (
            stop.wait() and paramiko.AUTH_FAILED
        )

    transport = paramiko.Transport(conn)
    transport.add_server_key(_StallingAuth.host_key())
    try:
        transport.start_server(server=Stall())
        stop.wait()
    finally:
        transport.close()


def known_hosts_line(port: int) -> str:
    """Trust the stalling server's key, so a client gets as far as authentication."""
    key = _StallingAuth.host_key()
    return f"[127.0.0.1]:{port} {key.get_name()} {key.get_base64()}\n"


BEHAVIOURS: dict[str, Callable[[socket.socket, threading.Event], None]] = {
    "black-hole": _black_hole,
    "close-at-once": _close_at_once,
    "garbage": _garbage,
    "endless-banner": _endless_banner,
    "many-lines": _many_lines,
    "bad-packet": _bad_packet,
    "huge-packet": _huge_packet,
    "banner-then-reset": _banner_then_reset,
    "stalling-auth": _stalling_auth,
}


@contextlib.contextmanager
def hostile_server(behaviour: str) -> Iterator[int]:
    """Serve ``behaviour`` to every connection on a free port; yield the port."""
    handler = BEHAVIOURS[behaviour]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve(conn: socket.socket) -> None:
        # EOFError: paramiko's server side when the client hangs up inside the key exchange
        # (it rejected the host key): the server's end, not an error of the client.
        with contextlib.suppress(OSError, EOFError):
            handler(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, name=f"hostile-{behaviour}", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        thread.join(5)
