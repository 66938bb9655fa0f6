"""Opening several direct-tcpip channels in one flight: their requests leave in one TCP
segment, so the server answers them all in one go.

paramiko's ``open_channel`` sends one request and waits for its reply; five of them from
five threads leave as five segments. A server that reads the first before the others
arrive answers it alone, and its next answers then wait behind Nagle's algorithm (sshd
turns it off only later, see nodelay.py) for our ACK of the first: one more round trip
for the whole batch. Here the requests are built like ``open_channel`` builds them, sent
with the socket corked, then awaited together.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import paramiko
from paramiko.common import cMSG_CHANNEL_OPEN
from paramiko.message import Message

from spyder_kernel_connect.ssh import errors

LOCALHOST = "127.0.0.1"

# (remote host, remote port, local port the connection comes from)
Request = tuple[str, int, int]


def open_channels(
    transport: paramiko.Transport, requests: list[Request], timeout: float
) -> list[tuple[paramiko.Channel | None, Exception | None]]:
    """(channel, None) or (None, the exception) per request, in order; one round trip."""
    if not transport.is_active():
        return [(None, paramiko.SSHException("SSH session not active"))] * len(requests)
    pending = []
    with _corked(transport.sock):
        for host, port, local_port in requests:
            chan, event, message = _prepare(transport, host, port, local_port)
            transport._send_user_message(message)
            pending.append((chan, event))  # the transport holds channels weakly: keep them
    deadline = time.monotonic() + timeout
    return [_wait(transport, chan, event, deadline) for chan, event in pending]


def _prepare(transport: paramiko.Transport, host: str, port: int, local_port: int):
    """What paramiko's open_channel does before sending (its own lock, ids, window)."""
    with transport.lock:
        window_size = transport._sanitize_window_size(None)
        max_packet_size = transport._sanitize_packet_size(None)
        chanid = transport._next_channel()
        m = Message()
        m.add_byte(cMSG_CHANNEL_OPEN)
        m.add_string("direct-tcpip")
        m.add_int(chanid)
        m.add_int(window_size)
        m.add_int(max_packet_size)
        m.add_string(host)
        m.add_int(port)
        m.add_string(LOCALHOST)
        m.add_int(local_port)
        chan = paramiko.Channel(chanid)
        transport._channels.put(chanid, chan)
        transport.channel_events[chanid] = event = threading.Event()
        transport.channels_seen[chanid] = True
        chan._set_transport(transport)
        chan._set_window(window_size, max_packet_size)
    return chan, event, m


def _wait(transport: paramiko.Transport, chan, event: threading.Event, deadline: float):
    while not event.wait(0.1):
        if not transport.is_active():
            return None, transport.get_exception() or paramiko.SSHException("Connection lost.")
        if time.monotonic() > deadline:  # as open_channel: a late reply opens it unused
            return None, paramiko.SSHException("Timeout opening channel.")
    if transport._channels.get(chan.chanid) is chan:
        return chan, None
    # Refused. paramiko keeps one "last exception" per transport, so with several opens
    # failing at once only one finds its own: the others get the same kind of error.
    error = transport.get_exception()
    if not isinstance(error, paramiko.ChannelException):
        error = paramiko.ChannelException(2, "Connect failed")
    return None, error


def open_error(label: str, host: str, port: int, err: Exception) -> errors.SSHError:
    """The user's error for a failed open of a forward to host:port on ``label``."""
    if isinstance(err, paramiko.ChannelException):
        return errors.KernelUnreachable(
            f"{label} cannot connect to {host}:{port} ({err.text or 'connect failed'}).",
            "Is the kernel still running there, and is its connection file current?",
            host=label,
        )
    return errors.SSHError(f"Cannot open a forward on {label}: {err}.", host=label)


@contextlib.contextmanager
def _corked(sock):
    cork = getattr(socket, "TCP_CORK", None)
    if cork is None or not isinstance(sock, socket.socket):
        yield  # e.g. a jump host's channel: its messages go out one by one
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, cork, 0)  # sends what was held
