"""Moving the bytes of one local socket <-> channel pair, with back-pressure.

Each direction keeps a buffer: what a non-blocking send could not take now is sent later,
and reading from the other side pauses meanwhile, so no byte is ever dropped and memory
stays bounded. BridgeIO is the byte-moving half of ForwardLoop (which owns the selector).

Channel -> local socket has a short path: paramiko's transport thread, which decrypts each
CHANNEL_DATA packet, sends it to the local socket itself (``feed_channel``) while nothing
is queued in that direction, instead of buffering it and waking the loop thread (a pipe
write, a thread switch and a pipe read per packet). Whatever the socket does not take at
once goes the usual way: into the channel's buffer, read by the loop thread, and the
window is only credited for bytes the socket took (back-pressure as before).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

import paramiko
from paramiko.common import cMSG_CHANNEL_WINDOW_ADJUST
from paramiko.message import Message

READ_SIZE = 256 * 1024


class Bridge:
    """One accepted local socket joined to one direct-tcpip channel."""

    def __init__(self, forward, sock: socket.socket, chan: paramiko.Channel) -> None:
        self.forward = forward
        self.sock = sock
        self.chan = chan
        self.chan_fd = chan.fileno()
        self.to_local = bytearray()  # from the channel, not yet taken by the local socket
        self.to_chan = bytearray()  # from the local socket, not yet taken by the channel
        self.local_eof = False
        self.chan_eof = False
        self.closed = False
        # The short path: True while the channel's buffer and to_local are both empty, so
        # the transport thread may send to the socket without overtaking queued bytes.
        # Changed under ``lock``, which the transport thread holds while it sends.
        self.direct = False
        self.lock = threading.Lock()
        chan.local_bridge = self  # seen by feed_channel in the transport thread

    def deliver(self, data: bytes) -> None:
        """Transport thread: one CHANNEL_DATA payload for this channel."""
        with self.lock:
            if not self.direct:
                self.chan.in_buffer.feed(data)
                return
            try:
                sent = self.sock.send(data)
            except OSError:  # full (EAGAIN), or broken: the loop thread finds out which
                sent = 0
            if sent:
                ack = self.chan._check_add_window(sent)
                if ack:
                    self.forward.post_window_adjust(self.chan, ack)
            if sent < len(data):
                self.direct = False
                self.chan.in_buffer.feed(data[sent:] if sent else data)

    def try_direct(self) -> None:
        """Loop thread, nothing left to send locally: let the transport thread send again."""
        with self.lock:
            if not self.closed and not self.to_local and not self.chan.in_buffer.read_ready():
                self.direct = True


def feed_channel(chan: paramiko.Channel, m: Message) -> None:
    """The CHANNEL_DATA handler of WatchedTransport (paramiko's Channel._feed, plus the
    short path for bridged channels)."""
    data = m.get_binary()
    bridge = getattr(chan, "local_bridge", None)
    if bridge is None:
        chan.in_buffer.feed(data)
    else:
        bridge.deliver(data)


def send_window_adjust(chan: paramiko.Channel, ack: int) -> None:
    """What Channel.recv sends after reading: credit the peer's window by ``ack`` bytes."""
    if chan.closed or not chan.active:
        return
    m = Message()
    m.add_byte(cMSG_CHANNEL_WINDOW_ADJUST)
    m.add_int(chan.remote_chanid)
    m.add_int(ack)
    with contextlib.suppress(paramiko.SSHException, OSError, EOFError):  # connection ending
        chan.transport._send_user_message(m)


class BridgeIO:
    """Selector-driven transfers; the class using it provides ``_selector``, ``_masks``
    (fd -> registered events) and ``_bridges`` (the open bridges)."""

    _selector: selectors.BaseSelector
    _masks: dict[int, int]
    _bridges: set[Bridge]

    def _read_local(self, bridge: Bridge) -> None:
        try:
            data = bridge.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            bridge.local_eof = True
            if not bridge.to_chan:
                self._finish_local_eof(bridge)
            self._update(bridge)
            return
        if not bridge.to_chan:
            try:
                sent = bridge.chan.send(data)
            except TimeoutError:
                sent = 0  # window full
            except OSError:
                self._close_bridge(bridge)
                return
            if sent == len(data):
                return  # the common case: no buffering, the registered events stay right
            data = memoryview(data)[sent:]
        bridge.to_chan += data
        self._flush_to_chan(bridge)

    def _flush_to_chan(self, bridge: Bridge) -> None:
        try:
            while bridge.to_chan:
                sent = bridge.chan.send(bytes(bridge.to_chan[:READ_SIZE]))
                if sent <= 0:
                    break
                del bridge.to_chan[:sent]
        except TimeoutError:
            pass  # window full: retried on the next loop turn
        except OSError:
            self._close_bridge(bridge)
            return
        if not bridge.to_chan and bridge.local_eof:
            self._finish_local_eof(bridge)
        self._update(bridge)

    def _finish_local_eof(self, bridge: Bridge) -> None:
        with contextlib.suppress(OSError, EOFError):
            bridge.chan.shutdown_write()
        if bridge.chan_eof and not bridge.to_local:
            self._close_bridge(bridge)

    def _read_chan(self, bridge: Bridge) -> None:
        try:
            data = bridge.chan.recv(READ_SIZE)
        except TimeoutError:
            return  # woken by the pipe before the data: nothing yet
        except (OSError, EOFError):
            data = b""
        if not data:
            bridge.chan_eof = True
            if not bridge.to_local:
                self._finish_chan_eof(bridge)
            if not bridge.closed:
                self._update(bridge)
            return
        # Channel reads are only enabled while to_local is empty: send straight from `data`
        # and buffer only what the socket did not take (no copy on the common path).
        try:
            sent = bridge.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close_bridge(bridge)
            return
        if sent < len(data):
            bridge.to_local += memoryview(data)[sent:]
        else:
            bridge.try_direct()
        self._update(bridge)

    def _flush_to_local(self, bridge: Bridge) -> None:
        try:
            while bridge.to_local:
                sent = bridge.sock.send(bridge.to_local)
                if sent <= 0:
                    break
                del bridge.to_local[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._close_bridge(bridge)
            return
        if not bridge.to_local and bridge.chan_eof:
            self._finish_chan_eof(bridge)
        if not bridge.closed:
            if not bridge.to_local:
                bridge.try_direct()
            self._update(bridge)

    def _finish_chan_eof(self, bridge: Bridge) -> None:
        # The kernel side ended: ZMQ has no use for a half-open connection, close it.
        self._close_bridge(bridge)

    def _update(self, bridge: Bridge) -> None:
        """Register exactly the events this bridge can act on now (back-pressure)."""
        if bridge.closed:
            return
        sock_mask = 0
        if not bridge.local_eof and not bridge.to_chan:
            sock_mask |= selectors.EVENT_READ
        if bridge.to_local:
            sock_mask |= selectors.EVENT_WRITE
        chan_mask = 0 if (bridge.to_local or bridge.chan_eof) else selectors.EVENT_READ
        self._set_mask(bridge.sock.fileno(), bridge.sock, sock_mask, ("sock", bridge))
        self._set_mask(bridge.chan_fd, bridge.chan_fd, chan_mask, ("chan", bridge))

    def _set_mask(self, fd: int, fileobj, mask: int, data) -> None:
        current = self._masks.get(fd, 0)
        if mask == current:
            return
        if current == 0:
            self._selector.register(fileobj, mask, data)
        elif mask == 0:
            self._selector.unregister(fileobj)
        else:
            self._selector.modify(fileobj, mask, data)
        if mask:
            self._masks[fd] = mask
        else:
            self._masks.pop(fd, None)

    def _close_bridge(self, bridge: Bridge) -> None:
        if bridge.closed:
            return
        self._set_mask(bridge.sock.fileno(), bridge.sock, 0, None)
        self._set_mask(bridge.chan_fd, bridge.chan_fd, 0, None)
        with bridge.lock:  # the transport thread is not sending to the socket
            bridge.closed = True
            bridge.direct = False
        bridge.chan.local_bridge = None
        bridge.forward.bridges.discard(bridge)
        self._bridges.discard(bridge)
        bridge.sock.close()
        bridge.chan.close()  # also closes the channel's notification pipe
