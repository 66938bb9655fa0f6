"""Open one authenticated paramiko Transport: socket, key exchange, host key check, auth.

Every step is bounded by one deadline (the target's connect_timeout) and can be cancelled;
every failure becomes a distinct SSHError. Nothing here ever prompts on a terminal. The
steps live in their own modules: dial (TCP, DNS, deadline), authenticate, keys, latency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.authenticate import authenticate
from spyder_kernel_connect.ssh.dial import POLL, Deadline, open_socket
from spyder_kernel_connect.ssh.hostkeys import (
    HostKeyDecider,
    known_hosts_files,
    load_known_keys,
    verify_host_key,
)
from spyder_kernel_connect.ssh.latency import LatencyOptions
from spyder_kernel_connect.ssh.prompts import PromptHandler
from spyder_kernel_connect.ssh.target import ResolvedTarget

# Big receive window: fewer window-adjust round trips on fast links (paramiko's is 2 MiB).
WINDOW_SIZE = 8 * 1024 * 1024
# GCM does encryption and integrity in one OpenSSL call per packet: measurably faster in
# paramiko than CTR + HMAC. Servers without it fall back to paramiko's default order.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


class _CancelWatch:
    """Closes the transport when ``cancel`` fires, which aborts paramiko's blocking auth waits."""

    def __init__(self, cancel: threading.Event | None, transport: paramiko.Transport) -> None:
        self.cancel = cancel
        self.transport = transport
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _CancelWatch:
        if self.cancel is not None:
            self.thread = threading.Thread(target=self._watch, name="ssh-cancel-watch", daemon=True)
            self.thread.start()
        return self

    def _watch(self) -> None:
        while not self.done.wait(POLL):
            if self.cancel.is_set():
                self.transport.close()
                return

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


def open_transport(
    resolved: ResolvedTarget,
    *,
    decider: HostKeyDecider | None,
    accepted_once: dict,
    cancel: threading.Event | None = None,
    sock_factory: Callable[[Deadline], object] | None = None,
    latency: LatencyOptions | None = None,
    prompt_handler: PromptHandler | None = None,
) -> paramiko.Transport:
    """Connect, check the host key, authenticate; the caller owns the returned Transport.

    ``prompt_handler`` answers the server's login questions (2FA codes); without one, a
    host that asks them fails with InteractiveLoginRequired."""
    target = resolved.target
    latency = latency or LatencyOptions()
    deadline = Deadline(target.connect_timeout, cancel, resolved.label)
    sock = sock_factory(deadline) if sock_factory else open_socket(resolved, deadline, latency)
    transport = paramiko.Transport(sock, default_window_size=WINDOW_SIZE)
    ok = False
    try:
        files = known_hosts_files(target.known_hosts)
        _prefer_algorithms(transport, load_known_keys(files, resolved.hostname, resolved.port))
        with _CancelWatch(cancel, transport):
            _negotiate(transport, resolved, deadline)
            verify_host_key(
                transport.get_remote_server_key(),
                resolved.hostname,
                resolved.port,
                files,
                files[-1],
                decider,
                accepted_once,
            )
            deadline.check("waiting for")
            authenticate(transport, resolved, deadline, prompt_handler)
        if latency.server_nodelay:
            _ask_server_for_nodelay(transport, deadline)
        ok = True
        return transport
    finally:
        if not ok:
            transport.close()
            if hasattr(sock, "close"):
                sock.close()


def _ask_server_for_nodelay(transport: paramiko.Transport, deadline: Deadline) -> None:
    """Make sshd turn Nagle off on its side of this connection.

    sshd sets TCP_NODELAY on the first exec/shell request of a connection (OpenSSH's
    ssh_packet_set_interactive), never for forwarding-only connections like ``ssh -N``;
    with Nagle on, its second small packet in a row waits for our (delayed) ACK: the
    ~40 ms stall per round trip. One no-op command right after login fixes that for the
    whole connection. Best effort: a server refusing commands just keeps Nagle.
    """
    try:
        chan = transport.open_session(timeout=max(deadline.remaining(), 0.1))
    except (paramiko.SSHException, OSError, EOFError):
        return
    try:
        chan.exec_command("exit 0")
    except (paramiko.SSHException, OSError, EOFError):
        pass
    finally:
        chan.close()


def _prefer_algorithms(transport: paramiko.Transport, known: dict) -> None:
    options = transport.get_security_options()
    ciphers = list(options.ciphers)
    options.ciphers = [c for c in PREFERRED_CIPHERS if c in ciphers] + [
        c for c in ciphers if c not in PREFERRED_CIPHERS
    ]
    # Like OpenSSH: ask for the host key types we already know, so a host with several
    # keys presents the one we can verify instead of looking "unknown".
    if known:
        types = list(options.key_types)
        options.key_types = [t for t in types if t in known] + [t for t in types if t not in known]


def _negotiate(transport: paramiko.Transport, resolved: ResolvedTarget, deadline: Deadline):
    transport.banner_timeout = max(deadline.remaining(), 0.1)
    transport.handshake_timeout = max(deadline.remaining(), 0.1)
    done = threading.Event()
    transport.start_client(event=done, timeout=max(deadline.remaining(), 0.1))
    while not done.wait(POLL):
        deadline.check("waiting for the SSH handshake of")
    if not transport.is_active():
        deadline.check("waiting for the SSH handshake of")
        err = transport.get_exception()
        text = str(err) if err else "the connection closed"
        if "banner" in text.lower() and deadline.remaining() <= 0.2:
            deadline.check("waiting for the SSH banner of")
        raise errors.SSHProtocolError(
            f"SSH handshake with {resolved.label} failed: {text}.",
            "Check that the port is an SSH server's port.",
            host=resolved.label,
        )
