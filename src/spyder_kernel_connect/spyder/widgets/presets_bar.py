"""Saved connections in the connect dialog: the bar to pick, rename and delete them, and
the row that saves the form under a name."""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QToolButton,
    QWidget,
)
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.settings import ConnectionSettings, InvalidPresetName, PresetStore
from spyder_kernel_connect.spyder.widgets.fields import fit_placeholder

NO_PRESET = ""


class PresetsBar(QWidget):
    """A combo box of the saved connections with rename and delete buttons."""

    sig_preset_loaded = Signal(str, object)
    """
    A preset was read to be shown in the form (the user picked it, or ``load`` was called).

    Parameters
    ----------
    name: str
        The preset's name, or ``NO_PRESET`` ("") for "(new connection)".
    settings: ConnectionSettings
        Its settings with the secrets from the keyring; empty for "(new connection)".
    """

    sig_preset_renamed = Signal(str, str)
    """
    A preset was renamed in the store.

    Parameters
    ----------
    old: str
        Its previous name.
    new: str
        Its new name.
    """

    sig_preset_deleted = Signal(str)
    """
    A preset was deleted from the store (and its secrets from the keyring).

    Parameters
    ----------
    name: str
        Its name.
    """

    sig_error = Signal(str)
    """
    Something the user asked for was refused, or a preset could not be read.

    Parameters
    ----------
    message: str
        What went wrong and what to do, for the dialog's message area.
    """

    def __init__(self, parent: QWidget | None, presets: PresetStore) -> None:
        """
        Create the bar listing the presets of ``presets``.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget.
        presets: PresetStore
            Where the presets are kept.
        """
        super().__init__(parent)
        self.presets = presets
        self.rename_dialog: QInputDialog | None = None
        self.combo = QComboBox()
        self.combo.setObjectName("presets_combo")
        self.combo.setMinimumContentsLength(24)
        self.combo.setToolTip(_("Load a connection saved earlier"))
        self.combo.activated.connect(self._on_activated)
        self.rename_button = self._tool_button("rename", _("Rename the saved connection"))
        self.rename_button.clicked.connect(self.rename_current)
        self.delete_button = self._tool_button("editdelete", _("Delete the saved connection"))
        self.delete_button.clicked.connect(self.delete_current)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(_("Saved connections:")))
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.rename_button)
        layout.addWidget(self.delete_button)
        self.reload()

    @staticmethod
    def _tool_button(icon: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(ima.icon(icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    # ---- Public API
    def reload(self, select: str = NO_PRESET) -> None:
        """
        List the presets again, "(new connection)" first.

        Parameters
        ----------
        select: str, optional
            The preset to show as current; "(new connection)" if empty or unknown.
        """
        self.combo.clear()
        self.combo.addItem(_("(new connection)"), NO_PRESET)
        for name in self.presets.names():
            self.combo.addItem(name, name)
        self.combo.setCurrentIndex(max(0, self.combo.findData(select)))
        self.update_buttons()

    def load(self, name: str) -> None:
        """
        Read preset ``name`` with its secrets: ``sig_preset_loaded``, or ``sig_error``.

        Parameters
        ----------
        name: str
            The preset's name; ``NO_PRESET`` gives empty settings.
        """
        if name == NO_PRESET:
            self.sig_preset_loaded.emit(NO_PRESET, ConnectionSettings())
            return
        try:
            settings = self.presets.load(name)
        except KernelConnectError as err:
            self.sig_error.emit(str(err))
            return
        self.sig_preset_loaded.emit(name, settings)

    def current(self) -> str:
        """The name of the preset shown, or ``NO_PRESET``."""
        return self.combo.currentData() or NO_PRESET

    def update_buttons(self) -> None:
        """Rename and delete are only possible on a saved connection."""
        has = bool(self.current())
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def rename_current(self) -> None:
        """Ask for a new name for the current preset, then rename it."""
        old = self.current()
        if not old:
            return
        dialog = QInputDialog(self)
        dialog.setObjectName("rename_preset_dialog")
        dialog.setWindowTitle(_("Rename saved connection"))
        dialog.setLabelText(_("New name:"))
        dialog.setTextEchoMode(QLineEdit.Normal)
        dialog.setTextValue(old)
        # Wide enough that window managers show the whole title, not "Renam... ction".
        title_width = dialog.fontMetrics().horizontalAdvance(dialog.windowTitle())
        dialog.textValueSelected.connect(lambda new: self.rename(old, new))
        self.rename_dialog = dialog
        dialog.open()
        # QInputDialog sizes itself when shown: widen it afterwards.
        dialog.setMinimumWidth(title_width + 160)
        dialog.resize(max(dialog.width(), title_width + 160), dialog.height())

    def rename(self, old: str, new: str) -> bool:
        """
        Rename preset ``old`` to ``new``; a refusal is reported with ``sig_error``.

        Parameters
        ----------
        old: str
            The current name.
        new: str
            The new name (surrounding spaces are dropped).

        Returns
        -------
        bool
            Whether the preset was renamed.
        """
        try:
            self.presets.rename(old, new)
        except InvalidPresetName as err:
            self.sig_error.emit(str(err))
            return False
        self.reload(select=new.strip())
        self.sig_preset_renamed.emit(old, new.strip())
        return True

    def delete_current(self) -> None:
        """Ask whether to delete the current preset, then delete it."""
        name = self.current()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            _("Delete saved connection"),
            _("Delete the saved connection <b>{}</b> and its stored password?").format(name),
            QMessageBox.Yes | QMessageBox.No,
        )
        if answer == QMessageBox.Yes:
            self.delete(name)

    def delete(self, name: str) -> None:
        """
        Delete preset ``name`` and its secrets, without asking.

        Parameters
        ----------
        name: str
            The preset to delete.
        """
        self.presets.delete(name)
        self.reload()
        self.sig_preset_deleted.emit(name)

    # ---- Private
    def _on_activated(self, _index: int) -> None:
        self.update_buttons()
        self.load(self.current())


class SaveAsRow(QWidget):
    """The "Save connection settings as:" box and the name to save the settings under."""

    def __init__(self) -> None:
        """Create the row, unticked and empty."""
        super().__init__()
        # The words of Spyder's documentation ("Save connection settings"), plus a name.
        self.check = QCheckBox(_("Save connection settings as:"))
        self.check.setObjectName("save_settings_check")
        self.check.setToolTip(
            _("Saved after the connection succeeds. Passwords go only to the system keyring.")
        )
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("save_settings_name")
        self.name_edit.setPlaceholderText(_("Name, e.g. lab server"))
        self.name_edit.setEnabled(False)
        fit_placeholder(self.name_edit)
        self.check.toggled.connect(self.name_edit.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.name_edit, 1)

    def name(self) -> str | None:
        """The name to save under: "" for "do not save", None if ticked without a name."""
        if not self.check.isChecked():
            return ""
        return self.name_edit.text().strip() or None

    def set_name(self, name: str) -> None:
        """
        Tick the box and show ``name``; an empty name unticks it and clears the field.

        Parameters
        ----------
        name: str
            The preset's name, or "".
        """
        self.check.setChecked(bool(name))
        self.name_edit.setText(name)

    def on_renamed(self, old: str, new: str) -> None:
        """Follow a rename of the preset being edited."""
        if self.name_edit.text() == old:
            self.name_edit.setText(new)

    def on_deleted(self, name: str) -> None:
        """Forget the name of a deleted preset."""
        if self.name_edit.text() == name:
            self.name_edit.clear()

    def set_locked(self, locked: bool) -> None:
        """
        Lock the row while an attempt runs (the name field stays off while unticked).

        Parameters
        ----------
        locked: bool
            True to disable the row, False to enable it again.
        """
        self.check.setEnabled(not locked)
        self.name_edit.setEnabled(not locked and self.check.isChecked())
