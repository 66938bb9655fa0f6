"""The "remote kernel (via SSH)" group of the connect dialog: host, login, remote Python.

One job: hold the SSH fields, keep the two ways of logging in exclusive, and read/write
them from/to ``ConnectionSettings``. Other features add their own sections with
``add_section`` (they go above the folded "Remote Python" part).
"""

from __future__ import annotations

import os

from qtpy.QtCore import QDir, Qt, Signal
from qtpy.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.settings import (
    AUTH_KEY,
    AUTH_PASSWORD,
    DEFAULT_REMOTE_PYTHON,
    ConnectionSettings,
)
from spyder_kernel_connect.spyder.widgets.fields import fit_placeholder, line_edit
from spyder_kernel_connect.spyder.widgets.fold_button import FoldButton
from spyder_kernel_connect.spyder.widgets.project_folders import ProjectFoldersSection

# ConnectionSettings fields this group edits.
SSH_FIELDS = (
    "hostname",
    "port",
    "username",
    "jump",
    "password",
    "key_file",
    "passphrase",
    "remote_python",
    "remote_runtime_dir",
)


class SSHSettingsGroup(QGroupBox):
    """Checkable group with the SSH login fields; unticked, the kernel is local."""

    sig_host_changed = Signal()
    """Hostname, port or username changed: kernels listed for the old host no longer apply."""

    sig_layout_changed = Signal()
    """The remote Python fields were folded or unfolded: the dialog fits its height again."""

    sig_field_edited = Signal(str)
    """
    The user edited a field.

    Parameters
    ----------
    field: str
        The ``ConnectionSettings`` field name, e.g. "hostname".
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        """
        Create the group, unticked, with key-file login selected.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget.
        """
        super().__init__(_("This is a remote kernel (via SSH)"), parent)
        self.setObjectName("ssh_settings")
        self.setCheckable(True)
        self.setChecked(False)
        self._file_dialog: QFileDialog | None = None

        self.hostname = line_edit(
            _("Host name or ~/.ssh/config alias"),
            _("For example server.example.org, or an alias from ~/.ssh/config"),
        )
        self.port = line_edit("22", _("Empty: the Port of this host in ~/.ssh/config, else 22"))
        fit_placeholder(self.port, text="65535")  # room for any port number
        self.port.setMaximumWidth(self.port.minimumWidth())
        self.username = line_edit(
            _("Default: your login name"),
            _("Empty: the User of this host in ~/.ssh/config, else your login name"),
        )
        self.jump = line_edit(
            _("Empty: ProxyJump from ~/.ssh/config"),
            _(
                "Hosts to go through first, in order, comma-separated like ssh -J "
                "(bastion,login). Each uses its own user, port and key from ~/.ssh/config "
                "and asks for its own code if it has two-factor login. Empty: the "
                "ProxyJump or ProxyCommand of ~/.ssh/config; none: connect directly."
            ),
            "jump_hosts",
        )

        self.password_radio = QRadioButton(_("Password:"))
        self.key_radio = QRadioButton(_("Key file:"))
        self.auth_buttons = QButtonGroup(self)
        self.auth_buttons.addButton(self.password_radio)
        self.auth_buttons.addButton(self.key_radio)
        self.key_radio.setChecked(True)
        self.password_radio.toggled.connect(self.update_auth_fields)
        self.toggled.connect(self.update_auth_fields)

        self.password = line_edit(secret=True)
        self.key_file = line_edit(
            _("Empty: agent, ~/.ssh/config"),
            _("Empty: use your SSH agent and the keys named in ~/.ssh/config"),
        )
        self.key_browse_button = QPushButton(_("Browse..."))
        self.key_browse_button.setIcon(ima.icon("fileopen"))
        self.key_browse_button.clicked.connect(self.browse_key_file)
        self.passphrase_label = QLabel(_("Passphrase:"))
        self.passphrase = line_edit(_("Only if the key is encrypted"), secret=True)

        self.grid = QGridLayout()
        self.grid.addWidget(QLabel(_("Hostname:")), 0, 0)
        host_row = QHBoxLayout()
        host_row.addWidget(self.hostname, 1)
        host_row.addWidget(QLabel(_("Port:")))
        host_row.addWidget(self.port)
        self.grid.addLayout(host_row, 0, 1, 1, 2)
        self.grid.addWidget(QLabel(_("Username:")), 1, 0)
        self.grid.addWidget(self.username, 1, 1, 1, 2)
        self.grid.addWidget(QLabel(_("Jump hosts:")), 2, 0)
        self.grid.addWidget(self.jump, 2, 1, 1, 2)
        self.grid.addWidget(QLabel(_("Log in with one of the two:")), 3, 0, 1, 3)
        self.grid.addWidget(self.password_radio, 4, 0)
        self.grid.addWidget(self.password, 4, 1, 1, 2)
        self.grid.addWidget(self.key_radio, 5, 0)
        self.grid.addWidget(self.key_file, 5, 1)
        self.grid.addWidget(self.key_browse_button, 5, 2)
        self.grid.addWidget(self.passphrase_label, 6, 0, Qt.AlignRight)
        self.grid.addWidget(self.passphrase, 6, 1, 1, 2)
        self.grid.setColumnStretch(1, 1)

        self.sections = QVBoxLayout()
        self.sections.setContentsMargins(0, 0, 0, 0)
        self.advanced_box = self._build_advanced()
        outer = QVBoxLayout(self)
        outer.addLayout(self.grid)
        outer.addLayout(self.sections)
        outer.addWidget(self.advanced_box)
        self.project_folders = ProjectFoldersSection(self)
        self.add_section(self.project_folders)
        self.project_folders.sig_field_edited.connect(self.sig_field_edited)

        for name in SSH_FIELDS:
            widget = self.field_widget(name)
            if widget is not self.port:
                fit_placeholder(widget)
            widget.textEdited.connect(lambda _text, name=name: self.sig_field_edited.emit(name))
        for widget in (self.hostname, self.port, self.username):
            widget.textChanged.connect(self.sig_host_changed)
        self.update_auth_fields()

    def _build_advanced(self) -> QWidget:
        """Remote interpreter and runtime dir: rarely changed, so folded away by default."""
        self.remote_python = line_edit(
            DEFAULT_REMOTE_PYTHON,
            _(
                "The Python on the remote host that starts new kernels (it needs "
                "spyder-kernels) and is asked for the Jupyter runtime directory."
            ),
        )
        self.remote_python.setText(DEFAULT_REMOTE_PYTHON)
        self.remote_runtime_dir = line_edit(
            _("Empty: ask the remote host"),
            _(
                "Where the kernels' connection files are on the remote host. Empty: "
                "ask the host's Jupyter."
            ),
        )
        self.advanced_widget = QWidget()
        grid = QGridLayout(self.advanced_widget)
        grid.setContentsMargins(18, 0, 0, 0)
        grid.addWidget(QLabel(_("Remote Python:")), 0, 0)
        grid.addWidget(self.remote_python, 0, 1)
        grid.addWidget(QLabel(_("Runtime directory:")), 1, 0)
        grid.addWidget(self.remote_runtime_dir, 1, 1)
        grid.setColumnStretch(1, 1)
        self.advanced_button = FoldButton(
            _("Remote Python and runtime directory"), "remote_advanced_button", self.advanced_widget
        )
        self.advanced_button.sig_toggled.connect(lambda _shown: self.sig_layout_changed.emit())

        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.advanced_button, 0, Qt.AlignLeft)
        layout.addWidget(self.advanced_widget)
        return box

    # ---- Public API
    def add_section(self, widget: QWidget) -> None:
        """
        Add a section of further SSH options under the login fields.

        Parameters
        ----------
        widget: QWidget
            The section, e.g. jump hosts or a scheduler; it is disabled with the group.
        """
        self.sections.addWidget(widget)

    def show_advanced(self, show: bool = True) -> None:
        """
        Unfold (or fold) the remote Python and runtime directory fields.

        Parameters
        ----------
        show: bool, optional
            True to show the fields, False to hide them.
        """
        self.advanced_button.set_unfolded(show)

    def update_auth_fields(self) -> None:
        """Grey out the way of logging in that is not chosen (and all of it when unticked)."""
        on = self.isChecked()
        use_password = self.password_radio.isChecked()
        self.password.setEnabled(on and use_password)
        for widget in (
            self.key_file,
            self.key_browse_button,
            self.passphrase,
            self.passphrase_label,
        ):
            widget.setEnabled(on and not use_password)

    def values(self) -> dict[str, object]:
        """The group's part of ``ConnectionSettings`` (its sections' too), as keyword arguments."""
        values = {
            "remote": self.isChecked(),
            "hostname": self.hostname.text().strip(),
            "username": self.username.text().strip(),
            "port": self.port.text().strip(),
            "jump": self.jump.text().strip(),
            "auth": AUTH_PASSWORD if self.password_radio.isChecked() else AUTH_KEY,
            "key_file": self.key_file.text().strip(),
            "password": self.password.text(),
            "passphrase": self.passphrase.text(),
            "remote_python": self.remote_python.text().strip() or DEFAULT_REMOTE_PYTHON,
            "remote_runtime_dir": self.remote_runtime_dir.text().strip(),
        }
        values.update(self.project_folders.values())
        return values

    def set_values(self, settings: ConnectionSettings) -> None:
        """
        Show the SSH part of ``settings``; customised remote Python fields are unfolded.

        Parameters
        ----------
        settings: ConnectionSettings
            The settings to show (a preset, the last ones used, or empty ones).
        """
        self.setChecked(settings.remote)
        self.hostname.setText(settings.hostname)
        self.username.setText(settings.username)
        self.port.setText(settings.port)
        self.jump.setText(settings.jump)
        self.password_radio.setChecked(settings.auth == AUTH_PASSWORD)
        self.key_radio.setChecked(settings.auth != AUTH_PASSWORD)
        self.key_file.setText(settings.key_file)
        self.password.setText(settings.password)
        self.passphrase.setText(settings.passphrase)
        self.remote_python.setText(settings.remote_python or DEFAULT_REMOTE_PYTHON)
        self.remote_runtime_dir.setText(settings.remote_runtime_dir)
        customised = settings.effective_remote_python != DEFAULT_REMOTE_PYTHON
        self.show_advanced(customised or bool(settings.remote_runtime_dir.strip()))
        self.project_folders.set_values(settings)
        self.update_auth_fields()

    def field_widget(self, field: str) -> QLineEdit | None:
        """
        The line edit of a ``ConnectionSettings`` field, or None if it is not in this group.

        Parameters
        ----------
        field: str
            Field name, e.g. "port".
        """
        if field in SSH_FIELDS:
            return getattr(self, field)
        return self.project_folders.field_widget(field)

    def browse_key_file(self) -> None:
        """Let the user pick a private key; the file dialog opens in ``~/.ssh``."""
        start = os.path.expanduser("~/.ssh")
        dialog = QFileDialog(self, _("Select SSH private key file"))
        dialog.setObjectName("key_file_browser")
        dialog.setFileMode(QFileDialog.ExistingFile)
        dialog.setFilter(dialog.filter() | QDir.Hidden)  # keys live in the hidden ~/.ssh
        dialog.setDirectory(start if os.path.isdir(start) else os.path.expanduser("~"))
        dialog.fileSelected.connect(self.key_file.setText)
        dialog.fileSelected.connect(lambda _path: self.sig_field_edited.emit("key_file"))
        self._file_dialog = dialog
        dialog.open()
