"""Start the SSH connection's TCP handshake before the command has imported its libraries.

``tunnel`` and ``remote-list`` spend ~0.1–0.3 s importing paramiko, cryptography and
pyzmq before their first packet. When the host is typed as ``[user@]host[:port]`` and no
``~/.ssh/config`` could send it elsewhere, ``__main__`` calls :func:`start` first: a
thread connects meanwhile (and the server's banner waits in the socket), and the SSH
engine takes that socket (:func:`take`) if it is for the host and port it resolved.
Stdlib only, so it costs nothing before the first packet.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Sequence

COMMANDS = ("tunnel", "remote-list")
_TARGET = re.compile(
    r"^(?:[^@\s]+@)?(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d+))?$"
)
# Options after which the SSH connection may not be a plain TCP connection to HOST
# (a jump host, a SLURM node, another SSH config file).
_INDIRECT = ("-J", "--jump", "--slurm", "--proxy-command", "-F", "--ssh-config")

_lock = threading.Lock()
_pending: dict[tuple[str, int], _Dial] = {}


class _Dial:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.done = threading.Event()
        self.sock: socket.socket | None = None
        self._args = (host, port, timeout)
        threading.Thread(target=self._run, name="ssh-predial", daemon=True).start()

    def _run(self) -> None:
        host, port, timeout = self._args
        # Any failure (refused, bad name, IDNA error) is left for the engine to report.
        with contextlib.suppress(Exception):
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.done.set()


def start(argv: Sequence[str]) -> None:
    """Pre-dial the host of a ``tunnel``/``remote-list`` command line, if it is plain."""
    if len(argv) < 2 or argv[0] not in COMMANDS:
        return
    if any(arg.split("=")[0] in _INDIRECT for arg in argv):
        return
    match = _TARGET.match(argv[1])
    if match is None:
        return
    host = match.group("host").strip("[]")
    if _configured(host):
        return
    port = int(match.group("port") or 22)
    with _lock:
        _pending[(host, port)] = _Dial(host, port, 10.0)


def take(host: str, port: int, timeout: float) -> socket.socket | None:
    """The pre-dialed connected socket to ``host:port``, or None (then dial normally)."""
    with _lock:
        dial = _pending.pop((host, port), None)
        others = list(_pending.values())
        _pending.clear()
    for other in others:  # the engine resolved another address: not needed
        _discard(other)
    if dial is None or not dial.done.wait(max(timeout, 0)):
        if dial is not None:
            _discard(dial)
        return None
    sock, dial.sock = dial.sock, None
    if sock is not None:
        sock.settimeout(None)
    return sock


def _discard(dial: _Dial) -> None:
    def close() -> None:
        dial.done.wait()
        if dial.sock is not None:
            dial.sock.close()

    threading.Thread(target=close, daemon=True).start()


def _configured(host: str) -> bool:
    """Could ~/.ssh/config change where ``host`` leads (alias, HostName, Port, jump)?"""
    path = os.path.expanduser("~/.ssh/config")
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read(1_000_000)
    except OSError:
        return False
    words = set(re.findall(r"[^\s,=]+", text.lower()))
    # Any Host/Match pattern might apply: only a config that never names a wildcard,
    # Match block or this host is known not to.
    if host.lower() in words or "match" in words or "include" in words:
        return True
    return any("*" in word or "?" in word for word in words)
