"""Kernels this plugin started on an SSH host, or in a SLURM job: when their console
closes, ask whether to stop them (cancel the job) or keep them; stop them off the GUI."""

from __future__ import annotations

import logging
import threading

from qtpy.QtCore import QObject
from qtpy.QtWidgets import QMessageBox, QWidget
from spyder.api.translations import _

from spyder_kernel_connect.service import Connection, ConnectService
from spyder_kernel_connect.spyder.widgets.background import run_in_thread

logger = logging.getLogger(__name__)


def close_tunnel(connection: Connection) -> None:
    """Close the connection's tunnel; it waits for the forwarding threads, so off the GUI."""
    if connection.tunnel is None:
        return
    threading.Thread(
        target=connection.tunnel.close, name="kernel-connect-close", daemon=True
    ).start()


def close_question(connection: Connection) -> tuple[str, str, str, tuple[str, str], bool]:
    """(object name, title, text, (stop button, keep button), stop by default) of the
    question asked when the console of ``connection`` closes."""
    if connection.job is not None:
        job = connection.job.job
        text = _(
            "The console of job <b>{}</b> on <b>{}</b> was closed.<br><br>Cancel the job "
            "(scancel) and free its resources? If you keep it running, you can attach a "
            "console to it again from the dialog's list of your kernel jobs until its "
            "time limit."
        ).format(job.job_id, job.node or "?")
        buttons = (_("Cancel the job"), _("Keep it running"))
        return "cancel_slurm_job_question", _("Cancel the SLURM job?"), text, buttons, True
    text = _(
        "The console of the kernel started on <b>{}</b> was closed.<br><br>"
        "Shut the kernel down there as well? If you keep it running, you can "
        "connect to it again from the list of kernels on that host."
    ).format(connection.label)
    buttons = (_("Shut down"), _("Keep running"))
    return (
        "shutdown_remote_kernel_question",
        _("Shut down the remote kernel?"),
        text,
        buttons,
        False,
    )


class StartedKernels(QObject):
    """Asks whether to stop a started kernel (or cancel a kernel's SLURM job) whose console
    closed, and does it off the GUI thread (the service stops it through its tunnel's
    session, then closes the tunnel)."""

    def __init__(self, service: ConnectService, window: QWidget, parent: QObject) -> None:
        super().__init__(parent)
        self.service = service
        self.window = window  # parent of the message boxes
        self.shutdown_question: QMessageBox | None = None
        self.stop_failed_message: QMessageBox | None = None
        self._stopping: list[Connection] = []

    @property
    def stopping(self) -> list[Connection]:
        """Connections whose started kernel is being stopped right now."""
        return list(self._stopping)

    def ask_shutdown(self, connection: Connection) -> None:
        """The console closed: stop its kernel (cancel its job) too, or keep it running?"""
        name, title, text, (stop, keep), stop_by_default = close_question(connection)
        box = QMessageBox(
            QMessageBox.Question, title, text, QMessageBox.Yes | QMessageBox.No, self.window
        )
        box.setObjectName(name)
        box.button(QMessageBox.Yes).setText(stop)
        box.button(QMessageBox.No).setText(keep)
        box.setDefaultButton(QMessageBox.Yes if stop_by_default else QMessageBox.No)
        box.setEscapeButton(QMessageBox.No)

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.Yes):
                self.stop_in_thread(connection)
            else:
                close_tunnel(connection)
            if self.shutdown_question is box:
                self.shutdown_question = None
            box.deleteLater()

        box.finished.connect(answered)
        self.shutdown_question = box
        box.open()

    def discard(self, connection: Connection) -> None:
        """A connection nobody wants (its attempt was cancelled): stop the kernel started
        for it (cancel its job), or just close its tunnel."""
        if connection.started is not None or connection.job is not None:
            self.stop_in_thread(connection)
        else:
            close_tunnel(connection)

    def stop_in_thread(self, connection: Connection) -> None:
        """Stop the kernel we started (or cancel the SLURM job it runs in) over the tunnel's
        session, then close: off the GUI."""
        started, job = connection.started, connection.job

        def done(_result: object) -> None:
            self._stopping.remove(connection)

        def failed(error: BaseException) -> None:
            self._stopping.remove(connection)
            logger.warning("Stopping the remote kernel failed: %s", error)
            if job is not None:
                name, title = "cancel_slurm_job_failed", _("SLURM job not cancelled")
                text = _("Job {} could not be cancelled: {}").format(job.job.job_id, error)
            else:
                name, title = "stop_remote_kernel_failed", _("Remote kernel not stopped")
                text = _("The kernel (process {}) could not be stopped: {}").format(
                    started.pid, error
                )
            box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self.window)
            box.setObjectName(name)
            box.open()
            self.stop_failed_message = box

        self._stopping.append(connection)
        run_in_thread(self, lambda: self.service.stop_started(connection), done, failed)
