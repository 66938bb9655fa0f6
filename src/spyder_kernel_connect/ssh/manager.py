"""TunnelManager: kernels reached through shared SSH sessions, one local connection file each
(``KernelTunnel``, kernel_tunnel.py)."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator

from spyder_kernel_connect.connection import PORT_NAMES, ConnectionInfo
from spyder_kernel_connect.ssh import errors, hops
from spyder_kernel_connect.ssh.connect import open_transport
from spyder_kernel_connect.ssh.forward import Forward
from spyder_kernel_connect.ssh.hostkeys import HostKeyDecider
from spyder_kernel_connect.ssh.kernel_tunnel import KernelTunnel, load_info, write_local_file
from spyder_kernel_connect.ssh.latency import LatencyOptions
from spyder_kernel_connect.ssh.prompts import PromptHandler
from spyder_kernel_connect.ssh.session import SSHSession, StateEvent, TunnelState
from spyder_kernel_connect.ssh.target import ResolvedTarget, SSHTarget

log = logging.getLogger(__name__)


class TunnelManager:
    """Opens kernel tunnels; shares one authenticated SSH session per (user, host, port).

    Blocking methods are meant for a worker thread; ``on_state`` and ``host_key_decider``
    are called from worker/supervisor threads (a GUI marshals them to its own thread).
    """

    def __init__(
        self,
        host_key_decider: HostKeyDecider | None = None,
        on_state: Callable[[StateEvent], None] | None = None,
        keepalive_interval: float = 15.0,
        keepalive_timeout: float = 10.0,
        reconnect_timeout: float | None = 600.0,
        latency: LatencyOptions | None = None,
        prompt_handler: PromptHandler | None = None,
        idle_timeout: float = 30.0,
        share_connections: bool = False,
        offer_connections: bool = True,
    ) -> None:
        """``latency``: the TCP and sshd Nagle switches of every connection (see
        LatencyOptions; all on by default). ``prompt_handler``: answers login questions
        (2FA codes, PAM prompts) of any host or jump host, on first connect and on
        reconnect; called on a worker or supervisor thread, answers are never kept.

        ``idle_timeout``: a session used only through ``lease`` (listing kernels, a failed
        attempt) closes this many seconds after its last use unless a tunnel uses it.

        ``share_connections``: use the connection another process of this user already
        has to the same destination (its control socket), and share ours once logged in
        (ssh/control.py; the CLI's default, off with --no-control) unless not
        ``offer_connections`` (a short-lived command: its clients would soon lose it)."""
        self.host_key_decider = host_key_decider
        self.prompt_handler = prompt_handler
        self.on_state = on_state
        self.keepalive_interval = keepalive_interval
        self.keepalive_timeout = keepalive_timeout
        self.reconnect_timeout = reconnect_timeout
        self.latency = latency or LatencyOptions()
        self.idle_timeout = idle_timeout
        self._idle_timers: dict[SSHSession, threading.Timer] = {}
        self._sessions: dict[tuple, SSHSession] = {}
        self._tunnels: list[KernelTunnel] = []
        self._lock = threading.Lock()
        self._connect_locks: dict[tuple, threading.Lock] = {}
        self._closing_all = False
        self.share_connections = share_connections
        self.offer_connections = offer_connections
        self._masters: list = []  # control.ControlMaster serving our sessions to others
        # Process exit closes everything, even if the owner forgot to.
        ref = weakref.ref(self)
        self._atexit = lambda: (m := ref()) is not None and m.close_all()
        atexit.register(self._atexit)

    # -- public ---------------------------------------------------------------------

    def session(
        self,
        target: SSHTarget | ResolvedTarget,
        cancel: threading.Event | None = None,
        pin: bool = True,
    ) -> SSHSession:
        """The shared authenticated session for ``target``.

        ``pin``: keep it open until close_all(); unpinned, it lives as long as its tunnels
        (or, if none comes, ``idle_timeout`` seconds). Work that needs the session for a
        while without a tunnel (listing, starting a kernel) uses ``lease`` instead.
        """
        session = self._session_for(_resolved(target), cancel)
        if pin:
            session.pinned = True
        else:
            self._schedule_idle_close(session)
        return session

    @contextlib.contextmanager
    def lease(
        self, target: SSHTarget | ResolvedTarget, cancel: threading.Event | None = None
    ) -> Iterator[SSHSession]:
        """The host's session, held open for the ``with`` block; idle-closed after it unless
        a tunnel opened meanwhile uses it (one login serves the listing and the tunnel)."""
        session = self._session_for(_resolved(target), cancel)
        with self._lock:
            session.users += 1
        try:
            yield session
        finally:
            with self._lock:
                session.users -= 1
            self._schedule_idle_close(session)

    def open_tunnel(
        self,
        target: SSHTarget | ResolvedTarget,
        spec_or_info: str | os.PathLike[str] | ConnectionInfo,
        cancel: threading.Event | None = None,
        local_dir: str | os.PathLike[str] | None = None,
    ) -> KernelTunnel:
        """Forward the kernel's five ports and write a local connection file (0600)."""
        remote_info = load_info(spec_or_info)
        if remote_info.transport != "tcp":
            raise errors.TunnelUnsupported(
                "This kernel uses the 'ipc' transport (Unix sockets), which cannot be forwarded.",
                "Start the remote kernel with the tcp transport.",
            )
        remote_host = remote_info.reachable_ip
        resolved = _resolved(target)
        session = self._session_for(resolved, cancel)
        with self._lock:
            session.users += 1
        forwards: list[Forward] = []
        try:
            # All five channels in one round trip, which also checks the kernel is reachable.
            remote_ports = [getattr(remote_info, name) for name in PORT_NAMES]
            forwards += session.open_forwards(remote_host, remote_ports)
            ports = {name: f.local_port for name, f in zip(PORT_NAMES, forwards, strict=True)}
            local_info = dataclasses.replace(remote_info, ip="127.0.0.1", path=None, **ports)
            path = write_local_file(local_info, remote_info, session, local_dir)
            local_info = dataclasses.replace(local_info, path=path)
        except BaseException:
            for forward in forwards:
                forward.close()
            with self._lock:
                session.users -= 1
            self._maybe_close(session)
            raise
        tunnel = KernelTunnel(
            self._release, session, resolved.target, remote_info, local_info, forwards
        )
        with self._lock:
            self._tunnels.append(tunnel)
        return tunnel

    @property
    def tunnels(self) -> list[KernelTunnel]:
        with self._lock:
            return list(self._tunnels)

    @property
    def sessions(self) -> list[SSHSession]:
        with self._lock:
            return list(self._sessions.values())

    def retry(self, session: SSHSession) -> bool:
        """The user asks a session that gave up (DOWN) to reconnect; jump hosts that gave
        up are retried too, since the session goes through one of them. False: nothing was
        down."""
        jumps = [s for s in self.sessions if s.pinned and s is not session]
        retried = [s.retry() for s in jumps]  # oldest first: a hop before the hosts behind it
        return session.retry() or any(retried)

    def sessions_asking(self, asker: str) -> list[SSHSession]:
        """The reconnecting sessions a login question comes from (``LoginRequest.host``)."""
        return [
            s
            for s in self.sessions
            if s.state is TunnelState.RECONNECTING
            and (asker == s.label or asker.endswith(f"({s.label})"))
        ]

    def close_all(self) -> None:
        """Close every tunnel and session; no thread, socket or file is left behind."""
        with self._lock:
            self._closing_all = True  # a reconnect racing with us must not open new sessions
            timers = list(self._idle_timers.values())
            self._idle_timers.clear()
        for timer in timers:
            timer.cancel()
        with self._lock:
            masters, self._masters = self._masters, []
        for master in masters:  # clients see it at once and log in themselves
            master.close()
        try:
            for tunnel in self.tunnels:
                tunnel.close()
            with self._lock:
                sessions = list(self._sessions.values())
                self._sessions.clear()
            # Newest first: a session riding on a jump host's session goes before that one,
            # so it never sees its jump connection vanish and tries to reconnect through it.
            for session in reversed(sessions):
                session.close()
        finally:
            with self._lock:
                self._closing_all = False
        atexit.unregister(self._atexit)

    def __enter__(self) -> TunnelManager:
        return self

    def __exit__(self, *exc) -> None:
        self.close_all()

    # -- internals ------------------------------------------------------------------

    def _session_for(
        self, resolved: ResolvedTarget, cancel: threading.Event | None, share: bool = True
    ) -> SSHSession:
        # A host reached through a jump host is another connection than the same host direct.
        key = (*resolved.key, resolved.proxy_jump, resolved.proxy_command)
        with self._lock:
            connect_lock = self._connect_locks.setdefault(key, threading.Lock())
        # Two threads asking for the same host wait for one connection, not two.
        with connect_lock:
            with self._lock:
                if self._closing_all:
                    raise errors.SessionNotConnected(
                        f"Not connecting to {resolved.label}: the tunnel manager is closing.",
                        host=resolved.label,
                    )
                session = self._sessions.get(key)
                if session is not None and not session.closed:
                    return session
            session = None
            if share and self.share_connections:
                session = self._shared_session(resolved, key)
            if session is None:
                session = self._login(resolved, cancel, share)
            with self._lock:
                self._sessions[key] = session
            return session

    def _shared_session(self, resolved: ResolvedTarget, key: tuple):
        """Another process's connection to the destination, if one serves it (a
        ControlSession standing in for an SSHSession), else None."""
        from spyder_kernel_connect.ssh import control, control_client

        return control_client.attach(
            control.socket_path(key),
            resolved,
            key,
            self._emit,
            lambda cancel: self._login(resolved, cancel, share=True),
        )

    def _login(
        self, resolved: ResolvedTarget, cancel: threading.Event | None, share: bool
    ) -> SSHSession:
        """A new SSH connection of our own; shared with our other processes if asked."""
        key = (*resolved.key, resolved.proxy_jump, resolved.proxy_command)
        # "Accept once" trusts a host key for this connection (and its reconnects) only:
        # the next session asks again, or reads known_hosts afresh.
        accepted_once: dict[tuple[str, int], str] = {}
        session = SSHSession(
            resolved,
            lambda resolved, cancel: self._connect(resolved, cancel, accepted_once, session),
            self._emit,
            self.keepalive_interval,
            self.keepalive_timeout,
            self.reconnect_timeout,
        )
        session.connect(cancel)
        if share and self.share_connections and self.offer_connections:
            self._serve(session, key)
        return session

    def _serve(self, session: SSHSession, key: tuple) -> None:
        from spyder_kernel_connect.ssh import control

        master = control.ControlMaster(session, control.socket_path(key), key)
        if master.start():
            with self._lock:
                self._masters.append(master)

    def _connect(
        self,
        resolved: ResolvedTarget,
        cancel: threading.Event | None,
        accepted_once: dict[tuple[str, int], str],
        session: SSHSession | None = None,
    ):
        # Jump hosts are sessions of their own (shared, logged into once), a ProxyCommand
        # is a process per attempt; hops.py makes the stream and names the failing hop.
        def through(hop: SSHTarget) -> SSHSession:
            jump = self._jump_session(hop, cancel)
            if session is not None:
                session.via = jump  # who must log in again for this one to come back
            return jump

        factory = hops.socket_factory(resolved, through)
        with factory.explained() if factory else contextlib.nullcontext():
            return open_transport(
                resolved,
                decider=self.host_key_decider,
                accepted_once=accepted_once,
                cancel=cancel,
                sock_factory=factory,
                latency=self.latency,
                prompt_handler=self.prompt_handler,
            )

    def _jump_session(self, target: SSHTarget, cancel: threading.Event | None) -> SSHSession:
        jump = self._session_for(target.resolve(), cancel, share=False)
        jump.pinned = True  # lives as long as the manager: the hosts behind it depend on it
        return jump

    def _emit(self, event: StateEvent) -> None:
        log.info("%s: %s (%s)", event.host, event.state.value, event.message)
        if self.on_state is not None:
            self.on_state(event)

    def _release(self, tunnel: KernelTunnel) -> None:
        with self._lock:
            if tunnel in self._tunnels:
                self._tunnels.remove(tunnel)
            tunnel.session.users -= 1
        self._maybe_close(tunnel.session)

    def _schedule_idle_close(self, session: SSHSession) -> None:
        """Close ``session`` after ``idle_timeout`` unless a tunnel or a lease uses it then."""
        timer = threading.Timer(self.idle_timeout, self._maybe_close, args=(session,))
        timer.daemon = True
        timer.name = f"ssh-idle-{session.resolved.hostname}"
        with self._lock:
            previous = self._idle_timers.pop(session, None)
            if self._closing_all or session.closed:
                return
            self._idle_timers[session] = timer
        if previous is not None:
            previous.cancel()  # the idle time counts from the last use
        timer.start()

    def _maybe_close(self, session: SSHSession) -> None:
        with self._lock:
            if session.users > 0 or session.pinned:
                return
            timer = self._idle_timers.pop(session, None)
            if timer is not None and timer is not threading.current_thread():
                timer.cancel()
            for key, value in list(self._sessions.items()):
                if value is session:
                    del self._sessions[key]
        session.close()


def _resolved(target: SSHTarget | ResolvedTarget) -> ResolvedTarget:
    """Callers that resolved ``~/.ssh/config`` once pass the result; it is not read again."""
    return target if isinstance(target, ResolvedTarget) else target.resolve()
