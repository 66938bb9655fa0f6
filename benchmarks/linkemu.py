"""A user-space link emulator: a TCP proxy with a fixed one-way delay and a bandwidth cap.

    python benchmarks/linkemu.py --delay-ms 75 --rate-mbit 50 LISTEN_PORT:TARGET_PORT ...

Every chunk read on one side is stamped on arrival and written to the other side at
arrival + D, in order (one-way delay D per direction, so a round trip costs 2D more). With
a rate, one pacer per direction, shared by every connection of the process, lets the
chunks out no faster than the cap. SIGUSR1 "cuts" the link: every proxied connection is
closed on both sides at once (the listeners stay: the link is usable again at once).

It runs as its own process so its timing does not share a GIL with what it measures. It
prints one line per accepted connection, ``accept <listen port> <time.time()>``, so a
benchmark can see when a client's first packet arrived. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import signal
import socket
import sys
import threading
import time

CHUNK = 16 * 1024  # small enough that pacing at 50 Mbit/s is smooth (2.6 ms per chunk)
BUFFER = 4 * 1024 * 1024  # per direction: what the "wire" holds before the sender waits
_print_lock = threading.Lock()


class Pacer:
    """One direction's capacity, shared by every connection using it."""

    def __init__(self, rate_bytes: float | None) -> None:
        self.rate = rate_bytes
        self.lock = threading.Lock()
        self.free_at = 0.0

    def departure(self, ready: float, size: int) -> float:
        """When a chunk that may leave at ``ready`` has fully left."""
        if not self.rate:
            return ready
        with self.lock:
            start = max(ready, self.free_at)
            self.free_at = start + size / self.rate
            return self.free_at


class Direction:
    """src -> dst with delay: a reader stamps chunks, a writer sends each at its time."""

    def __init__(self, src, dst, delay: float, pacer: Pacer, on_end, not_before=0.0) -> None:
        self.src, self.dst, self.delay, self.pacer = src, dst, delay, pacer
        self.not_before = not_before
        self.queue: collections.deque = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.on_end = on_end
        for target in (self._read, self._write):
            threading.Thread(target=target, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.src.recv(CHUNK)
            except OSError:
                data = b""
            with self.cond:
                while data and self.queued > BUFFER:
                    self.cond.wait()
                self.queue.append((max(time.monotonic(), self.not_before), data))
                self.queued += len(data)
                self.cond.notify_all()
            if not data:
                return

    def _write(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                arrived, data = self.queue.popleft()
                self.queued -= len(data)
                self.cond.notify_all()
            due = self.pacer.departure(arrived + self.delay, len(data))
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if not data:
                with contextlib.suppress(OSError):
                    self.dst.shutdown(socket.SHUT_WR)
                self.on_end()
                return
            try:
                self.dst.sendall(data)
            except OSError:
                self.on_end()
                return


class Link:
    """Listeners on 127.0.0.1 proxying to targets on 127.0.0.1 through the emulated link."""

    def __init__(self, delay: float, rate_mbit: float | None = None) -> None:
        self.delay = delay
        rate = rate_mbit * 1e6 / 8 if rate_mbit else None
        self.up, self.down = Pacer(rate), Pacer(rate)
        self.lock = threading.Lock()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()

    def listen(self, listen_port: int, target_port: int) -> int:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", listen_port))
        server.listen(128)
        port = server.getsockname()[1]
        threading.Thread(target=self._serve, args=(server, target_port), daemon=True).start()
        return port

    def _serve(self, server: socket.socket, target_port: int) -> None:
        port = server.getsockname()[1]
        while True:
            client, _ = server.accept()
            with _print_lock:  # one whole line at a time, whatever the thread
                sys.stdout.write(f"accept {port} {time.time():.6f}\n")
                sys.stdout.flush()
            threading.Thread(target=self._join, args=(client, target_port), daemon=True).start()

    def _join(self, client: socket.socket, target_port: int) -> None:
        # TCP's handshake, emulated: the SYN reaches the far side after D, and the client
        # could not have sent before the SYN-ACK came back (2D): its earlier bytes count
        # as sent then. The kernel completed the real loopback handshake at once.
        accepted = time.monotonic()
        time.sleep(self.delay)
        try:
            far = socket.create_connection(("127.0.0.1", target_port))
        except OSError:
            client.close()
            return
        for sock in (client, far):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair = (client, far)
        with self.lock:
            self.pairs.add(pair)
        ended = []

        def on_end() -> None:
            with self.lock:
                ended.append(1)
                if len(ended) < 2 or pair not in self.pairs:
                    return
                self.pairs.discard(pair)
            for sock in pair:
                sock.close()

        Direction(client, far, self.delay, self.up, on_end, accepted + 2 * self.delay)
        Direction(far, client, self.delay, self.down, on_end)

    def cut(self) -> None:
        """Close every proxied connection on both sides (a dropped link)."""
        with self.lock:
            pairs, self.pairs = self.pairs, set()
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay")
    parser.add_argument("--rate-mbit", type=float, default=None, help="bandwidth cap")
    parser.add_argument("mappings", nargs="+", help="LISTEN_PORT:TARGET_PORT (0: any port)")
    args = parser.parse_args()
    link = Link(args.delay_ms / 1000, args.rate_mbit)
    ports = [link.listen(*map(int, m.split(":"))) for m in args.mappings]
    signal.signal(signal.SIGUSR1, lambda *_: link.cut())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening " + " ".join(map(str, ports)), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
