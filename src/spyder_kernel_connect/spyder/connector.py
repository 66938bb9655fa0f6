"""The Qt bridge between the connect service's worker thread and the GUI thread.

``EngineBridge`` carries the service's worker-thread callbacks (host-key questions, tunnel
state events, progress steps) to the GUI thread as queued Qt signals, and blocks the worker
until the user answers a host-key question or cancels. The connecting itself is
``service.ConnectService``'s.
"""

from __future__ import annotations

import contextlib
import threading

from qtpy.QtCore import QObject, Signal

from spyder_kernel_connect.service import Progress
from spyder_kernel_connect.ssh import HostKeyDecision, HostKeyInfo, StateEvent


class HostKeyQuestion:
    """One unknown-host-key question, asked on a worker thread, answered on the GUI thread."""

    def __init__(self, info: HostKeyInfo | None) -> None:
        self.info = info
        self.decision: HostKeyDecision | None = None
        self._answered = threading.Event()

    def answer(self, decision: HostKeyDecision) -> None:
        self.decision = decision
        self._answered.set()

    def wait(
        self, cancel: threading.Event | None, reject: HostKeyDecision = HostKeyDecision.REJECT
    ) -> HostKeyDecision | None:
        # Poll so a Cancel while the question is open unblocks the worker.
        while not self._answered.wait(0.1):
            if cancel is not None and cancel.is_set():
                return reject
        return self.decision


class EngineBridge(QObject):
    sig_host_key_question = Signal(object)
    """(HostKeyQuestion): an unknown host key; answer it with ``question.answer``."""

    sig_state_event = Signal(object)
    """(ssh.StateEvent): an SSH connection went up, down, or is reconnecting."""

    sig_progress = Signal(object)
    """(service.Progress): the step the current attempt is at."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel: threading.Event | None = None
        self._pending: list[HostKeyQuestion] = []
        self._lock = threading.Lock()

    def decide_host_key(self, info: HostKeyInfo) -> HostKeyDecision | None:
        """The tunnel manager's host_key_decider; called on a worker thread."""
        question = HostKeyQuestion(info)
        with self._lock:
            self._pending.append(question)
        try:
            self.sig_host_key_question.emit(question)
            return question.wait(self.cancel, HostKeyDecision.REJECT)
        finally:
            with self._lock:
                self._pending.remove(question)

    def on_state(self, event: StateEvent) -> None:
        """The tunnel manager's on_state callback; any thread."""
        with contextlib.suppress(RuntimeError):  # the plugin is shutting down
            self.sig_state_event.emit(event)

    def report_progress(self, progress: Progress) -> None:
        with contextlib.suppress(RuntimeError):
            self.sig_progress.emit(progress)

    def cancel_pending(self) -> None:
        with self._lock:
            pending = list(self._pending)
        for question in pending:
            question.answer(HostKeyDecision.REJECT)
