"""Local forwards of a ``ControlSession``: listeners on 127.0.0.1 whose connections get
their channels from the session (through the master's control socket, or after falling
back from the session's own SSH connection).

One accept thread for all listeners; per local connection an opener (from a small pool)
gets its stream, then two threads splice it (simple blocking copies both ways: a CLI
tunnel has a handful of connections). A kernel's five channels are opened together first
(``preopen``: one round trip, which also checks the host reaches the kernel) and kept
for each port's first connection, as forward.py does for a session of our own.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from spyder_kernel_connect.ssh import control, errors

if TYPE_CHECKING:
    from spyder_kernel_connect.ssh.control_client import ControlSession

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
PARKED_MAX_AGE = 20.0  # as in forward.py: ZMQ drops a connection idle that long


class ControlForward:
    """A listener on 127.0.0.1 whose connections get channels from a ``ControlSession``."""

    def __init__(self, owner: ControlForwards, sock: socket.socket, host: str, port: int):
        self._owner = owner
        self.sock = sock
        self.local_port: int = sock.getsockname()[1]
        self.remote_host, self.remote_port = host, port
        self.parked: list[tuple[object, float, int]] = []  # (stream, opened at, generation)
        self.live: set = set()  # streams and local sockets of spliced connections
        self.closed = False

    def close(self) -> None:
        self._owner.remove(self)

    def __repr__(self) -> str:
        remote = f"{self.remote_host}:{self.remote_port}"
        return f"<ControlForward {LOCALHOST}:{self.local_port} -> {remote}>"


class ControlForwards:
    """The listeners of one ControlSession: one accept thread; per connection, a thread
    that opens its channel and splices (two threads while it is open)."""

    def __init__(self, session: ControlSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._forwards: set[ControlForward] = set()
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._stopping = False
        self._openers = ThreadPoolExecutor(8, thread_name_prefix="ssh-control-open")
        self._thread = threading.Thread(target=self._run, name="ssh-control-accept", daemon=True)
        self._thread.start()

    def add(self, host: str, port: int) -> ControlForward:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOCALHOST, 0))  # loopback only
            sock.listen(64)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        forward = ControlForward(self, sock, host, port)
        with self._lock:
            self._forwards.add(forward)
        self._wake()
        return forward

    def preopen(self, forwards: list[ControlForward]) -> None:
        generation = self._session.generation
        futures = [
            self._openers.submit(self._session.open_channel, f.remote_host, f.remote_port)
            for f in forwards
        ]
        failure = None
        for forward, future in zip(forwards, futures, strict=True):
            try:
                stream = future.result()
            except errors.SSHError as err:
                failure = failure or err
                continue
            with self._lock:
                forward.parked.append((stream, time.monotonic(), generation))
        if failure is not None:
            raise failure

    def remove(self, forward: ControlForward) -> None:
        with self._lock:
            if forward.closed:
                return
            forward.closed = True
            self._forwards.discard(forward)
            parked, forward.parked = forward.parked, []
            live = list(forward.live)
        self._wake()  # the accept thread unregisters and closes the listener
        for stream, _at, _gen in parked:
            control.abort(stream)
        for stream in live:
            control.abort(stream)

    def drop_parked(self) -> None:
        with self._lock:
            parked = [p for f in self._forwards for p in f.parked]
            for forward in self._forwards:
                forward.parked = []
        for stream, _at, _gen in parked:
            control.abort(stream)

    def stop(self) -> None:
        for forward in list(self._forwards):
            forward.close()
        with self._lock:
            self._stopping = True
        self._wake()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._openers.shutdown(wait=False, cancel_futures=True)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _run(self) -> None:
        registered: dict[ControlForward, socket.socket] = {}
        while True:
            with self._lock:
                stopping = self._stopping
                wanted = set() if stopping else set(self._forwards)
            for forward in set(registered) - wanted:
                self._selector.unregister(registered.pop(forward))
                forward.sock.close()
            for forward in wanted - set(registered):
                self._selector.register(forward.sock, selectors.EVENT_READ, forward)
                registered[forward] = forward.sock
            if stopping:
                break
            for key, _mask in self._selector.select():
                if key.fileobj is self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(4096)
                else:
                    self._accept(key.data)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self, forward: ControlForward) -> None:
        try:
            sock, _ = forward.sock.accept()
        except OSError:
            return
        sock.setblocking(True)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = self._take_parked(forward)
        try:
            self._openers.submit(self._serve, forward, sock, stream)
        except RuntimeError:  # stopping
            sock.close()

    def _take_parked(self, forward: ControlForward):
        with self._lock:
            while forward.parked:
                stream, opened_at, generation = forward.parked.pop(0)
                fresh = time.monotonic() - opened_at < PARKED_MAX_AGE
                if fresh and generation == self._session.generation:
                    return stream
                control.abort(stream)
        return None

    def _serve(self, forward: ControlForward, sock: socket.socket, stream) -> None:
        if stream is None:
            try:
                stream = self._session.open_channel(forward.remote_host, forward.remote_port)
            except errors.SSHError as err:
                log.info("cannot open a channel for %r: %s", forward, err)
                sock.close()  # ZMQ retries on its own
                return
        if isinstance(stream, socket.socket):
            stream.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        with self._lock:
            if forward.closed:
                control.abort(stream)
                sock.close()
                return
            forward.live.update((sock, stream))
        # The splice runs outside the opener pool, so long-lived connections never use up
        # the threads that open channels for new ones.
        threading.Thread(
            target=self._splice,
            args=(forward, sock, stream),
            name="ssh-control-splice",
            daemon=True,
        ).start()

    def _splice(self, forward: ControlForward, sock: socket.socket, stream) -> None:
        try:
            control.splice(sock, stream, "ssh-control-splice")
        finally:
            with self._lock:
                forward.live.discard(sock)
                forward.live.discard(stream)
