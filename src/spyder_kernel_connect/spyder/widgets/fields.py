"""Line edits of the connect dialog's forms: made one way, wide enough for their hint."""

from __future__ import annotations

from qtpy.QtWidgets import QLineEdit


def line_edit(
    placeholder: str = "", tooltip: str = "", object_name: str = "", secret: bool = False
) -> QLineEdit:
    """
    A form field showing ``placeholder`` while empty.

    Parameters
    ----------
    placeholder: str, optional
        The hint shown while the field is empty (what empty means, or an example).
    tooltip: str, optional
        What the field is for.
    object_name: str, optional
        Qt object name.
    secret: bool, optional
        True to hide what is typed (passwords, passphrases).
    """
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(tooltip)
    if object_name:
        edit.setObjectName(object_name)
    if secret:
        edit.setEchoMode(QLineEdit.Password)
    return edit


def fit_placeholder(edit: QLineEdit, extra: int = 0, text: str | None = None) -> None:
    """Make ``edit`` at least wide enough to show its whole placeholder text.

    Parameters
    ----------
    edit: QLineEdit
        The field.
    extra: int, optional
        Further pixels needed, e.g. for a clear button.
    text: str, optional
        Fit this text instead, if it is wider than the placeholder.
    """
    text_width = max(
        edit.fontMetrics().horizontalAdvance(edit.placeholderText()),
        edit.fontMetrics().horizontalAdvance(text or ""),
    )
    margins = edit.textMargins().left() + edit.textMargins().right()
    # Qt's QLineEdit: 2 px frame + 2 px horizontal margin each side, and a cursor.
    edit.setMinimumWidth(text_width + margins + 12 + extra)
