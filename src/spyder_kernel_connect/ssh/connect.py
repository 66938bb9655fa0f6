"""Open one authenticated paramiko Transport: socket, key exchange, host key check, auth.

Every step is bounded by one deadline (the target's connect_timeout) and can be cancelled;
every failure becomes a distinct SSHError. Nothing here ever prompts on a terminal. The
steps live in their own modules: dial (TCP, DNS, deadline), authenticate, keys, latency.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar

import paramiko
from paramiko.auth_handler import AuthHandler
from paramiko.common import MSG_CHANNEL_DATA
from paramiko.message import Message

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.authenticate import authenticate
from spyder_kernel_connect.ssh.bridge import feed_channel
from spyder_kernel_connect.ssh.dial import POLL, Deadline, open_socket
from spyder_kernel_connect.ssh.hostkeys import (
    HostKeyDecider,
    known_hosts_files,
    load_known_keys,
    verify_host_key,
)
from spyder_kernel_connect.ssh.latency import LatencyOptions
from spyder_kernel_connect.ssh.nodelay import ServerNodelay
from spyder_kernel_connect.ssh.prompts import PromptHandler
from spyder_kernel_connect.ssh.target import ResolvedTarget

# Big receive window: fewer window-adjust round trips on fast links (paramiko's is 2 MiB).
WINDOW_SIZE = 8 * 1024 * 1024
# GCM does encryption and integrity in one OpenSSL call per packet: measurably faster in
# paramiko than CTR + HMAC. Servers without it fall back to paramiko's default order.
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


class _PipelinedAuthHandler(AuthHandler):
    """Sends the userauth request right behind the "ssh-userauth" service request.

    paramiko waits for the service-accept reply before each attempt: one round trip that
    carries no information (every SSH server offers ssh-userauth). The server handles the
    two packets in order, so the request need not wait; the accept is then ignored.
    """

    _accept_pending = False

    def _request_auth(self) -> None:
        # Set first: on a fast link the reply can be handled (in the transport thread)
        # before the request below is even signed, and must not trigger a second one.
        self._accept_pending = True
        super()._request_auth()
        accept = Message()
        accept.add_string("ssh-userauth")
        accept.rewind()
        super()._parse_service_accept(accept)

    def _parse_service_accept(self, m) -> None:
        if self._accept_pending:
            self._accept_pending = False
            return
        super()._parse_service_accept(m)


class WatchedTransport(paramiko.Transport):
    """A Transport that says when its thread ends (the connection died or was closed),
    so a supervisor waits on an event instead of polling ``is_active()``; its public-key
    attempts are pipelined (see _PipelinedAuthHandler) unless ``pipelined_auth`` is off."""

    pipelined_auth = True
    # Channel data of bridged forwards goes straight to the local socket (bridge.py).
    _channel_handler_table: ClassVar[dict] = {
        **paramiko.Transport._channel_handler_table,
        MSG_CHANNEL_DATA: feed_channel,
    }

    def __init__(self, sock, **kwargs) -> None:
        super().__init__(sock, **kwargs)
        self.died = threading.Event()
        self.nodelay: ServerNodelay | None = None
        self._on_death: list[Callable[[], None]] = []

    def on_death(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the transport thread) once the connection is gone."""
        self._on_death.append(callback)
        if self.died.is_set():
            callback()

    def auth_publickey(self, username, key, event=None):
        # RSA keys pick their signature algorithm from the server's ext-info, which may
        # still be in flight right after the key exchange: those keep paramiko's order.
        if not self.pipelined_auth or "rsa" in key.get_name():
            return super().auth_publickey(username, key, event)
        if not self.active or not self.initial_kex_done:
            raise paramiko.SSHException("No existing session")
        done = event or threading.Event()
        self.auth_handler = _PipelinedAuthHandler(self)
        self.auth_handler.auth_publickey(username, key, done)
        if event is not None:
            return []
        return self.auth_handler.wait_for_response(done)

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.died.set()
            for callback in list(self._on_death):
                callback()


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
) -> WatchedTransport:
    """Connect, check the host key, authenticate; the caller owns the returned Transport.

    ``prompt_handler`` answers the server's login questions (2FA codes); without one, a
    host that asks them fails with InteractiveLoginRequired. With ``latency.server_nodelay``,
    the no-op command that makes sshd turn Nagle off is started in the background
    (``transport.nodelay``): nobody waits for it."""
    target = resolved.target
    latency = latency or LatencyOptions()
    deadline = Deadline(target.connect_timeout, cancel, resolved.label)
    sock = sock_factory(deadline) if sock_factory else open_socket(resolved, deadline, latency)
    transport = WatchedTransport(sock, default_window_size=WINDOW_SIZE)
    transport.pipelined_auth = latency.pipelined_auth
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
            transport.nodelay = ServerNodelay(transport, resolved.label)
        ok = True
        return transport
    finally:
        if not ok:
            transport.close()
            if hasattr(sock, "close"):
                sock.close()


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
