"""The message area of the connect dialog (an error, a notice) and its progress row.

Messages get room of their own: the labels wrap, the area grows with them up to a few
lines and scrolls beyond, so a long message never squeezes the form above it.
"""

from __future__ import annotations

import re

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from spyder.utils.palette import SpyderPalette

from spyder_kernel_connect.spyder.widgets.colors import style

# Beyond this many lines of text the messages scroll instead of growing the dialog.
MAX_LINES = 5
WORD_JOINER = "\u2060"
_LEADING_SLASH = re.compile(r"(^|[\s'\"(])/(?=\S)")


def keep_paths_whole(text: str) -> str:
    """Forbid a line break right after a path's leading "/" (no "/ tmp/..." in labels).

    Qt's line breaker may break after any "/"; right after the first one it leaves a lone
    slash at the end of a line. A word joiner there keeps it with the next directory.
    """
    return _LEADING_SLASH.sub(lambda m: f"{m.group(1)}/{WORD_JOINER}", text)


class VerticalScrollArea(QScrollArea):
    """A frameless scroll area that fits its content's width and scrolls only vertically."""

    def __init__(self, object_name: str, content: QWidget) -> None:
        """
        Create the area showing ``content``.

        Parameters
        ----------
        object_name: str
            Qt object name.
        content: QWidget
            The widget to scroll; it takes the area's width.
        """
        super().__init__()
        self.setObjectName(object_name)
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setWidget(content)


class MessageLabel(QLabel):
    """A selectable, word-wrapping label of plain text in the colour of a kind of message."""

    def __init__(self, object_name: str, kind: str) -> None:
        """
        Create the label, empty.

        Parameters
        ----------
        object_name: str
            Qt object name.
        kind: str
            "error", "warning", "success" or "info" (see ``colors.message_color``).
        """
        super().__init__()
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.PlainText)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.set_kind(kind)

    def set_kind(self, kind: str) -> None:
        """Colour the text as a message of ``kind``."""
        self.kind = kind
        self.setStyleSheet(style(kind, SpyderPalette))

    def set_message(self, message: str) -> None:
        """Show ``message`` (paths kept whole), the full text also as tooltip."""
        self.setText(keep_paths_whole(message))
        self.setToolTip(message)

    def plain_text(self) -> str:
        """The message as given, without the invisible line-break controls."""
        return self.text().replace(WORD_JOINER, "")


class ProgressRow(QWidget):
    """The current step of a running attempt and a busy bar."""

    def __init__(self) -> None:
        """Create the row, hidden."""
        super().__init__()
        self.label = QLabel()
        self.label.setObjectName("progress_label")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy indicator: the duration is unknown
        self.bar.setMaximumHeight(8)
        self.bar.setMaximumWidth(120)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        self.hide()

    def show_step(self, message: str) -> None:
        """
        Show the row with ``message``.

        Parameters
        ----------
        message: str
            The current step, e.g. "Logging in to lab...".
        """
        self.label.setText(message)
        self.show()


class MessageArea(QWidget):
    """An error line and a notice line, each hidden while empty."""

    sig_height_changed = Signal()
    """The area needs a different height (a message appeared, changed or went away)."""

    def __init__(self) -> None:
        """Create the area, empty and hidden."""
        super().__init__()
        self.error_label = MessageLabel("error_label", "error")
        self.error_label.hide()
        self.notice_label = MessageLabel("notice_label", "info")
        self.notice_label.hide()
        texts = QWidget()
        texts_layout = QVBoxLayout(texts)
        texts_layout.setContentsMargins(0, 0, 0, 0)
        texts_layout.addWidget(self.error_label)
        texts_layout.addWidget(self.notice_label)
        self.scroll = VerticalScrollArea("messages_scroll", texts)
        self.scroll.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

    # ---- Public API
    def show_error(self, message: str) -> None:
        """
        Show ``message`` as the error of the last attempt (replacing an earlier one).

        Parameters
        ----------
        message: str
            What failed and what to do.
        """
        self._set(self.error_label, message)

    def show_notice(self, message: str) -> None:
        """
        Show ``message`` as information that is not an error (e.g. "Cancelled.").

        Parameters
        ----------
        message: str
            The notice.
        """
        self._set(self.notice_label, message)

    def clear_error(self) -> None:
        """Remove the error (the user changed what it was about)."""
        self._set(self.error_label, "")

    def clear(self) -> None:
        """Remove the error and the notice."""
        self.error_label.clear()
        self.error_label.hide()
        self._set(self.notice_label, "")

    # ---- Qt overrides
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self._fit()

    # ---- Private
    def _set(self, label: MessageLabel, message: str) -> None:
        label.set_message(message)
        label.setVisible(bool(message))
        self._fit()
        self.sig_height_changed.emit()

    def _fit(self) -> None:
        """As tall as the wrapped text, up to ``MAX_LINES`` lines; scroll beyond."""
        labels = [w for w in (self.error_label, self.notice_label) if not w.isHidden()]
        self.scroll.setVisible(bool(labels))
        if not labels:
            return
        width = max(self.scroll.viewport().width(), self.width(), 200)
        texts = self.scroll.widget()
        texts.layout().activate()
        # The labels' own height for this width, with whatever padding the style adds.
        needed = max(texts.heightForWidth(width), texts.minimumSizeHint().height())
        cap = self.fontMetrics().lineSpacing() * MAX_LINES
        frame = 2 * self.scroll.frameWidth()
        self.scroll.setFixedHeight(min(needed, cap) + frame)
