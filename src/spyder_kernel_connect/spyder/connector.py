"""One connection attempt, run on a worker thread, and the bridge back to the GUI thread.

``connect_blocking`` is plain Python (it is what the worker thread runs); ``EngineBridge``
carries the tunnel engine's worker-thread callbacks (host-key questions, state events,
progress) to the GUI thread as queued Qt signals and blocks the worker until the user
answers a host-key question or cancels.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, Signal
from spyder.api.translations import _

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    probe_heartbeats,
    read_connection_file,
    resolve_connection_file,
)
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.presets import (
    ConnectionSettings,
    local_copy,
    remote_kernel_options,
    to_ssh_target,
)

logger = logging.getLogger(__name__)

LOCAL_PROBE_TIMEOUT = 3.0
TUNNEL_PROBE_TIMEOUT = 10.0


class KernelNotAnswering(KernelConnectError):
    """The connection file is fine but nobody answers on its heartbeat port."""


class ConnectionCancelled(KernelConnectError):
    def __init__(self) -> None:
        super().__init__("Connection cancelled.")


class TunnelEngineMissing(KernelConnectError):
    pass


@dataclass
class ConnectOutcome:
    """What the GUI needs to open the console: a LOCAL connection file, maybe a tunnel."""

    connection_file: str
    tunnel: Any = None
    label: str | None = None  # shown in the console tab, e.g. "me@server"
    started: Any = None  # ssh.remote.StartedKernel, if the plugin started this kernel


@dataclass
class RemoteListing:
    """The kernels found on an SSH host (``ssh.remote`` KernelEntry list, newest first)."""

    label: str
    runtime_dir: str
    entries: list


def list_remote_blocking(
    settings: ConnectionSettings,
    cancel: threading.Event,
    progress: Callable[[str], None],
    manager_factory: Callable[[], Any],
) -> RemoteListing:
    """Log in (or reuse the host's session) and list the connection files in its runtime dir."""
    from spyder_kernel_connect.ssh.remote import list_remote_kernels, remote_runtime_dir

    target = to_ssh_target(settings)
    options = remote_kernel_options(settings)
    progress(_("Connecting to {} through SSH...").format(target.host))
    session = _shared_session(manager_factory(), target, cancel)
    _check_cancel(cancel)
    progress(_("Looking for kernels on {}...").format(target.host))
    directory = remote_runtime_dir(
        session, options["remote_python"], override=options["runtime_dir"]
    )
    _check_cancel(cancel)
    entries = list_remote_kernels(session, directory)
    _check_cancel(cancel)
    return RemoteListing(session.label, directory, entries)


def _shared_session(manager: Any, target: Any, cancel: threading.Event) -> Any:
    """The host's one SSH session, which the tunnel will use too (no second login).

    session() pins the connection for its caller; here the tunnels own it, so the last
    console tab closed ends it.
    """
    session = manager.session(target, cancel)
    session.pinned = False
    return session


def connect_blocking(
    settings: ConnectionSettings,
    cancel: threading.Event,
    progress: Callable[[str], None],
    manager_factory: Callable[[], Any],
    start: bool = False,
) -> ConnectOutcome:
    """Resolve, tunnel if remote, and check the kernel answers; raise KernelConnectError.

    ``start``: start a new kernel on the SSH host (``settings.remote_python``) instead.
    """
    if not settings.remote:
        progress(_("Reading the connection file..."))
        path = resolve_connection_file(settings.connection_file)
        info = read_connection_file(path)
        _check_cancel(cancel)
        progress(_("Waiting for the kernel to answer..."))
        if not probe_heartbeats([info], LOCAL_PROBE_TIMEOUT)[0]:
            raise KernelNotAnswering(
                f"The kernel of {path} does not answer (no heartbeat within "
                f"{LOCAL_PROBE_TIMEOUT:.0f} s).",
                "It has probably exited: pick a running kernel from the list, or start it again.",
            )
        _check_cancel(cancel)
        return ConnectOutcome(path)

    target = to_ssh_target(settings)
    info = session = started = None
    # A file copied from the server is used as is; otherwise the server is asked.
    if not start and local_copy(settings.connection_file):
        with contextlib.suppress(ConnectionFileError):
            info = read_connection_file(local_copy(settings.connection_file))
    manager = manager_factory()
    progress(_("Connecting to {} through SSH...").format(target.host))
    if info is None:
        from spyder_kernel_connect.ssh.remote import obtain_remote_kernel

        session = _shared_session(manager, target, cancel)
        _check_cancel(cancel)
        options = remote_kernel_options(settings)
        if start:
            progress(
                _("Starting a kernel on {} with {}...").format(
                    target.host, options["remote_python"]
                )
            )
        else:
            progress(_("Looking for {} on {}...").format(settings.connection_file, target.host))
        choice = obtain_remote_kernel(
            session, settings.connection_file, start=start, cancel=cancel, **options
        )
        info, started = choice.info, choice.started
    try:
        _check_cancel(cancel)
        tunnel = manager.open_tunnel(target, info, cancel=cancel)
    except BaseException:
        _stop_quietly(session, started)
        raise
    try:
        _check_cancel(cancel)
        progress(_("Waiting for the kernel to answer through the tunnel..."))
        local_info = read_connection_file(tunnel.local_connection_file)
        if not probe_heartbeats([local_info], TUNNEL_PROBE_TIMEOUT)[0]:
            raise KernelNotAnswering(
                f"The SSH connection to {target.host} works, but the kernel does not answer "
                f"through it (no heartbeat within {TUNNEL_PROBE_TIMEOUT:.0f} s).",
                "Check that the kernel is still running on the server and that the "
                "connection file is the current one.",
            )
        _check_cancel(cancel)
    except BaseException:
        _stop_quietly(session, started)
        tunnel.close()
        raise
    user = f"{target.user}@" if target.user else ""
    return ConnectOutcome(tunnel.local_connection_file, tunnel, f"{user}{target.host}", started)


def _stop_quietly(session: Any, started: Any) -> None:
    """A kernel started for an attempt that then failed or was cancelled: stop it again."""
    if started is None:
        return
    from spyder_kernel_connect.ssh.remote import stop_remote_kernel

    try:
        stop_remote_kernel(session, started)
    except Exception:
        logger.warning("Could not stop the kernel started on %s", session.label, exc_info=True)


def stop_started_kernel(tunnel: Any, started: Any) -> None:
    """Shut down a kernel the plugin started, through its tunnel's SSH session; then close."""
    from spyder_kernel_connect.ssh.remote import stop_remote_kernel

    try:
        stop_remote_kernel(tunnel.session, started)
    finally:
        tunnel.close()


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise ConnectionCancelled()


class HostKeyQuestion:
    """One unknown-host-key question, asked on a worker thread, answered on the GUI thread."""

    def __init__(self, info: Any) -> None:
        self.info = info
        self.decision: Any = None
        self._answered = threading.Event()

    def answer(self, decision: Any) -> None:
        self.decision = decision
        self._answered.set()

    def wait(self, cancel: threading.Event | None, reject: Any) -> Any:
        # Poll so a Cancel while the question is open unblocks the worker.
        while not self._answered.wait(0.1):
            if cancel is not None and cancel.is_set():
                return reject
        return self.decision


class EngineBridge(QObject):
    sig_host_key_question = Signal(object)
    sig_state_event = Signal(object)
    sig_progress = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel: threading.Event | None = None
        self._pending: list[HostKeyQuestion] = []
        self._lock = threading.Lock()

    def decide_host_key(self, info: Any) -> Any:
        """The tunnel manager's host_key_decider; called on a worker thread."""
        from spyder_kernel_connect.ssh import HostKeyDecision

        question = HostKeyQuestion(info)
        with self._lock:
            self._pending.append(question)
        try:
            self.sig_host_key_question.emit(question)
            return question.wait(self.cancel, HostKeyDecision.REJECT)
        finally:
            with self._lock:
                self._pending.remove(question)

    def on_state(self, event: Any) -> None:
        """The tunnel manager's on_state callback; any thread."""
        with contextlib.suppress(RuntimeError):  # the plugin is shutting down
            self.sig_state_event.emit(event)

    def report_progress(self, message: str) -> None:
        with contextlib.suppress(RuntimeError):
            self.sig_progress.emit(message)

    def cancel_pending(self) -> None:
        from spyder_kernel_connect.ssh import HostKeyDecision

        with self._lock:
            pending = list(self._pending)
        for question in pending:
            question.answer(HostKeyDecision.REJECT)
