"""The "Connect to an existing kernel" dialog: a form, no engine calls of its own.

It composes the presets bar, the connection-file field, the SSH settings group, the two
kernel lists and the message area. It asks the container for everything that takes time
(``sig_local_list_requested``, ``sig_remote_list_requested``, ``sig_connect_requested``,
``sig_start_requested``); the container answers with ``show_local_kernels``,
``show_remote_kernels``, ``set_busy``/``set_idle``, ``show_failure`` and ``accept``.

The module is longer than the project's ~400 lines because that contract is spelled out
here, signal by signal and method by method; the widgets' own work lives in their modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qtpy.QtCore import Qt, QTimer, Signal
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _
from spyder.api.widgets.dialogs import SpyderDialogButtonBox

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.service import LocalResolution
from spyder_kernel_connect.settings import ConnectionSettings, PresetStore, validate
from spyder_kernel_connect.spyder.texts import describe_resolution
from spyder_kernel_connect.spyder.widgets.connection_file import ConnectionFileGroup
from spyder_kernel_connect.spyder.widgets.kernel_list import LocalKernelList, RemoteKernelList
from spyder_kernel_connect.spyder.widgets.messages import (
    MessageArea,
    ProgressRow,
    field_for_error,
)
from spyder_kernel_connect.spyder.widgets.presets_bar import PresetsBar, SaveAsRow
from spyder_kernel_connect.spyder.widgets.slurm_settings import SlurmSettingsSection
from spyder_kernel_connect.spyder.widgets.ssh_settings import SSHSettingsGroup

# The dialog must fit a 1366x768 screen with every section unfolded (and its title bar).
MAX_HEIGHT = 700
TITLE_BAR = 40


class KernelConnectDialog(QDialog):
    """Form to connect a console to a running kernel, here or on an SSH host."""

    sig_connect_requested = Signal(object, str)
    """
    The user asked to connect with a valid form.

    Parameters
    ----------
    settings: ConnectionSettings
        What to connect to.
    save_as: str
        Name to save the settings under after success, or "" not to save them.
    """

    sig_cancel_requested = Signal()
    """The user pressed Cancel (or Escape) while an attempt runs."""

    sig_local_list_requested = Signal()
    """List the kernels running on this computer; answer with ``show_local_kernels``."""

    sig_remote_list_requested = Signal(object)
    """
    List the kernels on the SSH host; answer with ``show_remote_kernels``.

    Parameters
    ----------
    settings: ConnectionSettings
        Settings valid for logging in to the host.
    """

    sig_start_requested = Signal(object, str)
    """
    Start a new kernel on the SSH host, then connect to it.

    Parameters
    ----------
    settings: ConnectionSettings
        Settings valid for logging in to the host.
    save_as: str
        Name to save the settings under after success, or "".
    """

    sig_job_requested = Signal(object, str, str)
    """
    Start a kernel in a SLURM job on a compute node (or attach to a kept job), then connect.

    Parameters
    ----------
    settings: ConnectionSettings
        Settings valid for logging in to the cluster's login node, with the job's resources.
    save_as: str
        Name to save the settings under after success, or "".
    job_id: str
        A kept job to attach to again, or "" for a new job.
    """

    sig_jobs_list_requested = Signal(object)
    """
    List this user's kernel jobs on the cluster; answer with ``slurm.show_jobs``.

    Parameters
    ----------
    settings: ConnectionSettings
        Settings valid for logging in to the login node.
    """

    def __init__(self, parent: QWidget | None, presets: PresetStore) -> None:
        """
        Create the dialog showing the last used preset, if any.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget (Spyder's main window).
        presets: PresetStore
            Saved connections and their secrets.
        """
        super().__init__(parent)
        self.presets = presets
        self._busy = False
        self._error_field: str | None = None
        self._focus_before_busy: QWidget | None = None
        self.setWindowTitle(_("Connect to an existing kernel"))
        self.setObjectName("kernel_connect_dialog")

        self.presets_bar = PresetsBar(self, presets)
        self.kernel_group = ConnectionFileGroup(self)
        self.cf = self.kernel_group.cf
        self.cf_status = self.kernel_group.status
        self.browse_button = self.kernel_group.browse_button
        self.remote_group = SSHSettingsGroup(self)
        self.local_kernels = LocalKernelList(self)
        self.remote_kernels = RemoteKernelList(self)
        self.start_button = self.remote_kernels.start_button
        self.slurm = SlurmSettingsSection(self)
        self.remote_group.add_section(self.slurm)
        self.slurm_button = self.slurm.start_button
        self.remote_kernels.add_button(self.slurm_button)
        self.messages = MessageArea(self)
        self.error_label = self.messages.error_label
        self.notice_label = self.messages.notice_label
        # While an attempt runs, its progress takes the place of the save row.
        self.progress_widget = ProgressRow(self)
        self.progress_label = self.progress_widget.label

        # Left, the kernel: its file and the list to pick it from; right, how to reach it.
        # The SSH settings scroll only if a small screen leaves them less than they need.
        kernel = QVBoxLayout()
        kernel.addWidget(self.kernel_group)
        kernel.addWidget(self.local_kernels, 1)
        kernel.addWidget(self.remote_kernels, 1)
        ssh = QWidget()
        ssh_layout = QVBoxLayout(ssh)
        ssh_layout.setContentsMargins(0, 0, 0, 0)
        ssh_layout.addWidget(self.remote_group)
        ssh_layout.addStretch(1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("form_scroll")
        self.form_scroll.setFrameShape(QFrame.NoFrame)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(ssh)
        columns = QHBoxLayout()
        columns.addLayout(kernel, 1)
        columns.addWidget(self.form_scroll, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.presets_bar)
        layout.addLayout(columns, 1)
        layout.addWidget(self.messages)
        layout.addLayout(self._build_footer())
        self._connect_signals()

        self.presets_bar.reload(select=presets.last)
        if presets.last:
            self.load_preset(presets.last)
        self._on_remote_toggled(self.remote_group.isChecked())
        self.kernel_group.update_resolution()
        self.cf.setFocus()

    # ---- Building
    def _build_footer(self) -> QHBoxLayout:
        self.save_row = SaveAsRow(self)
        self.save_check = self.save_row.check
        self.save_name = self.save_row.name_edit
        # "OK", as in Spyder's documentation; the tooltip says what it does.
        self.buttons = SpyderDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText(_("OK"))
        self.ok_button.setToolTip(_("Connect a new console to this kernel"))
        self.cancel_button = self.buttons.button(QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.request_connect)
        self.buttons.rejected.connect(self._on_cancel)

        footer = QHBoxLayout()
        footer.addWidget(self.save_row, 1)
        footer.addWidget(self.progress_widget, 1)
        footer.addSpacing(12)
        footer.addWidget(self.buttons)
        return footer

    def _connect_signals(self) -> None:
        self.kernel_group.sig_edited.connect(lambda: self._on_field_edited("connection_file"))
        self.remote_group.toggled.connect(self._on_remote_toggled)
        self.remote_group.sig_host_changed.connect(self.reset_remote_kernels)
        self.remote_group.sig_field_edited.connect(self._on_field_edited)
        self.presets_bar.sig_preset_chosen.connect(self._on_preset_chosen)
        self.presets_bar.sig_preset_renamed.connect(self.save_row.on_renamed)
        self.presets_bar.sig_preset_deleted.connect(self.save_row.on_deleted)
        self.presets_bar.sig_error.connect(self.show_error)
        self.local_kernels.sig_refresh_requested.connect(self.refresh_kernels)
        self.local_kernels.sig_kernel_picked.connect(self._on_local_kernel_picked)
        self.remote_kernels.sig_refresh_requested.connect(self.request_remote_list)
        self.remote_kernels.sig_kernel_picked.connect(self._on_remote_kernel_picked)
        self.remote_kernels.sig_start_requested.connect(self.request_start)
        self.slurm_button.clicked.connect(lambda: self.request_job())
        self.slurm.sig_job_picked.connect(self.request_job)
        self.slurm.sig_jobs_list_requested.connect(self.request_jobs_list)
        self.slurm.sig_field_edited.connect(self._on_field_edited)
        self.slurm.sig_layout_changed.connect(self._schedule_fit)
        self.messages.sig_height_changed.connect(self._schedule_fit)
        self.reset_remote_kernels()

    # ---- Form values
    def settings(self) -> ConnectionSettings:
        """The settings the form shows now (not validated)."""
        return ConnectionSettings(
            connection_file=self.cf.text().strip(),
            **self.remote_group.values(),
            **self.slurm.values(),
        )

    def set_settings(self, settings: ConnectionSettings) -> None:
        """
        Show ``settings`` in the form.

        Parameters
        ----------
        settings: ConnectionSettings
            The settings to show; ``ConnectionSettings()`` empties the form.
        """
        self.cf.setText(settings.connection_file)
        self.remote_group.set_values(settings)
        self.slurm.set_values(settings)
        self.kernel_group.update_resolution()

    def field_widget(self, field: str) -> QLineEdit:
        """
        The line edit of a ``ConnectionSettings`` field (the connection file by default).

        Parameters
        ----------
        field: str
            Field name, e.g. "hostname".
        """
        return self.remote_group.field_widget(field) or self.slurm.field_widget(field) or self.cf

    def show_advanced(self, show: bool = True) -> None:
        """Unfold (or fold) the remote Python and runtime directory fields."""
        self.remote_group.show_advanced(show)
        self._schedule_fit()

    # ---- Kernels on this computer (listed by the container, on a worker thread)
    def refresh_kernels(self) -> None:
        """Ask for the list of the kernels running on this computer."""
        self.local_kernels.show_looking()
        self.sig_local_list_requested.emit()

    def show_local_kernels(
        self, entries: Iterable[KernelEntry], consoles: Mapping[str, str] | None = None
    ) -> None:
        """Show the kernels found on this computer (see ``LocalKernelList.show_kernels``)."""
        self.local_kernels.show_kernels(entries, consoles)

    def show_local_list_failed(self, error: BaseException) -> None:
        """Say in the list why the kernels on this computer could not be listed."""
        self.local_kernels.show_failed(error)

    def _on_local_kernel_picked(self, path: str) -> None:
        self.remote_group.setChecked(False)
        self.cf.setText(path)
        self.messages.clear_error()
        self.kernel_group.update_resolution()

    # ---- Kernels on the SSH host (listed by the container, on a worker thread)
    def reset_remote_kernels(self) -> None:
        """Another host: what was listed before no longer applies."""
        self.kernel_group.forget_remote_pick()
        self.remote_kernels.reset()

    def request_remote_list(self) -> None:
        """Ask for the kernels on the SSH host, if the form is enough to log in."""
        settings = self._host_settings()
        if settings is None:
            return
        self.remote_kernels.show_placeholder(_("Looking for kernels on the host..."))
        self.sig_remote_list_requested.emit(settings)

    def show_remote_kernels(self, listing) -> None:
        """Show the kernels found on the SSH host (a ``service.HostListing``)."""
        self.remote_kernels.show_listing(listing)

    def show_remote_list_failed(self) -> None:
        """The listing failed; the reason is in the message area."""
        self.remote_kernels.show_failed()

    def _on_remote_kernel_picked(self, path: str) -> None:
        if self._busy:
            return
        self.kernel_group.set_remote_pick(path)
        self.messages.clear_error()

    def request_start(self) -> None:
        """Ask to start a new kernel on the SSH host, if the form is enough to log in."""
        settings = self._host_settings()
        if settings is None:
            return
        save_as = self._save_as()
        if save_as is None:
            return
        self.sig_start_requested.emit(settings, save_as)

    def request_job(self, job_id: str = "") -> None:
        """Ask to start a kernel in a SLURM job (or attach to the kept job ``job_id``)."""
        settings = self._host_settings()
        if settings is None:
            return
        save_as = self._save_as()
        if save_as is None:
            return
        self.sig_job_requested.emit(settings, save_as, job_id)

    def request_jobs_list(self) -> None:
        """Ask for this user's kernel jobs on the cluster."""
        settings = self._host_settings()
        if settings is None:
            return
        self.slurm.show_jobs_looking()
        self.sig_jobs_list_requested.emit(settings)

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

    def _save_as(self) -> str | None:
        """The name to save the preset under ("" = do not save); None: the name is missing."""
        save_as = self.save_row.name()
        if save_as is None:
            self.show_error(_("Give the settings a name to save them, or untick the box."))
            self.save_name.setFocus()
        return save_as

    # ---- Presets
    def load_preset(self, name: str) -> None:
        """
        Fill the form from the saved connection ``name`` (secrets from the keyring).

        Parameters
        ----------
        name: str
            The preset's name.
        """
        try:
            settings = self.presets.load(name)
        except KernelConnectError as err:
            self.show_error(str(err))
            return
        self.set_settings(settings)
        self.save_row.set_name(name)
        self.clear_messages()
        if self.presets.secrets.problem and settings.remote:
            self.show_notice(
                _("Secrets are not saved on this computer: {}").format(self.presets.secrets.problem)
            )

    def _on_preset_chosen(self, name: str) -> None:
        if name:
            self.load_preset(name)
            return
        # "(new connection)": nothing of the previous preset stays.
        self.set_settings(ConnectionSettings())
        self.save_row.set_name("")
        self.clear_messages()
        self.reset_remote_kernels()

    # ---- Connecting
    def request_connect(self) -> None:
        """Check the form; if it is valid, ask the container to connect."""
        if self._busy:
            return
        self.clear_messages()
        settings = self.settings()
        problems = validate(settings)
        if problems:
            self.show_error(str(problems[0]), field=problems[0].field)
            return
        if not settings.remote:
            status = describe_resolution(self.kernel_group.resolve())
            if not status.ok:
                self.show_error(status.message, field="connection_file")
                return
        save_as = self._save_as()
        if save_as is None:
            return
        self.sig_connect_requested.emit(settings, save_as)

    def set_busy(self, message: str) -> None:
        """
        Lock the form while an attempt runs and show its progress.

        Parameters
        ----------
        message: str
            The first step, e.g. "Connecting...".
        """
        if not self._busy:
            self._focus_before_busy = self.focusWidget()
        self._busy = True
        self.save_row.hide()
        self.progress_widget.show_step(message)
        for widget in self._form_widgets():
            widget.setEnabled(False)
        self.save_row.set_locked(True)
        self.ok_button.setEnabled(False)

    def set_progress(self, message: str) -> None:
        """Show the current step of the running attempt."""
        self.progress_widget.show_step(message)

    def set_idle(self) -> None:
        """Unlock the form after an attempt; focus goes back where it was."""
        self._busy = False
        self.progress_widget.hide()
        self.save_row.show()
        for widget in self._form_widgets():
            widget.setEnabled(True)
        self.save_row.set_locked(False)
        self.ok_button.setEnabled(True)
        self.remote_group.update_auth_fields()
        self.presets_bar.update_buttons()
        if self._focus_before_busy is not None and self._focus_before_busy.isEnabled():
            self._focus_before_busy.setFocus()
        self._focus_before_busy = None

    @property
    def resolution(self) -> LocalResolution | None:
        """The last lookup of the connection-file field (the connection reuses it)."""
        return self.kernel_group.resolution

    @property
    def busy(self) -> bool:
        """Whether an attempt runs (the form is locked)."""
        return self._busy

    def _form_widgets(self) -> list[QWidget]:
        return [
            self.presets_bar,
            self.cf,
            self.browse_button,
            self.local_kernels,
            self.remote_group,
            self.remote_kernels,
        ]

    # ---- Messages
    def show_failure(self, error: BaseException) -> None:
        """
        Show why an attempt failed and put the cursor in the field to fix.

        Parameters
        ----------
        error: BaseException
            The error of the attempt (a ``KernelConnectError`` for all a user can cause).
        """
        if isinstance(error, KernelConnectError):
            message = error.gui_text()
        else:
            message = _("Unexpected error while connecting: {}: {}").format(
                type(error).__name__, error
            )
        group = self.remote_group
        field = field_for_error(error, group.isChecked(), group.password_radio.isChecked())
        self.show_error(message, field=field)

    def show_error(self, message: str, field: str | None = None) -> None:
        """
        Show ``message`` as an error; with ``field``, focus and select that field.

        Parameters
        ----------
        message: str
            What failed and what to do.
        field: str, optional
            The ``ConnectionSettings`` field the error is about, e.g. "port".
        """
        self.messages.show_error(message)
        self._error_field = field
        if not field:
            return
        widget = self.field_widget(field)
        if field != "connection_file" and not self.remote_group.isChecked():
            self.remote_group.setChecked(True)
        if field in ("remote_python", "remote_runtime_dir"):
            self.show_advanced(True)
        if field.startswith("slurm_"):
            self.slurm.show_fields(True)
        if not self._busy:
            widget.setFocus()
            widget.selectAll()
        else:  # set_idle puts the focus back: make it this field
            self._focus_before_busy = widget

    def show_notice(self, message: str) -> None:
        """Show ``message`` as information that is not an error."""
        self.messages.show_notice(message)

    def clear_messages(self) -> None:
        """Remove the error and the notice."""
        self._error_field = None
        self.messages.clear()

    def _on_field_edited(self, field: str) -> None:
        # An error about this field (or about no field in particular) is stale now.
        if self._error_field in (None, field):
            self.messages.clear_error()
            self._error_field = None

    # ---- Layout
    def _on_remote_toggled(self, remote: bool) -> None:
        # Local kernels are no choice for a remote connection, and the other way round.
        self.kernel_group.set_remote(remote)
        self.local_kernels.setVisible(not remote)
        self.remote_kernels.setVisible(remote)
        self._schedule_fit()

    def _schedule_fit(self) -> None:
        QTimer.singleShot(0, self._fit_height)

    def _fit_height(self) -> None:
        """As tall as the content needs, within the screen: messages never squeeze the form.

        The form gets all the height it asks for unless that would make the dialog taller
        than ``MAX_HEIGHT`` (or the screen); then it scrolls, keeping the buttons in view.
        """
        form = self.form_scroll.widget()
        form.layout().activate()  # a section was just unfolded: its height counts now
        bar = self.form_scroll.verticalScrollBar().sizeHint().width()
        self.form_scroll.setMinimumWidth(form.minimumSizeHint().width() + bar)
        form_height = form.heightForWidth(self.form_scroll.viewport().width())
        # Its size hint, not just its minimum: the scroll area scrolls below the hint.
        form_height = max(form_height, form.sizeHint().height())
        # Plus what the theme puts around the viewport (frame, padding).
        form_height += max(0, self.form_scroll.height() - self.form_scroll.viewport().height())
        self.form_scroll.setMinimumHeight(form_height)
        needed = self._needed_height()
        limit = min(MAX_HEIGHT, self.screen_height() - TITLE_BAR)
        if needed > limit:
            self.form_scroll.setMinimumHeight(max(form_height - (needed - limit), 120))
            needed = self._needed_height()
        self.setMinimumHeight(needed)
        self.resize(self.width(), needed)
        self._keep_on_screen()

    def _keep_on_screen(self) -> None:
        """Grown after being placed: move up so the buttons (and the title bar) stay on it."""
        if not self.isVisible() or self.screen() is None:
            return
        area = self.screen().availableGeometry()
        frame = self.frameGeometry()
        top = min(frame.top(), area.bottom() - frame.height() + 1)
        top = max(top, area.top())
        left = max(area.left(), min(frame.left(), area.right() - frame.width() + 1))
        if (left, top) != (frame.left(), frame.top()):
            self.move(left, top)

    def screen_height(self) -> int:
        """The height of the screen the dialog is on, less panels and docks."""
        screen = self.screen()
        return screen.availableGeometry().height() if screen is not None else MAX_HEIGHT

    def _needed_height(self) -> int:
        layout = self.layout()
        layout.activate()
        height = self.minimumSizeHint().height()
        if layout.hasHeightForWidth():  # wrapped labels: what this width really needs
            height = max(height, layout.totalHeightForWidth(self.width()))
        return height

    # ---- Qt overrides
    def _on_cancel(self) -> None:
        if self._busy:
            self.sig_cancel_requested.emit()
        else:
            self.reject()

    def reject(self) -> None:
        """Escape or Cancel: cancel a running attempt first, else close."""
        if self._busy:
            self.sig_cancel_requested.emit()
            return
        super().reject()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_kernels()
        self._schedule_fit()
