"""The "Edit here, run there" section of the SSH group: a local project folder kept in sync
with a folder on the host, so the remote console runs (and reloads) what you save."""

from __future__ import annotations

import os
import posixpath

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _

# ConnectionSettings fields this section edits.
PROJECT_FIELDS = ("sync_local_dir", "sync_remote_dir")


def suggested_remote_dir(local_dir: str) -> str:
    """``~/<project folder name>``: where a project goes on the host unless the user says."""
    name = os.path.basename(os.path.normpath(os.path.expanduser(local_dir))) if local_dir else ""
    return posixpath.join("~", name) if name else ""


class ProjectFoldersSection(QWidget):
    """A tick box and two folders: the project here and its copy on the host."""

    sig_field_edited = Signal(str)
    """
    The user edited a field.

    Parameters
    ----------
    field: str
        The ``ConnectionSettings`` field name, "sync_local_dir" or "sync_remote_dir".
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled_box = QCheckBox(_("Keep a local project folder in sync with the host"), self)
        self.enabled_box.setToolTip(
            _(
                "Every file you save in the project folder is copied to the host before "
                "your next run, so the remote console runs (and reloads) your latest code."
            )
        )
        self.local_dir = QLineEdit(self)
        self.local_dir.setPlaceholderText(_("Project folder on this computer"))
        self.browse_button = QPushButton(_("Browse…"), self)
        self.remote_dir = QLineEdit(self)
        self.remote_dir.setPlaceholderText(_("Folder on the host, e.g. ~/project"))
        self.local_label = QLabel(_("Project folder:"), self)
        self.remote_label = QLabel(_("On the host:"), self)
        self.local_label.setBuddy(self.local_dir)
        self.remote_label.setBuddy(self.remote_dir)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.local_dir, 1)
        row.addWidget(self.browse_button)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.enabled_box, 0, 0, 1, 2)
        grid.addWidget(self.local_label, 1, 0)
        grid.addLayout(row, 1, 1)
        grid.addWidget(self.remote_label, 2, 0)
        grid.addWidget(self.remote_dir, 2, 1)
        grid.setColumnStretch(1, 1)

        self.enabled_box.toggled.connect(self._update_enabled)
        self.browse_button.clicked.connect(self.browse)
        self.local_dir.textEdited.connect(lambda _text: self._local_edited())
        self.remote_dir.textEdited.connect(
            lambda _text: self.sig_field_edited.emit("sync_remote_dir")
        )
        self._update_enabled(False)

    # ---- Public API
    def values(self) -> dict[str, object]:
        """This section's part of ``ConnectionSettings``, as keyword arguments."""
        if not self.enabled_box.isChecked():
            return {"sync_local_dir": "", "sync_remote_dir": ""}
        local = self.local_dir.text().strip()
        remote = self.remote_dir.text().strip() or suggested_remote_dir(local)
        return {"sync_local_dir": local, "sync_remote_dir": remote}

    def set_values(self, settings) -> None:
        """
        Show the project folders of ``settings``.

        Parameters
        ----------
        settings: ConnectionSettings
            The settings to show; empty folders untick the section.
        """
        local = getattr(settings, "sync_local_dir", "")
        self.enabled_box.setChecked(bool(local))
        self.local_dir.setText(local)
        self.remote_dir.setText(getattr(settings, "sync_remote_dir", ""))
        self._update_enabled(bool(local))

    def field_widget(self, field: str) -> QLineEdit | None:
        """The line edit of ``field``, or None if this section does not hold it."""
        return {"sync_local_dir": self.local_dir, "sync_remote_dir": self.remote_dir}.get(field)

    def browse(self) -> None:
        """Pick the local project folder; an empty host folder gets the suggested one."""
        start = self.local_dir.text().strip() or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self, _("Project folder"), start)
        if folder:
            self.local_dir.setText(folder)
            self._local_edited()

    # ---- Private API
    def _local_edited(self) -> None:
        if not self.remote_dir.text().strip():
            self.remote_dir.setPlaceholderText(
                suggested_remote_dir(self.local_dir.text().strip())
                or _("Folder on the host, e.g. ~/project")
            )
        self.sig_field_edited.emit("sync_local_dir")

    def _update_enabled(self, on: bool) -> None:
        for widget in (
            self.local_dir,
            self.browse_button,
            self.remote_dir,
            self.local_label,
            self.remote_label,
        ):
            widget.setEnabled(on)
            widget.setVisible(on)


class ProjectFoldersDialog(QDialog):
    """ "Project folder sync…" from a remote console's tab: set, change or turn off the
    mapping of that console (and of the saved connection it came from)."""

    def __init__(
        self, host: str, folders: tuple[str, str] | None, preset: str, parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Project folder sync"))
        where = (
            _("For this console ({host}) and the saved connection {preset!r}.")
            if preset
            else _("For this console ({host}); it was not opened from a saved connection.")
        )
        self.intro = QLabel(where.format(preset=preset, host=host), self)
        self.intro.setWordWrap(True)
        self.section = ProjectFoldersSection(self)
        local, remote = folders or ("", "")
        self.section.enabled_box.setChecked(bool(local))
        self.section.local_dir.setText(local)
        self.section.remote_dir.setText(remote)
        self.section._update_enabled(bool(local))
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.section)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def folders(self) -> tuple[str, str] | None:
        """The chosen (local, host) folders, or None: sync turned off."""
        values = self.section.values()
        local, remote = str(values["sync_local_dir"]), str(values["sync_remote_dir"])
        return (local, remote) if local else None

    def accept(self) -> None:
        """Close only with folders that can be used (or none); else say what is wrong."""
        from spyder_kernel_connect.settings.model import (
            ConnectionSettings,
            validate_project_folders,
        )

        local, remote = self.folders() or ("", "")
        settings = ConnectionSettings(sync_local_dir=local, sync_remote_dir=remote)
        problems = validate_project_folders(settings)
        if problems:
            self.problem.setText("\n".join(p.gui_text() for p in problems))
            self.problem.show()
            widget = self.section.field_widget(problems[0].field)
            if widget is not None:
                widget.setFocus()
            return
        super().accept()
