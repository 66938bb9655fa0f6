"""The connect service: from a request to a kernel that answers, for the GUI and the CLI.

One attempt resolves the SSH target once (``~/.ssh/config`` read once), logs in once (or
reuses the host's session), obtains the kernel once (``KernelSource``), opens the tunnel and
probes the kernel through it. It runs on the caller's thread (a worker thread in the GUI)
and reports ``Progress`` values; it never prints, opens a window or reads a terminal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from spyder_kernel_connect.connection import ConnectionInfo, KernelEntry, probe_heartbeats
from spyder_kernel_connect.service.errors import ConnectionCancelled, KernelNotAnswering
from spyder_kernel_connect.service.progress import (
    Progress,
    ProgressCallback,
    Step,
    no_progress,
)
from spyder_kernel_connect.service.sources import KernelSource, ObtainedKernel, OnHost
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.hostkeys import HostKeyDecider
from spyder_kernel_connect.ssh.kernel_tunnel import KernelTunnel
from spyder_kernel_connect.ssh.manager import TunnelManager
from spyder_kernel_connect.ssh.session import SSHSession, StateEvent
from spyder_kernel_connect.ssh.target import SSHTarget

if TYPE_CHECKING:
    from spyder_kernel_connect.scheduler.source import RunningJob

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCAL_PROBE_TIMEOUT = 3.0
TUNNEL_PROBE_TIMEOUT = 10.0


@dataclass
class ConnectRequest:
    """A validated request: which kernel (``source``), and over which SSH host (``target``,
    None for a kernel on this computer). ``local_dir``: where the tunnel's file goes."""

    source: KernelSource
    target: SSHTarget | None = None
    local_dir: str | None = None
    probe: bool = True  # wait for the kernel's heartbeat before returning


@dataclass
class Connection:
    """A kernel that answered: the LOCAL connection info a console opens, and what holds it."""

    local_info: ConnectionInfo  # its ``path`` is the file to give the console
    label: str = ""  # for the console tab, e.g. "me@server"; "" for a local kernel
    tunnel: KernelTunnel | None = None
    started: remote.StartedKernel | None = None  # a kernel this attempt started on the host
    where: str = ""  # where the kernel's file was found (local path or path on the host)
    # Edit here, run there: (local project folder, folder on the host), set by the GUI from
    # the form; the console keeps them in sync over ``tunnel.session``.
    sync_folders: tuple[str, str] | None = None
    preset: str = ""  # the saved connection it was opened from ("" if none), set by the GUI
    job: RunningJob | None = None  # the batch job (SLURM) the kernel runs in

    @property
    def connection_file(self) -> str:
        return self.local_info.path or ""


@dataclass
class HostListing:
    """The kernels found on an SSH host, newest first."""

    label: str
    runtime_dir: str
    entries: list[KernelEntry] = field(default_factory=list)


class ConnectService:
    """Connects to kernels, local or through SSH; owns the one ``TunnelManager``.

    ``host_key_decider`` and ``on_state`` go to the tunnel manager (called on worker
    threads; a GUI marshals them to its own thread). Every blocking method takes a
    ``cancel`` event and a ``progress`` callback.
    """

    def __init__(
        self,
        host_key_decider: HostKeyDecider | None = None,
        on_state: Callable[[StateEvent], None] | None = None,
        manager: TunnelManager | None = None,
        **manager_options: Any,
    ) -> None:
        """``manager``: an existing TunnelManager to use; else one is made on first use with
        the two callbacks and ``manager_options`` (any other TunnelManager keyword, e.g. a
        prompt handler for keyboard-interactive authentication)."""
        self._manager = manager
        self._manager_args = {
            "host_key_decider": host_key_decider,
            "on_state": on_state,
            **manager_options,
        }
        self._lock = threading.Lock()

    @property
    def manager(self) -> TunnelManager:
        """The tunnel manager, created on first use (a local-only user never loads SSH)."""
        with self._lock:
            if self._manager is None:
                self._manager = TunnelManager(**self._manager_args)
            return self._manager

    def connect(
        self,
        request: ConnectRequest,
        cancel: threading.Event | None = None,
        progress: ProgressCallback = no_progress,
    ) -> Connection:
        """Obtain the kernel, tunnel to it if remote, check it answers; raise a typed error."""
        cancel = cancel or threading.Event()
        if request.target is None:
            return self._connect_local(request, cancel, progress)
        resolved = request.target.resolve()
        session: SSHSession | None = None
        manager = self.manager
        label = _label(request.target)
        if not request.source.needs_session():
            kernel = request.source.obtain(None, cancel, progress)
            progress(Progress(Step.LOGIN, host=label))
            tunnel = manager.open_tunnel(resolved, kernel.info, cancel, request.local_dir)
        else:
            progress(Progress(Step.LOGIN, host=label))
            with manager.lease(resolved, cancel) as session:
                _check_cancel(cancel)
                kernel = request.source.obtain(session, cancel, progress)
                try:
                    _check_cancel(cancel)
                    progress(Progress(Step.OPEN_TUNNEL, host=label))
                    tunnel = manager.open_tunnel(resolved, kernel.info, cancel, request.local_dir)
                except BaseException:
                    _discard_quietly(session, kernel)
                    raise
        connection = Connection(
            tunnel.local_info,
            kernel.label or label,
            tunnel,
            kernel.started,
            kernel.where,
            job=kernel.job,
        )
        try:
            _check_cancel(cancel)
            if request.probe:
                progress(Progress(Step.PROBE_TUNNEL, host=label))
                if not probe_heartbeats([tunnel.local_info], TUNNEL_PROBE_TIMEOUT)[0]:
                    raise KernelNotAnswering(
                        f"The SSH connection to {request.target.host} works, but the kernel "
                        "does not answer through it (no heartbeat within "
                        f"{TUNNEL_PROBE_TIMEOUT:.0f} s).",
                        "Check that the kernel is still running on the server and that the "
                        "connection file is the current one.",
                    )
            _check_cancel(cancel)
        except BaseException:
            _discard_quietly(tunnel.session, kernel)
            tunnel.close()
            raise
        return connection

    def _connect_local(
        self, request: ConnectRequest, cancel: threading.Event, progress: ProgressCallback
    ) -> Connection:
        kernel = request.source.obtain(None, cancel, progress)
        _check_cancel(cancel)
        if request.probe:
            progress(Progress(Step.PROBE_LOCAL))
            if not probe_heartbeats([kernel.info], LOCAL_PROBE_TIMEOUT)[0]:
                raise KernelNotAnswering(
                    f"The kernel of {kernel.where} does not answer (no heartbeat within "
                    f"{LOCAL_PROBE_TIMEOUT:.0f} s).",
                    "It has probably exited: pick a running kernel from the list, or start "
                    "it again.",
                )
        _check_cancel(cancel)
        return Connection(kernel.info, where=kernel.where)

    def list_host(
        self,
        target: SSHTarget,
        host: OnHost,
        cancel: threading.Event | None = None,
        progress: ProgressCallback = no_progress,
        probe_timeout: float = 1.0,
    ) -> HostListing:
        """The connection files in the host's runtime dir (``host.runtime_dir`` or asked)."""

        def listing(session: SSHSession, cancel: threading.Event) -> HostListing:
            progress(Progress(Step.LIST_ON_HOST, host=_label(target)))
            directory = host.host_dir(session, cancel)
            _check_cancel(cancel)
            entries = remote.list_remote_kernels(session, directory, timeout=probe_timeout)
            return HostListing(session.label, directory, entries)

        return self.on_host(target, listing, cancel, progress)

    def on_host(
        self,
        target: SSHTarget,
        work: Callable[[SSHSession, threading.Event], T],
        cancel: threading.Event | None = None,
        progress: ProgressCallback = no_progress,
    ) -> T:
        """``work(session, cancel)`` over the host's session (logged in, or reused).

        The session stays open for a moment after (a connect that follows reuses it: one
        login), then closes unless a tunnel uses it.
        """
        cancel = cancel or threading.Event()
        progress(Progress(Step.LOGIN, host=_label(target)))
        with self.manager.lease(target.resolve(), cancel) as session:
            _check_cancel(cancel)
            result = work(session, cancel)
            _check_cancel(cancel)
            return result

    def stop_started(self, connection: Connection) -> None:
        """Stop the kernel behind ``connection`` through its tunnel's session (a kernel this
        service started on the host, or the batch job the kernel runs in: scancel, files
        removed), then close the tunnel."""
        tunnel = connection.tunnel
        if tunnel is None:
            return
        try:
            if connection.started is not None:
                remote.stop_remote_kernel(tunnel.session, connection.started)
            if connection.job is not None:
                connection.job.cancel(tunnel.session)
        finally:
            tunnel.close()

    def close(self) -> None:
        """Close every tunnel and SSH session (kernels started on hosts keep running)."""
        with self._lock:
            manager = self._manager
        if manager is not None:
            manager.close_all()


def _label(target: SSHTarget) -> str:
    return f"{target.user}@{target.host}" if target.user else target.host


def _discard_quietly(session: SSHSession | None, kernel: ObtainedKernel) -> None:
    """A kernel obtained for an attempt that then failed or was cancelled: stop the kernel
    started for it, cancel the job submitted for it."""
    if session is None:
        return
    try:
        kernel.discard(session)
    except Exception:
        log.warning("Could not stop the kernel obtained on %s", session.label, exc_info=True)


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise ConnectionCancelled()
