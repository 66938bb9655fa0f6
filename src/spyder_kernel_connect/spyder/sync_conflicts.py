"""The question a push asks when a file changed on the host since the last push.

The sync engine asks on a worker thread and waits for the answer; the question is a
non-modal message box in the GUI thread (no nested event loop a closing console would wait
on). Closing the console closes the open questions unanswered: nothing is overwritten, the
host's copy stays and the file is asked about again next time.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from qtpy.QtCore import QObject, Qt, Signal, Slot
from qtpy.QtWidgets import QMessageBox, QWidget
from spyder.api.translations import _

from spyder_kernel_connect.sync import Conflict, ProjectSync, Resolution

log = logging.getLogger(__name__)


class ConflictQuestions(QObject):
    """Asks about ``project``'s conflicts in dialogs parented to ``parent``'s widget."""

    _sig_ask = Signal(object, object)  # (conflict, answer box), answered in the GUI thread

    def __init__(self, project: ProjectSync, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.unresolved: list[str] = []  # conflicts left open by the close
        self._closing = threading.Event()
        self._questions: list[tuple[dict, QMessageBox | None]] = []
        self._sig_ask.connect(self._ask, Qt.QueuedConnection)

    def ask(self, conflict: Conflict) -> Resolution:
        """The engine's conflict handler (worker thread): asks in the GUI thread and waits
        for the answer, or for ``close`` (then the host's copy stays)."""
        box: dict = {"done": threading.Event()}
        if not self._closing.is_set():
            try:  # the diff is read here, off the GUI thread (it is a network read)
                box["diff"] = self.project.host_text_diff(conflict.rel)
            except Exception:
                box["diff"] = ""
            with contextlib.suppress(RuntimeError):  # the console's objects may be gone
                self._sig_ask.emit(conflict, box)
        while not box["done"].wait(0.2) and not self._closing.is_set():
            pass
        if "answer" not in box:
            self.unresolved.append(conflict.rel)
            log.info("closed with a conflict unresolved, the host's copy kept: %s", conflict.rel)
        return box.get("answer", Resolution.KEEP_HOST)

    def close(self) -> None:
        """Close the open questions unanswered; the waiting workers go on with "keep the
        host's copy", and no new question is opened."""
        self._closing.set()
        for box, message in list(self._questions):
            box["done"].set()
            if message is not None:
                message.close()
        self._questions.clear()

    @Slot(object, object)
    def _ask(self, conflict: Conflict, box: dict) -> None:
        if self._closing.is_set():
            box["done"].set()
            return
        parent = self.parent()
        message = QMessageBox(parent if isinstance(parent, QWidget) else None)
        message.setIcon(QMessageBox.Warning)
        message.setWindowTitle(_("File changed on the host"))
        message.setText(
            _("{name} {what} on {host}.").format(
                name=conflict.rel, what=_(conflict.kind.value), host=self.project.session.label
            )
        )
        message.setInformativeText(
            _(
                "Keep the host's copy, or overwrite it with yours? The host's copy is kept aside "
                "as {name}.remote-<time> if you overwrite it."
            ).format(name=conflict.rel)
        )
        message.setDetailedText(box.get("diff") or _("(no text difference)"))
        keep = message.addButton(_("Keep the host's copy"), QMessageBox.RejectRole)
        message.addButton(_("Overwrite"), QMessageBox.AcceptRole)
        message.setDefaultButton(keep)
        entry = (box, message)
        self._questions.append(entry)

        def answered(_result: int) -> None:
            if entry in self._questions:
                self._questions.remove(entry)
            if not self._closing.is_set():  # closed by close(): no answer, nothing overwritten
                clicked = message.clickedButton()
                overwrite = clicked is not None and clicked is not keep
                box["answer"] = Resolution.OVERWRITE if overwrite else Resolution.KEEP_HOST
            box["done"].set()
            message.deleteLater()

        message.finished.connect(answered)
        message.open()  # not exec_(): no nested event loop a closing console would wait on
