"""One authenticated SSH connection per (user, host, port), kept alive and reconnected.

A session owns: the paramiko Transport (replaced on reconnect), the ForwardLoop that
serves all its forwards (listeners survive reconnects, so local ports never change), and
a supervisor thread that sends keepalives which wait for the server's answer and
reconnects with backoff when the connection is dead.
"""

from __future__ import annotations

import enum
import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.forward import Forward, ForwardLoop
from spyder_kernel_connect.ssh.target import ResolvedTarget

log = logging.getLogger(__name__)

# How often the supervisor looks at the transport (a dead TCP connection is noticed this fast).
WATCH_INTERVAL = 0.25
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
        self._loop: ForwardLoop | None = None
        self._supervisor: threading.Thread | None = None
        self.users = 0  # open KernelTunnels on this session
        self.pinned = False  # obtained through TunnelManager.session(): kept until closed

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

    def run(self, command: str, timeout: float = 30.0) -> tuple[int, str, str]:
        """Run ``command`` on the host (no pty, no stdin); return (exit status, stdout, stderr)."""
        transport = self.transport
        try:
            chan = transport.open_session(timeout=timeout)
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise errors.SSHError(
                f"Cannot run a command on {self.label}: {err}.", host=self.label
            ) from None
        deadline = time.monotonic() + timeout
        out, err_out = bytearray(), bytearray()
        try:
            chan.settimeout(0.0)
            chan.exec_command(command)
            chan.shutdown_write()
            while True:
                drained = _drain(chan, out, err_out)
                if chan.exit_status_ready() and not drained and chan.eof_received:
                    break
                if time.monotonic() > deadline:
                    raise errors.ConnectTimeout(
                        f"Command on {self.label} did not finish within {timeout:g} s: "
                        f"{command[:60]!r}.",
                        host=self.label,
                    )
                if not drained:
                    select.select([chan], [], [], 0.05)
            status = chan.recv_exit_status()
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise errors.SSHError(
                f"Command on {self.label} failed: {err}.", host=self.label
            ) from None
        finally:
            chan.close()
        return status, out.decode("utf-8", "replace"), err_out.decode("utf-8", "replace")

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

    def check_reachable(self, remote_host: str, remote_port: int, timeout: float = 10.0) -> None:
        """Open and close one direct-tcpip channel: can the host reach that port?"""
        try:
            chan = self.transport.open_channel(
                "direct-tcpip", (remote_host, remote_port), ("127.0.0.1", 0), timeout=timeout
            )
        except paramiko.ChannelException as err:
            raise errors.KernelUnreachable(
                f"{self.label} cannot connect to {remote_host}:{remote_port} "
                f"({err.text or 'connect failed'}).",
                "Is the kernel still running there, and is its connection file current?",
                host=self.label,
            ) from None
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise errors.SSHError(
                f"Cannot open a forward on {self.label}: {err}.", host=self.label
            ) from None
        chan.close()

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
        try:
            self._on_state(StateEvent(self.label, self.key, state, message))
        except Exception:
            log.exception("state callback failed")

    def _supervise(self) -> None:
        next_keepalive = time.monotonic() + self.keepalive_interval
        while not self._closing.wait(WATCH_INTERVAL):
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
        except (paramiko.SSHException, OSError, EOFError) as err:
            log.info("keepalive to %s failed: %s", self.label, err)
            return False
        chan.close()
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
                self._closing.wait()  # permanent failure: stay down until closed
                return
            except errors.SSHError as err:
                log.info("reconnect to %s failed: %s", self.label, err)
                elapsed = time.monotonic() - started
                if self.reconnect_timeout is not None and elapsed > self.reconnect_timeout:
                    self._set_state(
                        TunnelState.DOWN,
                        f"Gave up reconnecting to {self.label} after {elapsed:.0f} s: {err}",
                    )
                    self._closing.wait()
                    return
                delay = RECONNECT_DELAYS[min(attempt - 1, len(RECONNECT_DELAYS) - 1)]
                self._closing.wait(delay)
                continue
            with self._lock:
                if self._closing.is_set():
                    _close_transport(transport)
                    return
                self._transport = transport
            self._set_state(TunnelState.UP, f"Reconnected to {self.label}")
            return


def _drain(chan: paramiko.Channel, out: bytearray, err_out: bytearray) -> bool:
    got = False
    for receive, buffer in ((chan.recv, out), (chan.recv_stderr, err_out)):
        while True:
            try:
                data = receive(65536)
            except TimeoutError:
                break
            if not data:
                break
            buffer += data
            got = True
    return got


def _close_transport(transport: paramiko.Transport) -> None:
    transport.close()
    sock = transport.sock
    if hasattr(sock, "close"):
        sock.close()
    # paramiko's thread ends within its 0.1 s socket timeout; wait so no thread outlives us.
    if transport.is_alive() and transport is not threading.current_thread():
        transport.join(5)
