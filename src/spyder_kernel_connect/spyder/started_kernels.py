"""Kernels this plugin started on an SSH host: when their console closes, stop or keep them."""

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


class StartedKernels(QObject):
    """Asks whether to shut down a started kernel whose console closed, and does it off the
    GUI thread (the service stops it through its tunnel's session, then closes the tunnel)."""

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
        """The console of a kernel we started closed: stop it there too? Default: keep it."""
        box = QMessageBox(
            QMessageBox.Question,
            _("Shut down the remote kernel?"),
            _(
                "The console of the kernel started on <b>{}</b> was closed.<br><br>"
                "Shut the kernel down there as well? If you keep it running, you can "
                "connect to it again from the list of kernels on that host."
            ).format(connection.label),
            QMessageBox.Yes | QMessageBox.No,
            self.window,
        )
        box.setObjectName("shutdown_remote_kernel_question")
        box.button(QMessageBox.Yes).setText(_("Shut down"))
        box.button(QMessageBox.No).setText(_("Keep running"))
        box.setDefaultButton(QMessageBox.No)
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

    def stop_in_thread(self, connection: Connection) -> None:
        """Stop the kernel we started over the tunnel's session, then close: off the GUI."""
        started = connection.started

        def done(_result: object) -> None:
            self._stopping.remove(connection)

        def failed(error: BaseException) -> None:
            self._stopping.remove(connection)
            logger.warning("Stopping the remote kernel failed: %s", error)
            box = QMessageBox(
                QMessageBox.Warning,
                _("Remote kernel not stopped"),
                _("The kernel (process {}) could not be stopped: {}").format(started.pid, error),
                QMessageBox.Ok,
                self.window,
            )
            box.setObjectName("stop_remote_kernel_failed")
            box.open()
            self.stop_failed_message = box

        self._stopping.append(connection)
        run_in_thread(self, lambda: self.service.stop_started(connection), done, failed)
