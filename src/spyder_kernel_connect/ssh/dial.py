"""The TCP part of connecting: one deadline for every step, DNS that cannot hang, a socket.

Every failure becomes a distinct SSHError (host not found, refused, unreachable, timeout).
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import threading
import time

from spyder_kernel_connect import predial
from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.latency import LatencyOptions, LowLatencySocket, tune_socket
from spyder_kernel_connect.ssh.target import ResolvedTarget

POLL = 0.05


class Deadline:
    """The end of a connection attempt (its connect_timeout), and the caller's cancel event."""

    def __init__(self, seconds: float, cancel: threading.Event | None, label: str) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.cancel = cancel
        self.label = label

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise errors.Cancelled(f"Connection to {self.label} cancelled.", host=self.label)
        if self.remaining() <= 0:
            raise errors.ConnectTimeout(
                f"Timed out after {self.seconds:g} s {what} {self.label}.",
                "Check the host name and port, that the machine is up, and any firewall or VPN.",
                host=self.label,
            )


def open_socket(
    resolved: ResolvedTarget, deadline: Deadline, latency: LatencyOptions | None = None
) -> socket.socket:
    """A connected TCP socket; DNS, refused and timeout failures each get their own error."""
    label = resolved.label
    early = predial.take(resolved.hostname, resolved.port, deadline.remaining())
    if early is not None:  # the command line's TCP handshake, started before its imports
        sock = LowLatencySocket(early.family, early.type, early.proto, fileno=early.detach())
        tune_socket(sock, latency or LatencyOptions())
        return sock
    try:
        infos = _resolve_address(resolved, deadline)
    except socket.gaierror as err:
        raise errors.HostNotFound(
            f"Host {resolved.hostname!r} not found ({err.strerror}).",
            "Check the spelling, your ~/.ssh/config aliases and your network or VPN.",
            host=label,
        ) from None
    except (UnicodeError, ValueError) as err:  # IDNA: an empty or 64+ char label, a NUL
        reason = (
            "an empty label or one longer than 63 characters"
            if isinstance(err, UnicodeError)
            else "it contains a NUL character"
        )
        raise errors.HostNotFound(
            f"{resolved.hostname!r} is not a valid host name ({reason}).",
            "Check the spelling: labels of 1 to 63 characters separated by single dots.",
            host=label,
        ) from None
    last: OSError | None = None
    for family, socktype, proto, _name, address in infos:
        sock = LowLatencySocket(family, socktype, proto)
        try:
            _connect_nonblocking(sock, address, deadline)
        except OSError as err:
            sock.close()
            last = err
            continue
        except BaseException:
            sock.close()
            raise
        tune_socket(sock, latency or LatencyOptions())
        return sock
    if isinstance(last, ConnectionRefusedError):
        raise errors.ConnectionRefused(
            f"Connection to {resolved.hostname} port {resolved.port} refused: no SSH server "
            "listens there.",
            "Check the port (default 22) and that sshd runs on the host.",
            host=label,
        )
    reason = os.strerror(last.errno) if last and last.errno else str(last)
    raise errors.HostUnreachable(
        f"Cannot reach {resolved.hostname} port {resolved.port}: {reason}.",
        "Check the network, VPN and firewall.",
        host=label,
    )


def _resolve_address(resolved: ResolvedTarget, deadline: Deadline) -> list:
    """getaddrinfo in a helper thread: a dead DNS server must not outlast the deadline.

    getaddrinfo cannot be interrupted; on timeout the helper finishes on its own later.
    """
    result: list = []

    def lookup() -> None:
        try:
            result.append(
                socket.getaddrinfo(
                    resolved.hostname,
                    resolved.port,
                    type=socket.SOCK_STREAM,
                    proto=socket.IPPROTO_TCP,
                )
            )
        except Exception as err:
            result.append(err)

    thread = threading.Thread(target=lookup, name="ssh-dns", daemon=True)
    thread.start()
    while not result:
        deadline.check("looking up the address of")
        thread.join(POLL)
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


def _connect_nonblocking(sock: socket.socket, address, deadline: Deadline) -> None:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
        raise OSError(code, os.strerror(code))
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_WRITE)
        while code != 0:
            deadline.check("connecting to")
            if selector.select(min(POLL, max(deadline.remaining(), 0))):
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    raise OSError(code, os.strerror(code))
                break
    sock.setblocking(True)
