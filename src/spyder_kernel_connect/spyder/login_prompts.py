"""The tunnel engine's prompt handler for Spyder: worker thread → modal prompt on the GUI thread.

The engine calls the handler on a worker or keepalive thread (first connect, or a
reconnect that needs a new code); it is carried to the GUI thread as a queued signal and
the calling thread waits for the user's answer, or gives up when its ``cancel`` event is
set (the dialog's Cancel), closing the prompt. Waiting messages ("push sent") are shown
without blocking and replaced by the next question or closed when the login ends.

Where a prompt goes is asked per request (``place``): a connect attempt's prompt is modal
over the connect dialog; a reconnecting console's prompt belongs to that console, says
which console it is for, and does not block the rest of Spyder meanwhile.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import QWidget

from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog

_POLL = 0.1


@dataclass
class PromptPlace:
    """Where and how one login question is shown."""

    parent: QWidget | None
    context: str = ""  # above the server's words, e.g. which console is reconnecting
    modal: bool = True  # False: the user may go on working elsewhere while it is open
    on_answered: Callable[[bool], None] | None = None  # True: answered; False: cancelled


class _Pending:
    """One request between the threads; ``answers`` is None for a cancel."""

    def __init__(self, request: Any) -> None:
        self.request = request
        self.answers: list[str] | None = None
        self.done = threading.Event()
        self.dialog: LoginPromptDialog | None = None


class LoginPrompter(QObject):
    """Callable: the ``prompt_handler`` of a TunnelManager. Create it on the GUI thread.

    ``parent()`` gives the window the prompt belongs to (the connect dialog, or the main
    window when a console reconnects). ``cancel`` is the event of the running connect
    attempt, if any; reconnect prompts wait until answered or cancelled by the user.
    """

    sig_show = Signal(object)
    sig_abandon = Signal(object)
    sig_close_waiting = Signal()

    def __init__(self, parent: Callable[[], QWidget | None]) -> None:
        super().__init__()
        self._parent = parent
        self.cancel: threading.Event | None = None
        # Where each request's prompt goes (GUI thread); None: modal over ``parent()``.
        self.place: Callable[[Any], PromptPlace | None] | None = None
        self._waiting: LoginPromptDialog | None = None
        self.sig_show.connect(self._show, Qt.QueuedConnection)
        self.sig_abandon.connect(self._abandon, Qt.QueuedConnection)
        self.sig_close_waiting.connect(self._close_waiting, Qt.QueuedConnection)

    # -- worker side --------------------------------------------------------------------

    def __call__(self, request: Any) -> list[str] | None:
        pending = _Pending(request)
        self.sig_show.emit(pending)
        if not request.prompts:
            return []  # a message: shown, nothing to wait for
        # The attempt's Cancel, or the engine's own (a session closing during a reconnect).
        cancels = [c for c in (self.cancel, request.cancel) if c is not None]
        while not pending.done.wait(_POLL):
            if any(c.is_set() for c in cancels):
                self.sig_abandon.emit(pending)
                return None
        return pending.answers

    def finished(self) -> None:
        """The login ended (any thread): close a waiting message still on screen."""
        self.sig_close_waiting.emit()

    # -- GUI side -----------------------------------------------------------------------

    def _show(self, pending: _Pending) -> None:
        self._close_waiting()
        place = (self.place(pending.request) if self.place else None) or PromptPlace(self._parent())
        dialog = LoginPromptDialog(place.parent, pending.request, place.context)
        if dialog.waiting:
            cancel = self.cancel
            dialog.rejected.connect(lambda: cancel is not None and cancel.set())
            self._waiting = dialog
            if not place.modal:
                dialog.setModal(False)
                _center_over(dialog, place.parent)
            dialog.show()
            return
        pending.dialog = dialog
        if place.modal:
            accepted = dialog.exec_() == LoginPromptDialog.Accepted
            self._answered(pending, dialog, accepted, place)
            return
        # A console's prompt: the rest of Spyder stays usable while it waits for the user.
        dialog.setModal(False)
        dialog.finished.connect(
            lambda result: self._answered(pending, dialog, result == dialog.Accepted, place)
        )
        # Gone with its console (the tab was closed): the login is abandoned, not hung.
        dialog.destroyed.connect(lambda *_: pending.done.set())
        _center_over(dialog, place.parent)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _answered(self, pending: _Pending, dialog, accepted: bool, place: PromptPlace) -> None:
        if pending.done.is_set():
            return
        pending.answers = dialog.answers() if accepted else None
        pending.done.set()
        dialog.deleteLater()
        if place.on_answered is not None:
            place.on_answered(accepted)

    def _abandon(self, pending: _Pending) -> None:
        with contextlib.suppress(RuntimeError):  # already deleted with its console
            if pending.dialog is not None and pending.dialog.isVisible():
                pending.dialog.reject()

    def _close_waiting(self) -> None:
        dialog, self._waiting = self._waiting, None
        if dialog is not None:
            dialog.blockSignals(True)  # closing it is not the user's Cancel
            dialog.close()
            dialog.deleteLater()


# Between the prompt's bottom edge and the console's top (room for the console's tab).
_ABOVE_CONSOLE = 40


def _center_over(dialog: QWidget, widget: QWidget | None) -> None:
    """Next to the console that asks: just above it, so its tab and its "waiting for your
    code" line stay in sight; over it when there is no room above (Qt would center it on
    the whole main window)."""
    if widget is None or not widget.isVisible():
        return
    dialog.adjustSize()
    frame = dialog.frameGeometry()
    frame.moveCenter(widget.mapToGlobal(widget.rect().center()))
    top = widget.mapToGlobal(widget.rect().topLeft()).y()
    screen = widget.screen().availableGeometry() if hasattr(widget, "screen") else None
    if screen is not None and top - _ABOVE_CONSOLE - frame.height() >= screen.top():
        frame.moveBottom(top - _ABOVE_CONSOLE)
    if screen is not None:  # wholly on the screen
        frame.moveLeft(max(screen.left(), min(frame.left(), screen.right() - frame.width())))
        frame.moveTop(max(screen.top(), min(frame.top(), screen.bottom() - frame.height())))
    dialog.move(frame.topLeft())
