"""The layout of this plugin's small question dialogs (host key, login prompts).

An icon at the top left, the question beside it, the buttons underneath: the layout of
Qt's message boxes, for dialogs that need more than a message box holds.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QHBoxLayout, QLabel, QLayout, QVBoxLayout, QWidget
from spyder.utils.icon_manager import ima


def lay_out_prompt(
    dialog: QDialog, icon: str, icon_size: int, parts: list[QWidget | QLayout], buttons: QWidget
) -> None:
    """
    Give ``dialog`` its layout: the icon, the parts stacked beside it, the buttons below.

    Parameters
    ----------
    dialog: QDialog
        The dialog, without a layout yet.
    icon: str
        Name of a Spyder icon, e.g. "MessageBoxWarning".
    icon_size: int
        Its width and height in pixels.
    parts: list of QWidget or QLayout
        The question, top to bottom.
    buttons: QWidget
        The dialog's button box.
    """
    icon_label = QLabel()
    icon_label.setPixmap(ima.icon(icon).pixmap(icon_size, icon_size))
    icon_label.setAlignment(Qt.AlignTop)
    body = QVBoxLayout()
    for part in parts:
        if isinstance(part, QLayout):
            body.addLayout(part)
        else:
            body.addWidget(part)
    top = QHBoxLayout()
    top.addWidget(icon_label)
    top.addSpacing(8)
    top.addLayout(body, 1)
    layout = QVBoxLayout(dialog)
    layout.addLayout(top)
    layout.addSpacing(8)
    layout.addWidget(buttons)
