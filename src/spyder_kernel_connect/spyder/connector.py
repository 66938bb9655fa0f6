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
from spyder_kernel_connect.presets import ConnectionSettings, to_ssh_target

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


def connect_blocking(
    settings: ConnectionSettings,
    cancel: threading.Event,
    progress: Callable[[str], None],
    manager_factory: Callable[[], Any],
) -> ConnectOutcome:
    """Resolve, tunnel if remote, and check the kernel answers; raise KernelConnectError."""
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
    info = None
    # A file copied from the server is used as is; otherwise the server is asked.
    with contextlib.suppress(ConnectionFileError):
        info = read_connection_file(resolve_connection_file(settings.connection_file))
    manager = manager_factory()
    progress(_("Connecting to {} through SSH...").format(target.host))
    if info is None:
        from spyder_kernel_connect.ssh.remote import obtain_remote_kernel

        session = manager.session(target, cancel)
        _check_cancel(cancel)
        progress(_("Looking for {} on {}...").format(settings.connection_file, target.host))
        info = obtain_remote_kernel(session, settings.connection_file).info
        # session() pins the connection for its caller; here the tunnels own it, so the
        # last console tab closed ends it.
        session.pinned = False
        _check_cancel(cancel)
    tunnel = manager.open_tunnel(target, info, cancel=cancel)
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
        tunnel.close()
        raise
    user = f"{target.user}@" if target.user else ""
    return ConnectOutcome(tunnel.local_connection_file, tunnel, f"{user}{target.host}")


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
