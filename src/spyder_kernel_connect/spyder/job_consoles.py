"""Consoles whose kernel runs in a SLURM job: tab label with time left, warning, job end, close.

For each such console: the tab shows "node017 · job 123456 · 1h 20m left"; ten minutes
before the time limit the console prints one warning; when the job ends (time limit,
preemption, scancel elsewhere) the console says so once and its heartbeat stops, instead
of Spyder's "The kernel died, restarting..." over and over; closing the tab asks whether
to cancel the job (the default) or keep it running to attach to it again later.

The plugin owns them, like the consoles' outage guards and project syncs. Contract:
``open`` a console just opened on a job's kernel, ``drop`` a console that closed (the
question, then the job cancelled or kept and its tunnel closed), ``label_for`` a console's
tab, ``clear`` when Spyder quits; ``sig_tab_label_changed`` asks for a tab's new name.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from html import escape
from typing import Any

from qtpy.QtCore import QObject, QTimer, Signal
from qtpy.QtWidgets import QMessageBox, QWidget
from spyder.api.translations import _

from spyder_kernel_connect.scheduler import JobWatcher
from spyder_kernel_connect.service import Connection, ConnectService
from spyder_kernel_connect.spyder.started_kernels import StartedKernels
from spyder_kernel_connect.spyder.widgets.background import run_in_thread

logger = logging.getLogger(__name__)

LABEL_REFRESH_MS = 30_000


def short_time_left(seconds: float | None) -> str:
    """``2d 3h left``, ``1h 20m left``, ``12 min left``; "" if unlimited or unknown."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes >= 24 * 60:
        return _("{}d {}h left").format(minutes // (24 * 60), minutes % (24 * 60) // 60)
    if minutes >= 60:
        return _("{}h {}m left").format(minutes // 60, minutes % 60)
    return _("{} min left").format(minutes)


def ended_notice(job_id: str, node: str, description: str) -> str:
    return _(
        "Job {} on {} ended: {}. Its kernel is gone; close this console, or start a new "
        "kernel job from Consoles > Connect to an existing kernel."
    ).format(job_id, node or "?", description)


def warning_notice(job_id: str, left: str) -> str:
    return _(
        "Job {} reaches its time limit in {}: save your work (the kernel ends with the job)."
    ).format(job_id, left)


@dataclass
class JobConsole:
    client: Any
    connection: Connection  # its ``job`` is the RunningJob
    watcher: JobWatcher
    guard: Any  # the console's ConsoleOutageGuard, or None
    ended: bool = False
    checking: bool = False


class JobConsoles(QObject):
    """The job consoles of the plugin, by console client (see the module docstring)."""

    sig_tab_label_changed = Signal(str, str, str)
    """
    A job console's tab must now say its node, job and time left.

    Parameters
    ----------
    connection_file: str
        The local connection file of the console.
    label: str
        For example "node017 · job 123456 · 1h 20m left", or "... (job ended)".
    suffix: str
        Always "": the tunnel's state comes from the container.
    """

    _sig_ended = Signal(object, object)  # client, JobStatus (from the watcher's thread)
    _sig_warning = Signal(object, float)  # client, seconds left

    def __init__(self, service: ConnectService, window: QWidget, parent: QObject) -> None:
        super().__init__(parent)
        self.window = window  # parent of the message boxes
        self.consoles: dict[Any, JobConsole] = {}
        self.notices: list[str] = []  # what was printed, in order (for tests and logs)
        self.watch_interval: float | None = None  # tests shorten the scheduler polls
        self.stopper = StartedKernels(service, window, self)  # cancels jobs off the GUI
        self._sig_ended.connect(self._on_ended)
        self._sig_warning.connect(self._on_warning)
        self._timer = QTimer(self, interval=LABEL_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_labels)

    def label_for(self, connection_file: str) -> str | None:
        """The tab label of the job console on ``connection_file`` (None: not a job's)."""
        for entry in self.consoles.values():
            if entry.connection.connection_file == connection_file:
                return self.label(entry)
        return None

    def open(self, client: Any, connection: Connection, guard: Any = None) -> None:
        """Watch the job of a console just opened on ``connection`` (its ``job`` is set);
        ``guard``: the console's outage guard, asked after a heartbeat failure when the job
        still runs."""
        running = connection.job
        kwargs = {} if self.watch_interval is None else {"interval": self.watch_interval}
        watcher = JobWatcher(
            running.scheduler,
            running.job.job_id,
            on_ended=lambda status: self._emit(self._sig_ended, client, status),
            on_warning=lambda left: self._emit(self._sig_warning, client, left),
            **kwargs,
        )
        # The job's state as submitted counts until the first query comes back.
        watcher.status, watcher._seen_at = running.job.status, time.monotonic()
        entry = JobConsole(client, connection, watcher, guard)
        self.consoles[client] = entry
        self._hook_heartbeat(entry)
        watcher.start()
        self.refresh_labels()
        self._timer.start()

    def label(self, entry: JobConsole) -> str:
        base = entry.connection.label  # "node017 · job 123456"
        if entry.ended:
            return _("{} (job ended)").format(base)
        left = short_time_left(entry.watcher.time_left())
        return f"{base} · {left}" if left else base

    def refresh_labels(self) -> None:
        for entry in list(self.consoles.values()):
            path = entry.connection.connection_file
            self.sig_tab_label_changed.emit(path, self.label(entry), "")

    # ---- Closing
    @property
    def close_question(self) -> QMessageBox | None:
        """The open "Cancel the SLURM job?" question, if any."""
        return self.stopper.shutdown_question

    def drop(self, shellwidget: Any) -> None:
        """A console closed: if it was a job's, cancel the job (asked; the default) or keep
        it running; its tunnel closes either way."""
        client = next((c for c in self.consoles if c.shellwidget is shellwidget), None)
        if client is None:
            return
        entry = self.consoles.pop(client)
        entry.watcher.stop()
        if not self.consoles:
            self._timer.stop()
        if entry.ended:  # nothing to ask: remove its files (scancel of an ended job is a no-op)
            self.stopper.stop_in_thread(entry.connection)
        else:
            self.stopper.ask_shutdown(entry.connection)

    def clear(self) -> None:
        """Spyder quits: stop watching (kept jobs stay re-attachable; their tunnels close)."""
        for entry in self.consoles.values():
            entry.watcher.stop()
        self.consoles.clear()
        self._timer.stop()

    # ---- Job events (GUI thread)
    def _on_ended(self, client: Any, status: Any) -> None:
        entry = self.consoles.get(client)
        if entry is None or entry.ended:
            return
        entry.ended = True
        channel = getattr(getattr(client.shellwidget, "kernel_client", None), "hb_channel", None)
        if channel is not None:
            channel.pause()  # no heartbeat, no "kernel died" loop
        job = entry.connection.job.job
        self._notify(client, ended_notice(job.job_id, job.node, status.description))
        self.refresh_labels()

    def _on_warning(self, client: Any, left: float) -> None:
        entry = self.consoles.get(client)
        if entry is None or entry.ended:
            return
        minutes = short_time_left(left).replace(_(" left"), "") or _("a few minutes")
        self._notify(client, warning_notice(entry.connection.job.job.job_id, minutes))

    def _notify(self, client: Any, text: str) -> None:
        self.notices.append(text)
        with contextlib.suppress(RuntimeError, AttributeError):  # console closing
            client.shellwidget._append_html(f"<br><b>{escape(text)}</b><br>", before_prompt=True)

    # ---- Heartbeat: a silent kernel in an ended job is the job's end, not a crash
    def _hook_heartbeat(self, entry: JobConsole) -> None:
        shell = entry.client.shellwidget
        channel = getattr(getattr(shell, "kernel_client", None), "hb_channel", None)
        if channel is None:
            return
        handler = entry.guard.on_heartbeat_failed if entry.guard else shell._handle_kernel_died
        with contextlib.suppress(TypeError, RuntimeError):
            channel.kernel_died.disconnect(handler)
        channel.kernel_died.connect(lambda since: self._on_heartbeat_failed(entry, since, handler))

    def _on_heartbeat_failed(self, entry: JobConsole, since: float, handler) -> None:
        if entry.ended or entry.checking:
            return
        entry.checking = True
        scheduler, job_id = entry.connection.job.scheduler, entry.connection.job.job.job_id

        def checked(status: Any) -> None:
            entry.checking = False
            if status is not None and not status.active:
                self._on_ended(entry.client, status)
            elif not entry.ended:
                handler(since)  # the job runs: the guard (or Spyder) decides

        def failed(error: BaseException) -> None:
            entry.checking = False
            logger.info("job %s: state unknown after a heartbeat failure: %s", job_id, error)
            handler(since)

        self.checking = run_in_thread(self, lambda: scheduler.state(job_id), checked, failed)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the plugin is shutting down
            signal.emit(*args)
