"""The bottom row of the connect dialog: save-as (or progress while busy) and the buttons."""

from __future__ import annotations

from qtpy.QtWidgets import QDialogButtonBox, QHBoxLayout, QWidget
from spyder.api.translations import _
from spyder.api.widgets.dialogs import SpyderDialogButtonBox

from spyder_kernel_connect.spyder.widgets.messages import ProgressRow
from spyder_kernel_connect.spyder.widgets.presets_bar import SaveAsRow


class DialogFooter(QWidget):
    """Save-as row, replaced by the progress of a running attempt, then OK and Cancel."""

    def __init__(self) -> None:
        """Create the row: save-as unticked, no progress, OK enabled."""
        super().__init__()
        self.save_row = SaveAsRow()
        # While an attempt runs, its progress takes the place of the save row.
        self.progress = ProgressRow()
        # "OK", as in Spyder's documentation; the tooltip says what it does.
        self.buttons = SpyderDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText(_("OK"))
        self.ok_button.setToolTip(_("Connect a new console to this kernel"))
        self.cancel_button = self.buttons.button(QDialogButtonBox.Cancel)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.save_row, 1)
        layout.addWidget(self.progress, 1)
        layout.addSpacing(12)
        layout.addWidget(self.buttons)

    def set_busy(self, message: str) -> None:
        """
        Show the progress of a running attempt instead of the save row; OK is off.

        Parameters
        ----------
        message: str
            The current step, e.g. "Connecting...".
        """
        self.save_row.hide()
        self.progress.show_step(message)
        self.save_row.set_locked(True)
        self.ok_button.setEnabled(False)

    def set_idle(self) -> None:
        """The attempt ended: the save row and OK come back."""
        self.progress.hide()
        self.save_row.show()
        self.save_row.set_locked(False)
        self.ok_button.setEnabled(True)
