"""The "Connect to an existing kernel" dialog: a form, no engine calls of its own.

It emits ``sig_connect_requested`` with valid ``ConnectionSettings``; the container does
the connecting (off the GUI thread) and calls back ``set_busy``/``show_error``/``accept``.
"""

from __future__ import annotations

import os

from jupyter_core.paths import jupyter_runtime_dir
from qtpy.QtCore import QDir, Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _
from spyder.api.widgets.dialogs import SpyderDialogButtonBox
from spyder.utils.icon_manager import ima
from spyder.utils.palette import SpyderPalette

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.service import LocalResolution, resolve_local
from spyder_kernel_connect.settings import (
    AUTH_KEY,
    AUTH_PASSWORD,
    DEFAULT_REMOTE_PYTHON,
    ConnectionSettings,
    InvalidPresetName,
    PresetStore,
    validate,
)
from spyder_kernel_connect.spyder.texts import describe_kernel, describe_resolution
from spyder_kernel_connect.spyder.widgets.background import run_in_thread

CONNECTION_FILE_FILTERS = ";;".join(
    [
        _("Kernel connection files") + " (kernel-*.json)",
        _("JSON files") + " (*.json)",
        _("All files") + " (*)",
    ]
)
NO_PRESET = ""


def browse_start_dir(current: str) -> str:
    """Browse opens where the typed file is, else in the Jupyter runtime dir."""
    current = os.path.expanduser(current.strip())
    if current and os.path.isdir(os.path.dirname(current)):
        return os.path.dirname(os.path.abspath(current))
    return jupyter_runtime_dir()


class KernelConnectDialog(QDialog):
    sig_connect_requested = Signal(object, str)
    """(ConnectionSettings, name to save the preset under or "")."""

    sig_cancel_requested = Signal()
    """The user pressed Cancel while a connection attempt runs."""

    sig_remote_list_requested = Signal(object)
    """(ConnectionSettings): list the kernels on the SSH host."""

    sig_start_requested = Signal(object, str)
    """(ConnectionSettings, save-as name): start a new kernel on the SSH host, then connect."""

    def __init__(self, parent: QWidget | None, presets: PresetStore) -> None:
        super().__init__(parent)
        self.presets = presets
        self._busy = False
        # The last lookup of the connection-file field, handed on to the connection.
        self.resolution: LocalResolution | None = None
        self._file_dialog: QFileDialog | None = None
        self.setWindowTitle(_("Connect to an existing kernel"))
        self.setObjectName("kernel_connect_dialog")
        self.setMinimumWidth(620)

        intro = QLabel(
            _(
                "Connect a new console to a kernel that is already running, on this "
                "computer or on a remote machine through SSH."
            )
        )
        intro.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addLayout(self._build_presets_row())
        layout.addSpacing(6)
        layout.addWidget(self._build_local_group())
        layout.addWidget(self._build_remote_group())
        layout.addStretch(1)
        layout.addWidget(self._build_footer())

        self._resolve_timer = QTimer(self, singleShot=True, interval=150)
        self._resolve_timer.timeout.connect(self.update_resolution)
        self.cf.textChanged.connect(self._resolve_timer.start)
        self.remote_group.toggled.connect(self._resolve_timer.start)
        self.remote_group.toggled.connect(self._show_local_list)
        self._show_local_list(self.remote_group.isChecked())

        self.reload_presets(select=presets.last)
        if presets.last:
            self.load_preset(presets.last)
        self.update_resolution()
        self._update_auth_fields()
        self.cf.setFocus()

    # ---- Building
    def _build_presets_row(self) -> QHBoxLayout:
        self.preset_combo = QComboBox()
        self.preset_combo.setMinimumContentsLength(24)
        self.preset_combo.setToolTip(_("Load a connection saved earlier"))
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.rename_button = self._tool_button("rename", _("Rename the saved connection"))
        self.rename_button.clicked.connect(self.rename_preset)
        self.delete_button = self._tool_button("editdelete", _("Delete the saved connection"))
        self.delete_button.clicked.connect(self.delete_preset)
        row = QHBoxLayout()
        row.addWidget(QLabel(_("Saved connections:")))
        row.addWidget(self.preset_combo, 1)
        row.addWidget(self.rename_button)
        row.addWidget(self.delete_button)
        return row

    def _tool_button(self, icon: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(ima.icon(icon))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def _build_local_group(self) -> QGroupBox:
        group = QGroupBox(_("Kernel"))
        self.cf = QLineEdit()
        self.cf.setPlaceholderText(_("Path to kernel-1234.json, or just the kernel ID 1234"))
        self.cf.setClearButtonEnabled(True)
        self.browse_button = QPushButton(_("Browse..."))
        self.browse_button.setIcon(ima.icon("fileopen"))
        self.browse_button.clicked.connect(self.browse_connection_file)
        self.cf_status = QLabel()
        self.cf_status.setWordWrap(True)
        self.cf_status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.kernel_list = QListWidget()
        self.kernel_list.setObjectName("running_kernels")
        self.kernel_list.setMinimumHeight(118)
        self.kernel_list.setMaximumHeight(118)
        self.kernel_list.setAlternatingRowColors(True)
        self.kernel_list.itemClicked.connect(self._on_kernel_clicked)
        self.kernel_list.itemActivated.connect(self._on_kernel_clicked)
        self.refresh_button = self._tool_button("refresh", _("Look for running kernels again"))
        self.refresh_button.clicked.connect(self.refresh_kernels)

        grid = QGridLayout(group)
        grid.addWidget(QLabel(_("Connection file:")), 0, 0)
        cf_row = QHBoxLayout()
        cf_row.addWidget(self.cf, 1)
        cf_row.addWidget(self.browse_button)
        grid.addLayout(cf_row, 0, 1)
        grid.addWidget(self.cf_status, 1, 1)
        self.kernels_label = QLabel(_("Running kernels on this computer (newest first):"))
        kernels_row = QHBoxLayout()
        kernels_row.addWidget(self.kernels_label, 1)
        kernels_row.addWidget(self.refresh_button)
        grid.addLayout(kernels_row, 2, 0, 1, 2)
        grid.addWidget(self.kernel_list, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        return group

    def _build_remote_group(self) -> QGroupBox:
        self.remote_group = QGroupBox(_("This is a remote kernel (via SSH)"))
        self.remote_group.setCheckable(True)
        self.remote_group.setChecked(False)

        self.hostname = QLineEdit()
        self.hostname.setPlaceholderText(_("server.example.org or a ~/.ssh/config alias"))
        self.port = QLineEdit()
        self.port.setPlaceholderText("22")
        self.port.setToolTip(_("Empty: the Port of this host in ~/.ssh/config, else 22"))
        self.port.setMaximumWidth(70)
        self.username = QLineEdit()
        self.username.setPlaceholderText(_("Default: from ~/.ssh/config, else your login name"))

        self.password_radio = QRadioButton(_("Password:"))
        self.key_radio = QRadioButton(_("Key file:"))
        self.auth_buttons = QButtonGroup(self)
        self.auth_buttons.addButton(self.password_radio)
        self.auth_buttons.addButton(self.key_radio)
        self.key_radio.setChecked(True)
        self.password_radio.toggled.connect(self._update_auth_fields)

        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.key_file = QLineEdit()
        self.key_file.setPlaceholderText(_("Empty: use your SSH agent and ~/.ssh/config"))
        self.key_browse_button = QPushButton(_("Browse..."))
        self.key_browse_button.setIcon(ima.icon("fileopen"))
        self.key_browse_button.clicked.connect(self.browse_key_file)
        self.passphrase_label = QLabel(_("Passphrase:"))
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.Password)
        self.passphrase.setPlaceholderText(_("Only if the key is encrypted"))

        # The folded section and the kernel list sit below the grid, not in it: spanning
        # grid rows under-allocate height to them (the list got squeezed under its buttons).
        outer = QVBoxLayout(self.remote_group)
        grid = QGridLayout()
        outer.addLayout(grid)
        grid.addWidget(QLabel(_("Hostname:")), 0, 0)
        host_row = QHBoxLayout()
        host_row.addWidget(self.hostname, 1)
        host_row.addWidget(QLabel(_("Port:")))
        host_row.addWidget(self.port)
        grid.addLayout(host_row, 0, 1, 1, 2)
        grid.addWidget(QLabel(_("Username:")), 1, 0)
        grid.addWidget(self.username, 1, 1, 1, 2)

        auth_label = QLabel(_("Log in with one of the two:"))
        grid.addWidget(auth_label, 2, 0, 1, 3)
        grid.addWidget(self.password_radio, 3, 0)
        grid.addWidget(self.password, 3, 1, 1, 2)
        grid.addWidget(self.key_radio, 4, 0)
        grid.addWidget(self.key_file, 4, 1)
        grid.addWidget(self.key_browse_button, 4, 2)
        grid.addWidget(self.passphrase_label, 5, 0, Qt.AlignRight)
        grid.addWidget(self.passphrase, 5, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.advanced_box = self._build_advanced()
        self.remote_kernels_box = self._build_remote_kernels()
        outer.addWidget(self.advanced_box)
        outer.addWidget(self.remote_kernels_box)
        self.hostname.textChanged.connect(self.reset_remote_kernels)
        self.port.textChanged.connect(self.reset_remote_kernels)
        self.username.textChanged.connect(self.reset_remote_kernels)
        return self.remote_group

    def _build_advanced(self) -> QWidget:
        """Remote interpreter and runtime dir: rarely changed, so folded away by default."""
        self.advanced_button = QToolButton()
        self.advanced_button.setObjectName("remote_advanced_button")
        self.advanced_button.setText(_("Remote Python and runtime directory"))
        self.advanced_button.setCheckable(True)
        self.advanced_button.setAutoRaise(True)
        self.advanced_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.advanced_button.setArrowType(Qt.RightArrow)
        self.advanced_button.toggled.connect(self.show_advanced)

        self.remote_python = QLineEdit(DEFAULT_REMOTE_PYTHON)
        self.remote_python.setPlaceholderText(DEFAULT_REMOTE_PYTHON)
        self.remote_python.setToolTip(
            _(
                "The Python on the remote host that starts new kernels (it needs "
                "spyder-kernels) and is asked for the Jupyter runtime directory."
            )
        )
        self.remote_runtime_dir = QLineEdit()
        self.remote_runtime_dir.setPlaceholderText(_("Empty: ask the host (jupyter --runtime-dir)"))
        self.remote_runtime_dir.setToolTip(
            _("Where the kernels' connection files are on the remote host.")
        )
        self.advanced_widget = QWidget()
        grid = QGridLayout(self.advanced_widget)
        grid.setContentsMargins(18, 0, 0, 0)
        grid.addWidget(QLabel(_("Remote Python:")), 0, 0)
        grid.addWidget(self.remote_python, 0, 1)
        grid.addWidget(QLabel(_("Runtime directory:")), 1, 0)
        grid.addWidget(self.remote_runtime_dir, 1, 1)
        grid.setColumnStretch(1, 1)
        self.advanced_widget.hide()

        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.advanced_button, 0, Qt.AlignLeft)
        layout.addWidget(self.advanced_widget)
        return box

    def show_advanced(self, show: bool = True) -> None:
        if self.advanced_button.isChecked() != show:
            self.advanced_button.setChecked(show)  # comes back here through toggled
            return
        self.advanced_button.setArrowType(Qt.DownArrow if show else Qt.RightArrow)
        self.advanced_widget.setVisible(show)
        QTimer.singleShot(0, self._fit_height)

    def _build_remote_kernels(self) -> QWidget:
        # No word wrap: a wrapping label here squeezes the list under it (height-for-width).
        self.remote_kernels_label = QLabel(_("Kernels on this host (newest first):"))
        self.remote_refresh_button = QPushButton(_("List kernels"))
        self.remote_refresh_button.setObjectName("remote_list_button")
        self.remote_refresh_button.setIcon(ima.icon("refresh"))
        self.remote_refresh_button.setToolTip(
            _("Log in and list the kernels in the host's Jupyter runtime directory")
        )
        self.remote_refresh_button.clicked.connect(self.request_remote_list)
        self.start_button = QPushButton(_("Start a new kernel on this host"))
        self.start_button.setObjectName("start_remote_kernel_button")
        self.start_button.setIcon(ima.icon("ipython_console"))
        self.start_button.setToolTip(
            _("Run <remote Python> -m spyder_kernels.console on the host, then connect to it")
        )
        self.start_button.clicked.connect(self.request_start)
        self.remote_list = QListWidget()
        self.remote_list.setObjectName("remote_kernels")
        self.remote_list.setMinimumHeight(118)
        self.remote_list.setMaximumHeight(118)
        self.remote_list.setAlternatingRowColors(True)
        # Long rows end in "…" (the tooltip has everything) instead of a scroll bar.
        self.remote_list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.remote_list.setTextElideMode(Qt.ElideRight)
        self.remote_list.itemClicked.connect(self._on_remote_kernel_clicked)
        self.remote_list.itemActivated.connect(self._on_remote_kernel_clicked)

        buttons = QHBoxLayout()
        buttons.addWidget(self.remote_refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.remote_kernels_label)
        layout.addWidget(self.remote_list)
        layout.addLayout(buttons)
        self.reset_remote_kernels()
        return box

    def _build_footer(self) -> QWidget:
        footer = QWidget()
        self.error_label = QLabel()
        self.error_label.setObjectName("error_label")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"color: {SpyderPalette.COLOR_ERROR_2};")
        self.error_label.hide()
        self.notice_label = QLabel()
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()

        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)  # busy indicator: the duration is unknown
        self.progress_bar.setMaximumHeight(8)
        self.progress_bar.setTextVisible(False)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label, 1)
        progress_row.addWidget(self.progress_bar)
        self.progress_widget = QWidget()
        self.progress_widget.setLayout(progress_row)
        progress_row.setContentsMargins(0, 0, 0, 0)
        self.progress_widget.hide()

        self.save_check = QCheckBox(_("Save these settings as:"))
        self.save_name = QLineEdit()
        self.save_name.setPlaceholderText(_("Name, e.g. lab server"))
        self.save_name.setEnabled(False)
        self.save_check.toggled.connect(self.save_name.setEnabled)
        self.save_check.setToolTip(
            _("Saved after the connection succeeds. Passwords go only to the system keyring.")
        )

        self.buttons = SpyderDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText(_("Connect"))
        self.cancel_button = self.buttons.button(QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.request_connect)
        self.buttons.rejected.connect(self._on_cancel)

        bottom = QHBoxLayout()
        bottom.addWidget(self.save_check)
        bottom.addWidget(self.save_name, 1)
        bottom.addSpacing(12)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(footer)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.error_label)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.progress_widget)
        layout.addLayout(bottom)
        return footer

    # ---- Form values
    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            connection_file=self.cf.text().strip(),
            remote=self.remote_group.isChecked(),
            hostname=self.hostname.text().strip(),
            username=self.username.text().strip(),
            port=self.port.text().strip(),
            auth=AUTH_PASSWORD if self.password_radio.isChecked() else AUTH_KEY,
            key_file=self.key_file.text().strip(),
            password=self.password.text(),
            passphrase=self.passphrase.text(),
            remote_python=self.remote_python.text().strip() or DEFAULT_REMOTE_PYTHON,
            remote_runtime_dir=self.remote_runtime_dir.text().strip(),
        )

    def set_settings(self, settings: ConnectionSettings) -> None:
        self.cf.setText(settings.connection_file)
        self.remote_group.setChecked(settings.remote)
        self.hostname.setText(settings.hostname)
        self.username.setText(settings.username)
        self.port.setText(settings.port)
        self.password_radio.setChecked(settings.auth == AUTH_PASSWORD)
        self.key_radio.setChecked(settings.auth != AUTH_PASSWORD)
        self.key_file.setText(settings.key_file)
        self.password.setText(settings.password)
        self.passphrase.setText(settings.passphrase)
        self.remote_python.setText(settings.remote_python or DEFAULT_REMOTE_PYTHON)
        self.remote_runtime_dir.setText(settings.remote_runtime_dir)
        # Show the advanced fields when they hold something other than the defaults.
        customised = settings.effective_remote_python != DEFAULT_REMOTE_PYTHON
        self.show_advanced(customised or bool(settings.remote_runtime_dir.strip()))
        self._update_auth_fields()
        self.update_resolution()

    def field_widget(self, field: str) -> QWidget:
        return {
            "connection_file": self.cf,
            "hostname": self.hostname,
            "username": self.username,
            "port": self.port,
            "password": self.password,
            "key_file": self.key_file,
            "passphrase": self.passphrase,
            "remote_python": self.remote_python,
            "remote_runtime_dir": self.remote_runtime_dir,
        }.get(field, self.cf)

    def _show_local_list(self, remote: bool) -> None:
        # Local kernels are no choice for a remote connection: keep the dialog short.
        for widget in (self.kernels_label, self.refresh_button, self.kernel_list):
            widget.setVisible(not remote)
        # Likewise the host's kernels and its interpreter settings, for a local one.
        self.advanced_box.setVisible(remote)
        self.remote_kernels_box.setVisible(remote)
        QTimer.singleShot(0, self._fit_height)

    def _fit_height(self) -> None:
        layout = self.layout()
        layout.activate()
        height = self.minimumSizeHint().height()
        if layout.hasHeightForWidth():  # wrapped labels: what this width really needs
            height = max(height, layout.totalHeightForWidth(self.width()))
        self.resize(self.width(), height)

    def _update_auth_fields(self) -> None:
        # Exactly one of the two ways to log in is editable, the other is greyed out.
        use_password = self.password_radio.isChecked()
        self.password.setEnabled(use_password)
        for widget in (
            self.key_file,
            self.key_browse_button,
            self.passphrase,
            self.passphrase_label,
        ):
            widget.setEnabled(not use_password)

    def update_resolution(self) -> None:
        remote = self.remote_group.isChecked()
        if remote and self._picked_remote and self.cf.text().strip() == self._picked_remote:
            text = _("On the remote host: {}").format(self._picked_remote)
            self.cf_status.setStyleSheet(f"color: {SpyderPalette.COLOR_SUCCESS_2};")
            self.cf_status.setText(text)
            self.cf_status.setToolTip(text)
            return
        status = describe_resolution(self._resolve(), remote=remote)
        if status.path:
            color = SpyderPalette.COLOR_SUCCESS_2
        elif status.ok or not self.cf.text().strip():
            color = SpyderPalette.COLOR_TEXT_2  # nothing wrong: just information
        else:
            color = SpyderPalette.COLOR_WARN_2
        self.cf_status.setStyleSheet(f"color: {color};")
        text = status.message
        self.cf_status.setText(text)
        self.cf_status.setToolTip(text)

    def _resolve(self) -> LocalResolution:
        """The field's lookup: the last one while the text and the file are unchanged."""
        spec = self.cf.text()
        if self.resolution is None or not self.resolution.is_current(spec):
            self.resolution = resolve_local(spec)
        return self.resolution

    # ---- Running kernels
    def refresh_kernels(self) -> None:
        from spyder_kernel_connect.connection import list_kernels

        self.kernel_list.clear()
        placeholder = QListWidgetItem(_("Looking for running kernels..."))
        placeholder.setFlags(Qt.NoItemFlags)
        self.kernel_list.addItem(placeholder)
        self.refresh_button.setEnabled(False)
        # Probing heartbeats takes up to half a second: never on the GUI thread.
        self._listing = run_in_thread(self, list_kernels, self.show_kernels, self._listing_failed)

    def _listing_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.kernel_list.clear()
        item = QListWidgetItem(_("Could not list kernels: {}").format(error))
        item.setFlags(Qt.NoItemFlags)
        self.kernel_list.addItem(item)

    def show_kernels(self, entries: list[KernelEntry]) -> None:
        self.refresh_button.setEnabled(True)
        self.kernel_list.clear()
        if not entries:
            item = QListWidgetItem(
                _("No kernel connection files in {}").format(jupyter_runtime_dir())
            )
            item.setFlags(Qt.NoItemFlags)
            self.kernel_list.addItem(item)
            return
        for entry in entries:
            self.kernel_list.addItem(self._kernel_item(entry))

    def _kernel_item(self, entry, reason_in_text: bool = False) -> QListWidgetItem:
        """A list row for a kernel: dead ones greyed, unreadable ones not selectable."""
        row = describe_kernel(entry, reason_in_text=reason_in_text)
        item = QListWidgetItem(row.text)
        item.setToolTip(row.tooltip)
        item.setData(Qt.UserRole, entry.path)
        item.setIcon(ima.icon("ipython_console" if row.alive else "warning"))
        if not row.selectable:
            item.setFlags(Qt.NoItemFlags)
        elif not row.alive:
            item.setForeground(self.palette().brush(self.palette().Disabled, self.palette().Text))
        return item

    def _on_kernel_clicked(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.UserRole)
        if path:
            self.remote_group.setChecked(False)
            self.cf.setText(path)
            self.update_resolution()

    # ---- Kernels on the SSH host (listed by the container, on a worker thread)
    def _set_remote_placeholder(self, text: str) -> None:
        self.remote_list.clear()
        item = QListWidgetItem(text)
        item.setFlags(Qt.NoItemFlags)
        item.setToolTip(text)
        self.remote_list.addItem(item)

    def reset_remote_kernels(self) -> None:
        """Another host: what was listed before no longer applies."""
        self._picked_remote = ""
        self.remote_kernels_label.setText(_("Kernels on this host (newest first):"))
        self._set_remote_placeholder(
            _("Press \u201cList kernels\u201d to see the kernels running on the host.")
        )

    def _host_settings(self) -> ConnectionSettings | None:
        """The form's settings if they are enough to log in to the host, else show why."""
        if self._busy:
            return None
        self.clear_messages()
        settings = self.settings()
        problems = validate(settings, start=True)
        if problems:
            self.show_error(str(problems[0]), field=problems[0].field)
            return None
        return settings

    def request_remote_list(self) -> None:
        settings = self._host_settings()
        if settings is None:
            return
        self._set_remote_placeholder(_("Looking for kernels on the host..."))
        self.sig_remote_list_requested.emit(settings)

    def show_remote_kernels(self, listing) -> None:
        """``listing``: a connector.RemoteListing (host label, runtime dir, entries)."""
        self.remote_kernels_label.setText(_("Kernels on {} (newest first):").format(listing.label))
        tip = _("Connection files in {}").format(listing.runtime_dir)
        self.remote_kernels_label.setToolTip(tip)
        self.remote_list.setToolTip(tip)
        self.remote_list.clear()
        if not listing.entries:
            self._set_remote_placeholder(
                _("No kernel connection files there. Start one with the button above.")
            )
            return
        for entry in listing.entries:
            self.remote_list.addItem(self._kernel_item(entry, reason_in_text=True))

    def show_remote_list_failed(self) -> None:
        self._set_remote_placeholder(_("Could not list the kernels (see the message below)."))

    def _on_remote_kernel_clicked(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.UserRole)
        if path and not self._busy:
            self._picked_remote = path
            self.cf.setText(path)
            self.update_resolution()

    def request_start(self) -> None:
        settings = self._host_settings()
        if settings is None:
            return
        save_as = self._save_as()
        if save_as is None:
            return
        self.sig_start_requested.emit(settings, save_as)

    def _save_as(self) -> str | None:
        """The name to save the preset under ("" = do not save); None: the name is missing."""
        save_as = self.save_name.text().strip() if self.save_check.isChecked() else ""
        if self.save_check.isChecked() and not save_as:
            self.show_error(_("Give the settings a name to save them, or untick the box."))
            self.save_name.setFocus()
            return None
        return save_as

    # ---- Browsing
    def browse_connection_file(self) -> None:
        dialog = QFileDialog(self, _("Select kernel connection file"))
        dialog.setObjectName("connection_file_browser")
        dialog.setFileMode(QFileDialog.ExistingFile)
        dialog.setNameFilter(CONNECTION_FILE_FILTERS)
        dialog.setDirectory(browse_start_dir(self.cf.text()))
        dialog.fileSelected.connect(self.cf.setText)
        self._file_dialog = dialog
        dialog.open()

    def browse_key_file(self) -> None:
        start = os.path.expanduser("~/.ssh")
        dialog = QFileDialog(self, _("Select SSH private key file"))
        dialog.setObjectName("key_file_browser")
        dialog.setFileMode(QFileDialog.ExistingFile)
        dialog.setFilter(dialog.filter() | QDir.Hidden)  # keys live in the hidden ~/.ssh
        dialog.setDirectory(start if os.path.isdir(start) else os.path.expanduser("~"))
        dialog.fileSelected.connect(self.key_file.setText)
        self._file_dialog = dialog
        dialog.open()

    # ---- Presets
    def reload_presets(self, select: str = NO_PRESET) -> None:
        self.preset_combo.clear()
        self.preset_combo.addItem(_("(new connection)"), NO_PRESET)
        for name in self.presets.names():
            self.preset_combo.addItem(name, name)
        index = max(0, self.preset_combo.findData(select))
        self.preset_combo.setCurrentIndex(index)
        self._update_preset_buttons()

    def current_preset(self) -> str:
        return self.preset_combo.currentData() or NO_PRESET

    def _update_preset_buttons(self) -> None:
        has = bool(self.current_preset())
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _on_preset_chosen(self, _index: int) -> None:
        name = self.current_preset()
        self._update_preset_buttons()
        if name:
            self.load_preset(name)

    def load_preset(self, name: str) -> None:
        try:
            settings = self.presets.load(name)
        except KernelConnectError as err:
            self.show_error(str(err))
            return
        self.set_settings(settings)
        self.save_check.setChecked(True)
        self.save_name.setText(name)
        self.clear_messages()
        if self.presets.secrets.problem and settings.remote:
            self.show_notice(
                _("Secrets are not saved on this computer: {}").format(self.presets.secrets.problem)
            )

    def rename_preset(self) -> None:
        old = self.current_preset()
        if not old:
            return
        new, ok = QInputDialog.getText(
            self, _("Rename saved connection"), _("New name:"), QLineEdit.Normal, old
        )
        if ok:
            self.rename_preset_to(old, new)

    def rename_preset_to(self, old: str, new: str) -> None:
        try:
            self.presets.rename(old, new)
        except InvalidPresetName as err:
            self.show_error(str(err))
            return
        self.reload_presets(select=new.strip())
        if self.save_name.text() == old:
            self.save_name.setText(new.strip())

    def delete_preset(self) -> None:
        name = self.current_preset()
        if not name:
            return
        answer = QMessageBox.question(
            self,
            _("Delete saved connection"),
            _("Delete the saved connection <b>{}</b> and its stored password?").format(name),
            QMessageBox.Yes | QMessageBox.No,
        )
        if answer == QMessageBox.Yes:
            self.delete_preset_named(name)

    def delete_preset_named(self, name: str) -> None:
        self.presets.delete(name)
        self.reload_presets()
        if self.save_name.text() == name:
            self.save_name.clear()

    # ---- Connecting
    def request_connect(self) -> None:
        if self._busy:
            return
        self.clear_messages()
        settings = self.settings()
        problems = validate(settings)
        if not problems and not settings.remote:
            status = describe_resolution(self._resolve())
            if not status.ok:
                self.show_error(status.message, field="connection_file")
                return
        if problems:
            self.show_error(str(problems[0]), field=problems[0].field)
            return
        save_as = self._save_as()
        if save_as is None:
            return
        self.sig_connect_requested.emit(settings, save_as)

    def set_busy(self, message: str) -> None:
        self._busy = True
        self.progress_label.setText(message)
        self.progress_widget.show()
        for widget in self._form_widgets():
            widget.setEnabled(False)
        self.ok_button.setEnabled(False)

    def set_idle(self) -> None:
        self._busy = False
        self.progress_widget.hide()
        for widget in self._form_widgets():
            widget.setEnabled(True)
        self.save_name.setEnabled(self.save_check.isChecked())
        self.ok_button.setEnabled(True)
        self._update_auth_fields()
        self._update_preset_buttons()

    @property
    def busy(self) -> bool:
        return self._busy

    def _form_widgets(self) -> list[QWidget]:
        return [
            self.preset_combo,
            self.rename_button,
            self.delete_button,
            self.cf,
            self.browse_button,
            self.kernel_list,
            self.remote_group,
            self.save_check,
            self.save_name,
        ]

    def show_error(self, message: str, field: str | None = None) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        if field:
            widget = self.field_widget(field)
            if field != "connection_file" and not self.remote_group.isChecked():
                self.remote_group.setChecked(True)
            if field in ("remote_python", "remote_runtime_dir"):
                self.show_advanced(True)
            widget.setFocus()
            if isinstance(widget, QLineEdit):
                widget.selectAll()

    def show_notice(self, message: str) -> None:
        self.notice_label.setText(message)
        self.notice_label.show()

    def clear_messages(self) -> None:
        self.error_label.clear()
        self.error_label.hide()
        self.notice_label.clear()
        self.notice_label.hide()

    def _on_cancel(self) -> None:
        if self._busy:
            self.sig_cancel_requested.emit()
        else:
            self.reject()

    def reject(self) -> None:
        if self._busy:  # Escape while connecting cancels the attempt first
            self.sig_cancel_requested.emit()
            return
        super().reject()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_kernels()
