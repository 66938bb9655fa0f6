"""The client side of connection sharing (see control.py): another process's login, used.

``ControlSession`` stands in for an ``SSHSession`` where the connect service uses one
(``run``, ``sftp``, ``open_forward(s)``, ``label``, ``state``), so resolving, fetching the
connection file and writing the local 0600 file work unchanged. Its forwards listen on
127.0.0.1 in this process; each local connection gets a channel through the master
(a Unix connection spliced to a direct-tcpip channel there).

When the master ends (Ctrl+C in its terminal, or killed), this process notices at once
on its lifeline connection and logs in itself, as the first one did (it may ask for a
2FA code in its own terminal), then shares that login in turn. Its local ports stay the
same, so open consoles reconnect by themselves, as after a network cut.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable

import paramiko

from spyder_kernel_connect import predial
from spyder_kernel_connect.ssh import control, errors
from spyder_kernel_connect.ssh.control_forward import ControlForward, ControlForwards
from spyder_kernel_connect.ssh.session import SSHSession, StateEvent, TunnelState, report_state
from spyder_kernel_connect.ssh.target import ResolvedTarget

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
OPEN_TIMEOUT = 15.0

Login = Callable[[threading.Event], SSHSession]


def attach(
    path: str,
    resolved: ResolvedTarget,
    key: tuple,
    on_state: Callable[[StateEvent], None],
    login: Login,
) -> ControlSession | None:
    """A session through the master on ``path``, or None if no master serves there."""
    lifeline = _hello(path, key)
    if lifeline is None:
        return None
    log.info("using the shared connection to %s (control socket %s)", resolved.label, path)
    # The CLI dialed the host before its imports; not needed: hang up now rather than
    # leave sshd an unauthenticated connection until its LoginGraceTime.
    early = predial.take(resolved.hostname, resolved.port, 0)
    if early is not None:
        early.close()
    return ControlSession(path, resolved, key, lifeline, on_state, login)


def _hello(path: str, key: tuple) -> socket.socket | None:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(5.0)
    try:
        conn.connect(path)
        if control.peer_uid(conn) != os.getuid():
            raise OSError("control socket of another user")
        control.send_line(
            conn,
            {"op": "hello", "v": control.PROTOCOL_VERSION, "key": control.destination_key(key)},
        )
        reply = control.read_line(conn)
    except (OSError, ValueError) as err:
        log.debug("no control master on %s: %s", path, err)
        conn.close()
        return None
    if not reply or not reply.get("ok"):
        conn.close()
        return None
    conn.settimeout(None)
    return conn


class ControlSession:
    """An SSH connection of another process of this user, used through its control socket."""

    def __init__(
        self,
        path: str,
        resolved: ResolvedTarget,
        key: tuple,
        lifeline: socket.socket,
        on_state: Callable[[StateEvent], None],
        login: Login,
    ) -> None:
        self.path = path
        self.resolved = resolved
        self.key = resolved.key
        self.label = resolved.label
        self.users = 0
        self.pinned = False
        self._destination = key
        self._on_state = on_state
        self._login = login
        self._lock = threading.Lock()
        self._fallback_lock = threading.Lock()
        self._closing = threading.Event()
        self._own: SSHSession | None = None
        self._down: errors.SSHError | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._generation = 0  # bumped when the master changes: parked channels are stale
        self._lifeline = lifeline
        self._state = TunnelState.UP
        self._forwards = ControlForwards(self)
        self._watch()

    # -- what the connect service uses --------------------------------------------------

    @property
    def state(self) -> TunnelState:
        own = self._own
        return own.state if own is not None else self._state

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    @property
    def shared(self) -> bool:
        """Still using another process's connection (False once logged in ourselves)."""
        return self._own is None and not self.closed

    @property
    def transport(self) -> paramiko.Transport:
        return self._session_or_raise().transport

    def run(
        self, command: str, timeout: float = 30.0, cancel: threading.Event | None = None
    ) -> tuple[int, str, str]:
        if self._own is None:
            conn = self._request({"op": "run", "command": command, "timeout": timeout})
            if conn is not None:
                reply = self._reply(conn, timeout + 5.0, cancel, command)
                conn.close()
                return reply["status"], reply["stdout"], reply["stderr"]
        return self._session_or_raise().run(command, timeout, cancel)

    def sftp(self) -> paramiko.SFTPClient:
        """An SFTP client on a spliced SFTP channel of the master (cached)."""
        if self._own is None:
            with self._lock:  # never held across a request: falling back takes it too
                sftp = self._sftp
            if sftp is not None and sftp.sock.fileno() != -1:
                return sftp
            conn = self._request({"op": "sftp"})
            if conn is not None:
                self._reply(conn, OPEN_TIMEOUT, None, "sftp")
                sftp = paramiko.SFTPClient(_SFTPStream(fileno=conn.detach()))
                with self._lock:
                    self._sftp = sftp
                return sftp
        return self._session_or_raise().sftp()

    def open_forward(self, remote_host: str, remote_port: int) -> ControlForward:
        if self.closed:
            raise errors.SessionNotConnected(f"The SSH session to {self.label} is closed.")
        return self._forwards.add(remote_host, remote_port)

    def open_forwards(
        self, remote_host: str, remote_ports: list[int], timeout: float = 10.0
    ) -> list[ControlForward]:
        """One forward per port; their channels opened at once, checking the kernel is
        reachable, and kept for each port's first local connection."""
        forwards = [self.open_forward(remote_host, port) for port in remote_ports]
        try:
            self._forwards.preopen(forwards)
        except BaseException:
            for forward in forwards:
                forward.close()
            raise
        return forwards

    def retry(self) -> bool:
        """As SSHSession.retry: only our own connection (after falling back) can be down."""
        own = self._own
        return own.retry() if own is not None else False

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._forwards.stop()
        control.abort(self._lifeline)
        with self._lock:
            sftp, self._sftp = self._sftp, None
        if sftp is not None:
            with contextlib.suppress(OSError, EOFError):
                sftp.close()
        with self._fallback_lock:
            own = self._own
        if own is not None:
            own.close()
        self._set_state(TunnelState.CLOSED, f"Closed connection to {self.label}")

    # -- channels -----------------------------------------------------------------------

    def open_channel(self, host: str, port: int):
        """A stream to host:port on the far side: a spliced Unix connection, or (after
        falling back) a channel of our own connection."""
        if self._own is None:
            conn = self._request({"op": "channel", "host": host, "port": port})
            if conn is not None:
                self._reply(conn, OPEN_TIMEOUT, self._closing, f"{host}:{port}")
                return conn
        transport = self._session_or_raise().transport
        try:
            return transport.open_channel(
                "direct-tcpip", (host, port), (LOCALHOST, 0), timeout=OPEN_TIMEOUT
            )
        except paramiko.ChannelException as err:
            raise _unreachable(self.label, host, port, err.text) from None
        except (paramiko.SSHException, OSError, EOFError) as err:
            raise errors.SSHError(f"Cannot open a forward on {self.label}: {err}.") from None

    @property
    def generation(self) -> int:
        return self._generation

    # -- the master, and falling back -----------------------------------------------------

    def _request(self, message: dict) -> socket.socket | None:
        """A Unix connection with ``message`` sent; None (after falling back) if the
        master is gone."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.settimeout(5.0)
            conn.connect(self.path)
            control.send_line(conn, message)
        except OSError as err:
            conn.close()
            self._fall_back(f"its control socket refused a request ({err})")
            return None
        return conn

    def _reply(self, conn, timeout: float, cancel: threading.Event | None, what: str) -> dict:
        deadline = time.monotonic() + timeout
        conn.settimeout(0.1)

        def give_up() -> bool:
            return time.monotonic() > deadline or (cancel is not None and cancel.is_set())

        try:
            reply = control.read_line(conn, give_up)
        except (OSError, ValueError):
            reply = None
        if reply is None:
            conn.close()
            if cancel is not None and cancel.is_set():
                raise errors.Cancelled(f"Cancelled while {self.label} ran {what[:60]!r}.")
            if time.monotonic() > deadline:
                raise errors.ConnectTimeout(
                    f"The connection shared by another tunnel to {self.label} did not answer "
                    f"within {timeout:g} s ({what[:60]!r}).",
                    "Try again, or use --no-control to log in separately.",
                    host=self.label,
                )
            raise errors.SessionNotConnected(
                f"The tunnel process sharing its connection to {self.label} ended.",
                "Run the command again: it then logs in itself.",
                host=self.label,
            )
        conn.settimeout(None)
        if reply.get("ok"):
            return reply
        conn.close()
        if reply.get("refused"):
            host, _, port = what.rpartition(":")
            raise _unreachable(self.label, host, int(port), reply.get("message"))
        cls = getattr(errors, str(reply.get("type")), errors.SSHError)
        if not (isinstance(cls, type) and issubclass(cls, errors.SSHError)):
            cls = errors.SSHError
        raise cls(str(reply.get("message", "")), str(reply.get("hint", "")), host=self.label)

    def _session_or_raise(self) -> SSHSession:
        own = self._own
        if own is not None:
            return own
        raise self._down or errors.SessionNotConnected(
            f"The SSH connection to {self.label} is closed.", host=self.label
        )

    def _watch(self) -> None:
        lifeline = self._lifeline

        def watch() -> None:
            with contextlib.suppress(OSError):
                while lifeline.recv(control.CHUNK):
                    pass
            if not self._closing.is_set() and lifeline is self._lifeline:
                self._fall_back("it ended")

        threading.Thread(target=watch, name="ssh-control-lifeline", daemon=True).start()

    def _fall_back(self, why: str) -> None:
        """The master is gone: use a new master if another process just became one,
        else log in ourselves (and share that login)."""
        with self._fallback_lock:
            if self._closing.is_set() or self._own is not None or self._down is not None:
                return
            if self._lifeline is not None and not _lifeline_dead(self._lifeline):
                return  # a request failed for another reason; the master is still there
            self._generation += 1
            self._forwards.drop_parked()
            with self._lock:
                self._sftp = None
            log.info("the shared connection to %s is gone: %s", self.label, why)
            self._set_state(
                TunnelState.RECONNECTING,
                f"The tunnel whose connection to {self.label} this one shared has ended; "
                "logging in ourselves",
            )
            lifeline = _hello(self.path, self._destination)
            if lifeline is not None:
                control.abort(self._lifeline)
                self._lifeline = lifeline
                self._watch()
                log.info("now using the connection shared by another process on %s", self.path)
                self._set_state(TunnelState.UP, f"Using another shared connection to {self.label}")
                return
            try:
                self._own = self._login(self._closing)
            except errors.SSHError as err:
                self._down = err
                self._set_state(TunnelState.DOWN, f"Logging in to {self.label} failed: {err}")
                return
            log.info("logged in to %s ourselves after the shared connection ended", self.label)

    def _set_state(self, state: TunnelState, message: str) -> None:
        if self._state is TunnelState.CLOSED:
            return
        self._state = state
        report_state(self._on_state, StateEvent(self.label, self.key, state, message))

    def __repr__(self) -> str:
        return f"<ControlSession {self.label} via {self.path}>"


class _SFTPStream(socket.socket):
    """The spliced Unix connection as paramiko's SFTP client wants it (it logs a name)."""

    def get_name(self) -> str:
        return "control"


def _lifeline_dead(conn: socket.socket, wait: float = 1.0) -> bool:
    """Has the master ended? (It removes its socket file just before it cuts its clients,
    so a refused request waits a moment for the lifeline to say so.)"""
    try:
        ready, _, _ = select.select([conn], [], [], wait)
        return bool(ready) and not conn.recv(1, socket.MSG_PEEK)
    except (OSError, ValueError):
        return True


def _unreachable(label: str, host: str, port: int, text: str | None) -> errors.KernelUnreachable:
    return errors.KernelUnreachable(
        f"{label} cannot connect to {host}:{port} ({text or 'connect failed'}).",
        "Is the kernel still running there, and is its connection file current?",
        host=label,
    )
