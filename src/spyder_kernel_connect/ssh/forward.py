"""Local port forwarding over one SSH connection, served by one selector loop.

One thread per SSH connection moves the bytes of every forward of every kernel on that
host (instead of paramiko's demo design: one thread per socket, `send` without checking
how much was sent); the transfers themselves, with back-pressure, are in bridge.py.

Opening a channel takes a round trip, so it never happens in the loop thread: a small pool
of opener threads does it while the loop keeps moving the bytes of every other connection.
A new kernel's five channels are opened in one flight (channel_open.py) before its ports
are handed out (``preopen``: one round trip, also the check that the host reaches the
kernel) and given to the first local connection of each port.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import paramiko

from spyder_kernel_connect.ssh.bridge import Bridge, BridgeIO, send_window_adjust
from spyder_kernel_connect.ssh.channel_open import LOCALHOST, open_channels

log = logging.getLogger(__name__)

CHANNEL_OPEN_TIMEOUT = 10.0
# How often a pending channel write is retried while the peer's window is full
# (a channel has no fd that signals "writable").
WINDOW_RETRY = 0.002
# Channel opens in flight at once per connection (a kernel has five ports).
OPENERS = 8
# Local connections accepted while the SSH connection is down wait for it (no ZMQ retry
# delay after a reconnect), at most this many per port; more are refused.
MAX_WAITING = 16
# A pre-opened channel older than this is not handed out: ZMQ closes connections whose
# handshake does not start within 30 s, so the kernel may have dropped it.
PARKED_MAX_AGE = 20.0


class Forward:
    """A local listener on 127.0.0.1 forwarding to remote_host:remote_port via SSH."""

    def __init__(self, loop: ForwardLoop, sock: socket.socket, remote: tuple[str, int]) -> None:
        self._loop = loop
        self.sock = sock
        self.local_port: int = sock.getsockname()[1]
        self.remote_host, self.remote_port = remote
        self.bridges: set[Bridge] = set()
        self.parked: list[tuple[paramiko.Channel, float]] = []  # pre-opened, with open time
        self.waiting: list[socket.socket] = []  # accepted while the SSH connection is down
        self.closed = False

    def post_window_adjust(self, chan: paramiko.Channel, ack: int) -> None:
        """Transport thread: have the loop thread credit ``chan``'s window (a send from the
        transport thread itself could wait for a key exchange only that thread can finish)."""
        self._loop.post(send_window_adjust, chan, ack)

    def close(self) -> None:
        """Stop listening and cut this forward's connections (idempotent, any thread)."""
        self._loop.call(self._loop._remove_forward, self)

    def __repr__(self) -> str:
        return f"<Forward {LOCALHOST}:{self.local_port} -> {self.remote_host}:{self.remote_port}>"


class ForwardLoop(BridgeIO):
    """The selector thread of one SSH connection; ``transport_getter`` gives the live one."""

    def __init__(self, name: str, transport_getter: Callable[[], paramiko.Transport | None]):
        self._transport = transport_getter
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, ("wake", None))
        self._calls: list[tuple[Callable, tuple, threading.Event]] = []
        self._lock = threading.Lock()
        self._forwards: set[Forward] = set()
        self._bridges: set[Bridge] = set()
        self._masks: dict[int, int] = {}
        self._stopping = False
        self._in_flight: set[socket.socket] = set()  # local sockets whose channel is opening
        self._openers = ThreadPoolExecutor(OPENERS, thread_name_prefix=f"ssh-open-{name}")
        self._thread = threading.Thread(target=self._run, name=f"ssh-forward-{name}", daemon=True)
        self._thread.start()

    # -- API (any thread) ---------------------------------------------------------------

    def add_forward(self, remote_host: str, remote_port: int, local_port: int = 0) -> Forward:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOCALHOST, local_port))  # loopback only, never all interfaces
            sock.listen(64)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        forward = Forward(self, sock, (remote_host, remote_port))
        self.call(self._add_forward, forward)
        return forward

    def preopen(self, forwards: list[Forward], timeout: float = CHANNEL_OPEN_TIMEOUT) -> list:
        """Open one channel per forward, all in one flight; park each for the port's first
        client. Returns, per forward, None or the exception its open raised (the caller
        decides what an unreachable port means). Blocks the calling thread for one round
        trip.
        """
        transport = self._transport()
        if transport is None:
            return [None] * len(forwards)
        results = _open_batch(transport, forwards, timeout)
        errors = []
        for forward, (chan, error) in zip(forwards, results, strict=True):
            if chan is not None:
                self.call(self._park, forward, chan, transport)
            errors.append(error)
        return errors

    def drop_connections(self) -> None:
        """Cut every bridged connection (the SSH connection died); listeners stay."""
        self.call(self._drop_all_bridges)

    def resume(self) -> None:
        """The SSH connection is back: open channels for the connections that waited."""
        self.post(self._open_waiting)

    def post(self, func: Callable, *args) -> bool:
        """Queue ``func(*args)`` for the loop thread without waiting; False once stopped."""
        with self._lock:
            if self._stopping:
                return False
            self._calls.append((func, args, None))
        self._wake()
        return True

    def call(self, func: Callable, *args) -> None:
        """Run ``func(*args)`` in the loop thread and wait for it (or run inline if stopped)."""
        if threading.current_thread() is self._thread:
            func(*args)
            return
        done = threading.Event()
        with self._lock:
            if self._stopping:
                return
            self._calls.append((func, args, done))
        self._wake()
        done.wait()

    def stop(self) -> None:
        """Close every forward and bridge, end the thread, release every fd."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("stop() from the loop thread")
        with self._lock:
            self._stopping = True
        self._wake()
        self._thread.join()
        # Openers still waiting for a reply end when the transport closes (join_openers).
        self._openers.shutdown(wait=False, cancel_futures=True)

    def join_openers(self) -> None:
        """Wait for the opener threads (after stop() and after the transport closed)."""
        self._openers.shutdown(wait=True, cancel_futures=True)

    @property
    def forwards(self) -> list[Forward]:
        return list(self._forwards)

    @property
    def opens_in_flight(self) -> int:
        """Local connections whose channel open is waiting for the server's reply."""
        return len(self._in_flight)

    # -- loop thread --------------------------------------------------------------------

    def _wake(self) -> None:
        # A full buffer means it is awake already; a closed one that it is shutting down.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        try:
            while True:
                pending = any(b.to_chan for b in self._bridges)
                events = self._selector.select(WINDOW_RETRY if pending else None)
                for key, mask in events:
                    kind, obj = key.data
                    if kind == "wake":
                        self._drain_wake()
                    elif kind == "listen":
                        self._accept(obj)
                    elif kind == "sock":
                        if obj.closed:
                            continue
                        if mask & selectors.EVENT_WRITE:
                            self._flush_to_local(obj)
                        if mask & selectors.EVENT_READ and not obj.closed:
                            self._read_local(obj)
                    elif kind == "chan" and not obj.closed:
                        self._read_chan(obj)
                if pending:
                    for bridge in list(self._bridges):
                        if bridge.to_chan and not bridge.closed:
                            self._flush_to_chan(bridge)
                with self._lock:
                    if self._stopping:
                        break
        except Exception:  # a bug here must not leave sockets open behind a dead thread
            log.exception("SSH forwarding loop crashed")
        finally:
            self._shutdown()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            calls, self._calls = self._calls, []
        for func, args, done in calls:
            try:
                func(*args)
            except Exception:
                log.exception("error in SSH forwarding call %s", func.__name__)
            finally:
                if done is not None:
                    done.set()

    def _shutdown(self) -> None:
        with self._lock:
            self._stopping = True
            calls, self._calls = self._calls, []
        for func, args, done in calls:
            if done is not None:
                done.set()
            elif func == self._opened:  # an opener's result nobody will take: release it
                _discard(*args[1:3])
        for forward in list(self._forwards):
            self._remove_forward(forward)
        self._drop_all_bridges()
        for sock in self._in_flight:  # opens cancelled or still waiting for their reply
            sock.close()
        self._in_flight.clear()
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _add_forward(self, forward: Forward) -> None:
        self._forwards.add(forward)
        self._selector.register(forward.sock, selectors.EVENT_READ, ("listen", forward))

    def _remove_forward(self, forward: Forward) -> None:
        if forward.closed:
            return
        forward.closed = True
        self._forwards.discard(forward)
        self._selector.unregister(forward.sock)
        forward.sock.close()
        for bridge in list(forward.bridges):
            self._close_bridge(bridge)
        for sock in forward.waiting:
            sock.close()
        forward.waiting.clear()
        self._unpark(forward)

    def _drop_all_bridges(self) -> None:
        for bridge in list(self._bridges):
            self._close_bridge(bridge)
        for forward in self._forwards:
            self._unpark(forward)

    def _park(self, forward: Forward, chan: paramiko.Channel, transport) -> None:
        if forward.closed or transport is not self._transport():
            chan.close()
        else:
            forward.parked.append((chan, time.monotonic()))

    def _unpark(self, forward: Forward) -> None:
        for chan, _opened_at in forward.parked:
            chan.close()
        forward.parked.clear()

    def _take_parked(self, forward: Forward) -> paramiko.Channel | None:
        transport = self._transport()
        while forward.parked:
            chan, opened_at = forward.parked.pop(0)
            usable = (
                transport is not None
                and chan.get_transport() is transport
                and chan.active
                and not chan.closed
                and not chan.eof_received
                and time.monotonic() - opened_at < PARKED_MAX_AGE
            )
            if usable:
                return chan
            chan.close()
        return None

    def _open_waiting(self) -> None:
        waiting = []
        for forward in list(self._forwards):
            waiting += [(forward, sock) for sock in forward.waiting]
            forward.waiting = []
        if waiting:
            self._start_opens(waiting)

    def _start_opens(self, pairs: list[tuple[Forward, socket.socket]]) -> None:
        """Open channels for these local connections (one flight) in an opener thread;
        the loop goes on meanwhile."""
        transport = self._transport()
        if transport is None:
            # SSH connection down (reconnecting): the connections wait for it.
            for forward, sock in pairs:
                if len(forward.waiting) < MAX_WAITING:
                    forward.waiting.append(sock)
                else:
                    sock.close()
            return
        try:
            self._openers.submit(self._open_for, transport, pairs)
        except RuntimeError:  # the pool is shut down: we are stopping
            for _forward, sock in pairs:
                sock.close()
            return
        self._in_flight.update(sock for _forward, sock in pairs)

    def _open_for(self, transport, pairs: list[tuple[Forward, socket.socket]]) -> None:
        """Opener thread: open the channels, hand each result to the loop thread."""
        results = _open_batch(transport, [forward for forward, _sock in pairs])
        for (forward, sock), (chan, _error) in zip(pairs, results, strict=True):
            if not self.post(self._opened, forward, sock, chan):
                _discard(sock, chan)

    def _opened(self, forward: Forward, sock: socket.socket, chan) -> None:
        self._in_flight.discard(sock)
        if chan is None or forward.closed:
            # The kernel port is closed, or the SSH connection died meanwhile: refuse
            # this connection; ZMQ retries on its own and succeeds once we are back.
            _discard(sock, chan)
            return
        self._bridge(forward, sock, chan)

    def _bridge(self, forward: Forward, sock: socket.socket, chan: paramiko.Channel) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        chan.settimeout(0.0)
        bridge = Bridge(forward, sock, chan)
        forward.bridges.add(bridge)
        self._bridges.add(bridge)
        bridge.try_direct()  # unless the channel already holds bytes: those go first
        self._update(bridge)

    def _accept(self, forward: Forward) -> None:
        while True:
            try:
                sock, _addr = forward.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            chan = self._take_parked(forward)
            if chan is not None:
                self._bridge(forward, sock, chan)
            else:
                self._start_opens([(forward, sock)])


def _open_batch(transport, forwards: list[Forward], timeout: float = CHANNEL_OPEN_TIMEOUT) -> list:
    """(channel, None) or (None, the exception) per forward: one flight of opens; then the
    no-op that turns sshd's Nagle off may go (see nodelay.py: not before these)."""
    requests = [(f.remote_host, f.remote_port, f.local_port) for f in forwards]
    try:
        results = open_channels(transport, requests, timeout)
    except (paramiko.SSHException, OSError, EOFError) as err:
        results = [(None, err)] * len(forwards)
    nodelay = getattr(transport, "nodelay", None)
    if nodelay is not None:
        nodelay.start()
    for forward, (_chan, error) in zip(forwards, results, strict=True):
        if error is not None:
            log.info("cannot open channel for %r: %s", forward, error)
    return results


def _discard(sock: socket.socket, chan: paramiko.Channel | None) -> None:
    sock.close()
    if chan is not None:
        chan.close()
