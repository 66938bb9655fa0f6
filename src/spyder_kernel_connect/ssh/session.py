"""One authenticated SSH connection per (user, host, port), kept alive and reconnected.

A session owns: the paramiko Transport (replaced on reconnect), the ForwardLoop that
serves all its forwards (listeners survive reconnects, so local ports never change), and
a supervisor thread that sends keepalives which wait for the server's answer and
reconnects with backoff when the connection is dead. The supervisor sleeps on an event
that the transport's thread sets when it ends: a dropped connection is handled at once.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.commands import run_command
from spyder_kernel_connect.ssh.forward import Forward, ForwardLoop
from spyder_kernel_connect.ssh.nodelay import CLOSE_GRACE
from spyder_kernel_connect.ssh.target import ResolvedTarget

log = logging.getLogger(__name__)

# Retrying these cannot help: the user must act.
PERMANENT_FAILURES = (
    errors.AuthenticationFailed,
    errors.AuthenticationCancelled,  # the user said no to a login prompt
    errors.HostKeyChanged,
    errors.HostKeyRejected,
)
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


class TunnelState(enum.Enum):
    CONNECTING = "connecting"
    UP = "up"
    RECONNECTING = "reconnecting"
    DOWN = "down"  # gave up: credentials or host key refused, or reconnect timed out
    CLOSED = "closed"


@dataclass(frozen=True)
class StateEvent:
    host: str  # "user@host:port"
    key: tuple[str, str, int]
    state: TunnelState
    message: str = ""


def report_state(on_state: Callable[[StateEvent], None], event: StateEvent) -> None:
    """Tell a session's owner of a state change (SSHSession and ControlSession): a failing
    callback is logged, never raised into the session's threads."""
    try:
        on_state(event)
    except Exception:
        log.exception("state callback failed")


Connector = Callable[[ResolvedTarget, "threading.Event | None"], paramiko.Transport]


class SSHSession:
    """A shared, authenticated SSH connection. Obtain it from TunnelManager.session()."""

    def __init__(
        self,
        resolved: ResolvedTarget,
        connector: Connector,
        on_state: Callable[[StateEvent], None],
        keepalive_interval: float,
        keepalive_timeout: float,
        reconnect_timeout: float | None,
    ) -> None:
        self.resolved = resolved
        self.key = resolved.key
        self.label = resolved.label
        self._connector = connector
        self._on_state = on_state
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self.reconnect_timeout = reconnect_timeout
        self.state = TunnelState.CONNECTING
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._wake = threading.Event()  # the transport died, or close() was called
        self._retry = threading.Event()  # the user asks to try again after giving up (DOWN)
        self._loop: ForwardLoop | None = None
        self._supervisor: threading.Thread | None = None
        self.users = 0  # open KernelTunnels on this session
        self.pinned = False  # obtained through TunnelManager.session(): kept until closed
        self.via: SSHSession | None = None  # the jump host's session it goes through, if any

    # -- lifecycle ------------------------------------------------------------------

    def connect(self, cancel: threading.Event | None) -> None:
        """First connection (blocking). Raises an SSHError; the session is then unusable."""
        self._set_state(TunnelState.CONNECTING, f"Connecting to {self.label}")
        try:
            transport = self._connector(self.resolved, cancel)
        except errors.SSHError as err:
            self._set_state(TunnelState.DOWN, str(err))
            raise
        with self._lock:
            self._transport = transport
        _on_death(transport, self._wake.set)
        self._loop = ForwardLoop(self.resolved.hostname, self._live_transport)
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"ssh-keepalive-{self.resolved.hostname}", daemon=True
        )
        self._supervisor.start()
        self._set_state(TunnelState.UP, f"Connected to {self.label}")

    def close(self) -> None:
        """Close forwards, the connection and every thread of this session (idempotent)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join()
        if self._loop is not None:
            self._loop.stop()
        with self._lock:
            transport, self._transport = self._transport, None
            sftp, self._sftp = self._sftp, None
        if sftp is not None:
            sftp.close()
        if transport is not None:
            _close_transport(transport)
        if self._loop is not None:
            self._loop.join_openers()  # their opens ended with the transport
        self._set_state(TunnelState.CLOSED, f"Closed connection to {self.label}")

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    @property
    def transport(self) -> paramiko.Transport:
        """The live Transport; raises SessionNotConnected while reconnecting or after close."""
        transport = self._live_transport()
        if transport is None:
            raise errors.SessionNotConnected(
                f"The SSH connection to {self.label} is {self.state.value}.",
                "Wait for it to reconnect, or connect again.",
                host=self.label,
            )
        return transport

    # -- services for callers ------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float = 30.0,
        cancel: threading.Event | None = None,
        stdin: bytes | None = None,
    ) -> tuple[int, str, str]:
        """Run ``command`` on the host (no pty; ``stdin`` written, then EOF); return
        (exit status, stdout, stderr). ``cancel`` ends the wait at once."""
        return run_command(self.transport, self.label, command, timeout, cancel, stdin)

    def sftp(self) -> paramiko.SFTPClient:
        """A cached SFTP client on the live connection (renewed after a reconnect)."""
        with self._lock:
            transport = self.transport
            sftp = self._sftp
            channel = sftp.get_channel() if sftp is not None else None
            if channel is not None and channel.get_transport() is transport and not channel.closed:
                return sftp
            try:
                self._sftp = paramiko.SFTPClient.from_transport(transport)
            except (paramiko.SSHException, OSError, EOFError) as err:
                raise errors.SSHError(
                    f"Cannot start SFTP on {self.label}: {err}.",
                    "The server may have SFTP disabled (Subsystem sftp).",
                    host=self.label,
                ) from None
            return self._sftp

    def open_forward(self, remote_host: str, remote_port: int) -> Forward:
        """Listen on 127.0.0.1:<free port>, forward each connection to remote_host:remote_port."""
        if self._loop is None or self.closed:
            raise errors.SessionNotConnected(f"The SSH session to {self.label} is closed.")
        return self._loop.add_forward(remote_host, remote_port)

    def open_forwards(
        self, remote_host: str, remote_ports: list[int], timeout: float = 10.0
    ) -> list[Forward]:
        """One forward per port, their channels opened together (one round trip).

        The opens double as the check that the host reaches the kernel: the error is
        clear now instead of a console that never answers. Each pre-opened channel serves
        its port's first local connection, so a client connecting at once waits for none.
        """
        forwards = [self.open_forward(remote_host, port) for port in remote_ports]
        try:
            failures = self._loop.preopen(forwards, timeout)
            failed = [(f, e) for f, e in zip(forwards, failures, strict=True) if e is not None]
            if failed:
                # paramiko keeps one "last exception" per transport: with opens in parallel
                # a refusal may surface in another thread as a bare SSHException. On a live
                # connection any failed open is the server refusing it.
                refusal = next((e for _f, e in failed if _is_refusal(e)), None)
                if refusal is None and self._live_transport() is not None:
                    refusal = paramiko.ChannelException(2, "connect failed")
                raise _open_error(
                    self.label, remote_host, failed[0][0].remote_port, refusal or failed[0][1]
                )
        except BaseException:
            for forward in forwards:
                forward.close()
            raise
        return forwards

    @property
    def opens_in_flight(self) -> int:
        """Channel opens of local connections still waiting for the server (diagnostics)."""
        return self._loop.opens_in_flight if self._loop is not None else 0

    def check_reachable(self, remote_host: str, remote_port: int, timeout: float = 10.0) -> None:
        """Open and close one direct-tcpip channel: can the host reach that port?"""
        try:
            chan = self.transport.open_channel(
                "direct-tcpip", (remote_host, remote_port), ("127.0.0.1", 0), timeout=timeout
            )
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise _open_error(self.label, remote_host, remote_port, err) from None
        chan.close()

    def retry(self) -> bool:
        """After a permanent failure (DOWN: a cancelled login, refused credentials, the
        reconnect timeout), reconnect again, as the user asked. False if not DOWN."""
        if self.closed or self.state is not TunnelState.DOWN or self._supervisor is None:
            return False
        self._retry.set()
        self._wake.set()
        return True

    def kill_connection(self) -> None:
        """Drop the TCP connection as a network failure would (for tests and diagnostics)."""
        transport = self._live_transport()
        if transport is not None:
            transport.sock.shutdown(2)

    # -- internals ----------------------------------------------------------------------

    def _live_transport(self) -> paramiko.Transport | None:
        transport = self._transport
        if transport is not None and transport.is_active() and not self.closed:
            return transport
        return None

    def _set_state(self, state: TunnelState, message: str) -> None:
        with self._lock:
            if self.state is TunnelState.CLOSED:
                return
            self.state = state
        report_state(self._on_state, StateEvent(self.label, self.key, state, message))

    def _supervise(self) -> None:
        next_keepalive = time.monotonic() + self.keepalive_interval
        while not self._closing.is_set():
            timeout = max(next_keepalive - time.monotonic(), 0) if self.keepalive_interval else None
            self._wake.wait(timeout)
            self._wake.clear()  # cleared before looking: a death after the look wakes us again
            if self._closing.is_set():
                return
            transport = self._transport
            alive = transport is not None and transport.is_active()
            if alive and self.keepalive_interval and time.monotonic() >= next_keepalive:
                alive = self._keepalive(transport)
                next_keepalive = time.monotonic() + self.keepalive_interval
            if not alive:
                self._reconnect()
                next_keepalive = time.monotonic() + self.keepalive_interval

    def _keepalive(self, transport: paramiko.Transport) -> bool:
        """A request the server must answer: proves the peer is alive, not just our socket.

        paramiko's own keepalive sends a global request without waiting for the reply, so
        it never notices a dead peer. Opening (and closing) a session channel is a full
        round trip with a timeout, through paramiko's public API.
        """
        try:
            chan = transport.open_session(timeout=self.keepalive_timeout)
        except paramiko.ChannelException:
            return True  # refused (e.g. at MaxSessions): the server answered, so it is alive
        except (paramiko.SSHException, OSError, EOFError) as err:
            log.info("keepalive to %s failed: %s", self.label, err)
            return False
        chan.close()
        return True

    def _wait_for_retry(self) -> bool:
        """Stay DOWN until retry() (True) or close() (False)."""
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing.is_set():
                return False
            if self._retry.is_set():
                self._retry.clear()
                return True

    def _reconnect(self) -> None:
        with self._lock:
            old, self._transport = self._transport, None
            self._sftp = None
        if self._loop is not None:
            self._loop.drop_connections()
        if old is not None:
            _close_transport(old)
        started = time.monotonic()
        attempt = 0
        while not self._closing.is_set():
            attempt += 1
            self._set_state(
                TunnelState.RECONNECTING,
                f"Connection to {self.label} lost; reconnecting (attempt {attempt})",
            )
            try:
                transport = self._connector(self.resolved, self._closing)
            except PERMANENT_FAILURES as err:
                self._set_state(TunnelState.DOWN, f"Reconnecting to {self.label} failed: {err}")
                if not self._wait_for_retry():  # the user must act: retry() or close()
                    return
                started, attempt = time.monotonic(), 0
                continue
            except errors.SSHError as err:
                log.info("reconnect to %s failed: %s", self.label, err)
                elapsed = time.monotonic() - started
                if self.reconnect_timeout is not None and elapsed > self.reconnect_timeout:
                    self._set_state(
                        TunnelState.DOWN,
                        f"Gave up reconnecting to {self.label} after {elapsed:.0f} s: {err}",
                    )
                    if not self._wait_for_retry():
                        return
                    started, attempt = time.monotonic(), 0
                    continue
                delay = RECONNECT_DELAYS[min(attempt - 1, len(RECONNECT_DELAYS) - 1)]
                self._closing.wait(delay)
                continue
            with self._lock:
                if self._closing.is_set():
                    _close_transport(transport)
                    return
                self._transport = transport
            _on_death(transport, self._wake.set)
            if self._loop is not None:
                self._loop.resume()  # local connections that waited get their channels
            self._set_state(TunnelState.UP, f"Reconnected to {self.label}")
            return


def _is_refusal(err: Exception) -> bool:
    return isinstance(err, paramiko.ChannelException)


def _open_error(label: str, host: str, port: int, err: Exception) -> errors.SSHError:
    if isinstance(err, paramiko.ChannelException):
        return errors.KernelUnreachable(
            f"{label} cannot connect to {host}:{port} ({err.text or 'connect failed'}).",
            "Is the kernel still running there, and is its connection file current?",
            host=label,
        )
    return errors.SSHError(f"Cannot open a forward on {label}: {err}.", host=label)


def _on_death(transport: paramiko.Transport, callback: Callable[[], None]) -> None:
    # Transports from open_transport report their end; any other is found by keepalives.
    if hasattr(transport, "on_death"):
        transport.on_death(callback)


def _close_transport(transport: paramiko.Transport) -> None:
    nodelay = getattr(transport, "nodelay", None)
    if nodelay is not None and transport.is_active():
        nodelay.start()
        # Let the no-op command (and the rc files its shell reads) finish, not cut it off.
        nodelay.wait(CLOSE_GRACE)
    transport.close()
    sock = transport.sock
    if hasattr(sock, "close"):
        sock.close()
    # paramiko's thread ends within its 0.1 s socket timeout; wait so no thread outlives us.
    if transport.is_alive() and transport is not threading.current_thread():
        transport.join(5)
    if nodelay is not None:
        nodelay.join()  # ends with its channel, closed with the transport
