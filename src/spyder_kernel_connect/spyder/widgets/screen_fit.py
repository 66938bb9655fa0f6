"""A dialog as tall as its content needs, within the screen, with its buttons in view.

Used by the connect dialog: folding sections and wrapping messages change the height it
needs, and a 1366x768 screen must still show it whole (title bar and buttons included).
"""

from __future__ import annotations

from typing import Protocol

from qtpy.QtCore import QEvent, QTimer
from qtpy.QtWidgets import QApplication

# The dialog must fit a 1366x768 screen with every section unfolded (and its title bar).
MAX_HEIGHT = 700
TITLE_BAR = 40


class ScrolledForm(Protocol):
    """The part of the dialog that scrolls when the screen is too small (``RemoteForm``)."""

    def fit_content(self) -> int: ...

    def shrink_by(self, excess: int) -> None: ...


class ScreenFitMixin:
    """For a ``QDialog`` whose ``scrolled_form()`` gives up height first when it must."""

    def scrolled_form(self) -> ScrolledForm:
        """The part that scrolls rather than make the dialog taller than the screen."""
        raise NotImplementedError

    def screen_height(self) -> int:
        """The height of the screen the dialog is on, less panels and docks."""
        screen = self.screen()
        return screen.availableGeometry().height() if screen is not None else MAX_HEIGHT

    def _schedule_fit(self) -> None:
        """Fit once the event loop has laid out what just changed."""
        QTimer.singleShot(0, self._fit_height)

    def _fit_height(self) -> None:
        """As tall as the content needs, within the screen: messages never squeeze the form.

        The form gets all the height it asks for unless that would make the dialog taller
        than ``MAX_HEIGHT`` (or the screen); then it scrolls, keeping the buttons in view.
        """
        _deliver_layout_requests()
        form = self.scrolled_form()
        form.fit_content()
        needed = self._needed_height()
        limit = min(MAX_HEIGHT, self.screen_height() - TITLE_BAR)
        if needed > limit:
            form.shrink_by(needed - limit)
            needed = self._needed_height()
        self.setMinimumHeight(needed)
        self.resize(self.width(), needed)
        self._keep_on_screen()

    def _keep_on_screen(self) -> None:
        """Grown after being placed: move up so the buttons (and the title bar) stay on it."""
        if not self.isVisible() or self.screen() is None:
            return
        area = self.screen().availableGeometry()
        frame = self.frameGeometry()
        top = min(frame.top(), area.bottom() - frame.height() + 1)
        top = max(top, area.top())
        left = max(area.left(), min(frame.left(), area.right() - frame.width() + 1))
        if (left, top) != (frame.left(), frame.top()):
            self.move(left, top)

    def _needed_height(self) -> int:
        _deliver_layout_requests()
        layout = self.layout()
        layout.activate()
        height = self.minimumSizeHint().height()
        if layout.hasHeightForWidth():  # wrapped labels: what this width really needs
            height = max(height, layout.totalHeightForWidth(self.width()))
        return height


def _deliver_layout_requests() -> None:
    """What was just (un)folded or resized tells its parents through posted events:
    deliver them, or the nested layouts still give the sizes from before the change."""
    QApplication.sendPostedEvents(None, QEvent.LayoutRequest)
