"""The "Kernel" group of the connect dialog: the connection-file field and where it leads.

The line under the field (``ResolutionLabel``) turns green ("Resolves to ...") only for a
file that was found *and* read as a valid connection file; otherwise it gives the reason.
"""

from __future__ import annotations

import os

from jupyter_core.paths import jupyter_runtime_dir
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.service import LocalResolution, resolve_local
from spyder_kernel_connect.spyder.texts import describe_resolution
from spyder_kernel_connect.spyder.widgets.fields import fit_placeholder
from spyder_kernel_connect.spyder.widgets.messages import MessageLabel

CONNECTION_FILE_FILTERS = ";;".join(
    [
        _("Kernel connection files") + " (kernel-*.json)",
        _("JSON files") + " (*.json)",
        _("All files") + " (*)",
    ]
)


def browse_start_dir(current: str) -> str:
    """Browse opens where the typed file is, else in the Jupyter runtime dir."""
    current = os.path.expanduser(current.strip())
    if current and os.path.isdir(os.path.dirname(current)):
        return os.path.dirname(os.path.abspath(current))
    return jupyter_runtime_dir()


class ResolutionLabel(MessageLabel):
    """The live answer to "where does what I typed lead?" under the connection-file field."""

    def __init__(self) -> None:
        """Create the empty label; it wraps and its text can be selected."""
        super().__init__("resolution_label", "info")
        self.ok = False

    def show_resolution(self, resolution: LocalResolution, remote: bool) -> None:
        """
        Say where what the user typed leads: a valid file, the SSH host, or why nowhere.

        Parameters
        ----------
        resolution: LocalResolution
            The lookup of the typed text on this computer (the file found is already read).
        remote: bool
            The kernel is on the SSH host (a spec found nowhere here is then fine).
        """
        status = describe_resolution(resolution, remote=remote)
        if status.path:
            self._show("success", status.message, True)
        elif status.ok or not resolution.spec.strip():
            self._show("info", status.message, status.ok)
        else:
            self._show("warning", status.message, False)

    def show_remote_pick(self, path: str) -> None:
        """Say that ``path`` was picked from the SSH host's list."""
        self._show("success", _("On the remote host: {}").format(path), True)

    def _show(self, kind: str, text: str, ok: bool) -> None:
        self.ok = ok
        self.set_kind(kind)
        self.set_message(text)


class ConnectionFileGroup(QGroupBox):
    """The connection-file field, its Browse button and the line saying where it leads."""

    sig_edited = Signal()
    """The user typed in the field or picked a file with Browse."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """
        Create the group with an empty field.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget.
        """
        super().__init__(_("Kernel"), parent)
        self._remote = False
        self._picked_remote = ""
        self.resolution: LocalResolution | None = None  # of the text, handed on to connect
        self._file_dialog: QFileDialog | None = None
        self.cf = QLineEdit()
        self.cf.setObjectName("connection_file")
        self.cf.setPlaceholderText(_("Path, or a kernel ID such as 1234"))
        self.cf.setToolTip(
            _("The kernel's connection file, or its ID: it is looked up in the runtime directory")
        )
        self.cf.setClearButtonEnabled(True)
        fit_placeholder(self.cf, extra=self.cf.sizeHint().height())  # room for the clear button
        self.browse_button = QPushButton(_("Browse..."))
        self.browse_button.setIcon(ima.icon("fileopen"))
        self.browse_button.clicked.connect(self.browse)
        self.status = ResolutionLabel()
        grid = QGridLayout(self)
        grid.addWidget(QLabel(_("Connection file:")), 0, 0)
        grid.addWidget(self.cf, 0, 1)
        grid.addWidget(self.browse_button, 0, 2)
        grid.addWidget(self.status, 1, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        # Resolving lists directories: wait until the user pauses typing.
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.update_resolution)
        self.cf.textChanged.connect(self._timer.start)
        self.cf.textEdited.connect(self.sig_edited)

    def set_remote(self, remote: bool) -> None:
        """
        Tell whether the kernel is on the SSH host (what the field means changes).

        Parameters
        ----------
        remote: bool
            True when the SSH group is ticked.
        """
        self._remote = remote
        self._timer.start()

    def set_remote_pick(self, path: str) -> None:
        """
        Show ``path``, a connection file picked from the SSH host's list.

        Parameters
        ----------
        path: str
            The file's path on the SSH host.
        """
        self._picked_remote = path
        self.cf.setText(path)
        self.update_resolution()

    def forget_remote_pick(self) -> None:
        """The host changed: a path picked from its list means nothing any more."""
        self._picked_remote = ""

    def update_resolution(self) -> None:
        """Say under the field where the typed file or ID leads (or why nowhere)."""
        text = self.cf.text()
        if self._remote and self._picked_remote and text.strip() == self._picked_remote:
            self.status.show_remote_pick(self._picked_remote)
        else:
            self.status.show_resolution(self.resolve(), self._remote)

    def resolve(self) -> LocalResolution:
        """
        Look the field's text up on this computer and read the file it leads to.

        The last lookup is reused while the text and that file are unchanged, so the live
        line, the check before connecting and the connection itself share one lookup and
        one read.
        """
        text = self.cf.text()
        if self.resolution is None or not self.resolution.is_current(text):
            self.resolution = resolve_local(text)
        return self.resolution

    def browse(self) -> None:
        """Let the user pick a connection file, starting in the Jupyter runtime directory."""
        dialog = QFileDialog(self, _("Select kernel connection file"))
        dialog.setObjectName("connection_file_browser")
        dialog.setFileMode(QFileDialog.ExistingFile)
        dialog.setNameFilter(CONNECTION_FILE_FILTERS)
        dialog.setDirectory(browse_start_dir(self.cf.text()))
        dialog.fileSelected.connect(self.cf.setText)
        dialog.fileSelected.connect(lambda _path: self.sig_edited.emit())
        self._file_dialog = dialog
        dialog.open()
