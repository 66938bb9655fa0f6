"""An arrow and a title that fold and unfold the part of a form under it."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QToolButton, QWidget


class FoldButton(QToolButton):
    """Shows or hides ``content``; folded at first.

    Not checkable: a checked tool button is drawn as a grey box in Spyder's style.
    """

    sig_toggled = Signal(bool)
    """
    The content was shown or hidden (also when set again to the same state).

    Parameters
    ----------
    unfolded: bool
        True when the content is shown.
    """

    def __init__(self, text: str, object_name: str, content: QWidget) -> None:
        """
        Create the button and hide ``content``.

        Parameters
        ----------
        text: str
            What the content is, e.g. "Remote Python and runtime directory".
        object_name: str
            Qt object name.
        content: QWidget
            The part of the form to fold.
        """
        super().__init__()
        self.setObjectName(object_name)
        self.setText(text)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.setArrowType(Qt.RightArrow)
        self.content = content
        self.content.hide()
        self.unfolded = False
        self.clicked.connect(lambda: self.set_unfolded(not self.unfolded))

    def set_unfolded(self, show: bool) -> None:
        """
        Show (or hide) the content.

        Parameters
        ----------
        show: bool
            True to unfold, False to fold.
        """
        self.unfolded = show
        self.setArrowType(Qt.DownArrow if show else Qt.RightArrow)
        self.content.setVisible(show)
        self.sig_toggled.emit(show)
