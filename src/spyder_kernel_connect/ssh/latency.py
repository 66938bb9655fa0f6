"""Latency switches of one SSH connection: TCP_NODELAY, TCP_QUICKACK and sshd's own Nagle.

They are options (not module globals) so a benchmark can show what each one is worth by
building a TunnelManager with one of them off.
"""

from __future__ import annotations

import array
import contextlib
import socket
from dataclasses import dataclass

try:  # POSIX only; TCP_QUICKACK is Linux-only anyway
    import fcntl
    import termios
except ImportError:  # pragma: no cover - Windows
    fcntl = termios = None


# Bytes asked of the kernel per read (a burst of small packets, or part of a bulk one).
READ_AHEAD = 65536


@dataclass(frozen=True)
class LatencyOptions:
    """``tcp_nodelay``/``tcp_quickack``: on our socket; ``server_nodelay``: run one no-op
    command after login so sshd turns Nagle off on its side (removes a 40 ms stall per
    round trip); switch it off for accounts where any command has side effects (a
    ForceCommand or a ``command=`` key). ``pipelined_auth``: send a public-key login
    right behind the service request instead of waiting for its reply (one round trip
    less; off for a server that mishandles it)."""

    tcp_nodelay: bool = True
    tcp_quickack: bool = True
    server_nodelay: bool = True
    pipelined_auth: bool = True


class LowLatencySocket(socket.socket):
    """A TCP socket that reads ahead and acknowledges the end of each burst at once.

    sshd leaves Nagle on for sessions without a pty, so when it sends two small packets
    in a row it waits for our ACK of the first; Linux delays that ACK by up to 40 ms.
    Quick-ACK mode (which the kernel drops again on its own) removes that stall. It is
    re-armed only when a read drained the socket: inside a bulk transfer more data is
    queued, normal ACKs flow, and an ACK per read would only cost packets.

    paramiko reads each SSH packet in two small recv calls (its first block, then the
    rest), each a poll and a recv system call on a socket with a timeout. Reading ahead
    what the kernel holds serves a whole burst of packets from one system call.
    """

    quickack = True
    _ahead = b""  # read from the kernel, not yet returned

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        ahead = self._ahead
        if ahead and not flags:
            self._ahead = ahead[bufsize:]
            return ahead[:bufsize]
        if flags or bufsize >= READ_AHEAD:
            data = super().recv(bufsize, flags)
            if self.quickack and data and bytes_queued(self) == 0:
                set_quickack(self)
            return data
        data = super().recv(READ_AHEAD)
        # Fewer bytes than asked for: the kernel had no more (the end of a burst).
        if self.quickack and data and len(data) < READ_AHEAD:
            set_quickack(self)
        if len(data) > bufsize:
            self._ahead = data[bufsize:]
            return data[:bufsize]
        return data


def tune_socket(sock: socket.socket, options: LatencyOptions) -> None:
    """Apply ``options`` to a connected TCP socket (and keep dead peers detectable)."""
    if isinstance(sock, LowLatencySocket):
        sock.quickack = options.tcp_quickack
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(options.tcp_nodelay))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    if options.tcp_quickack:
        set_quickack(sock)


def bytes_queued(sock: socket.socket) -> int:
    if fcntl is None:
        return 0
    try:
        buffer = array.array("i", [0])
        fcntl.ioctl(sock.fileno(), termios.FIONREAD, buffer)
        return buffer[0]
    except (OSError, ValueError):
        return 0


def set_quickack(sock: socket.socket) -> None:
    if getattr(sock, "quickack", True) and hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
