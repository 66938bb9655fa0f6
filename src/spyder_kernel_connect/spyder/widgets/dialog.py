"""The "Connect to an existing kernel" dialog: a form, no engine calls of its own.

It composes the presets bar, the ``ConnectionForm`` (connection file and kernel lists beside
the SSH and SLURM settings), the message area with its ``FieldErrors`` and the footer. It
asks the container for all that takes time (the ``sig_*_requested`` signals); the container
answers through the public methods (``show_local_kernels``, ``set_busy``, ``show_failure``...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QDialog, QLineEdit, QVBoxLayout, QWidget
from spyder.api.translations import _

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.settings import ConnectionSettings, PresetStore
from spyder_kernel_connect.spyder.texts import no_keyring_text
from spyder_kernel_connect.spyder.widgets.connection_form import ConnectionForm
from spyder_kernel_connect.spyder.widgets.field_errors import FieldErrors
from spyder_kernel_connect.spyder.widgets.footer import DialogFooter
from spyder_kernel_connect.spyder.widgets.messages import MessageArea
from spyder_kernel_connect.spyder.widgets.presets_bar import PresetsBar
from spyder_kernel_connect.spyder.widgets.remote_form import RemoteForm
from spyder_kernel_connect.spyder.widgets.screen_fit import ScreenFitMixin


class KernelConnectDialog(ScreenFitMixin, QDialog):
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
        self.setWindowTitle(_("Connect to an existing kernel"))
        self.setObjectName("kernel_connect_dialog")

        self.presets_bar = PresetsBar(self, presets)
        self.form = ConnectionForm(self)
        self.kernel_group = self.form.kernel_group
        self.cf = self.form.cf
        self.remote_group = self.form.remote_group
        self.slurm = self.form.slurm
        self.local_kernels = self.form.local_kernels
        self.remote_kernels = self.form.remote_kernels
        self.start_button = self.remote_kernels.start_button
        self.slurm_button = self.slurm.start_button
        self.messages = MessageArea()
        self.errors = FieldErrors(self.messages, self.form.reveal)
        self.error_label = self.messages.error_label
        self.notice_label = self.messages.notice_label
        self.footer = DialogFooter()
        self.save_row = self.footer.save_row
        self.save_check = self.save_row.check
        self.save_name = self.save_row.name_edit
        self.progress_label = self.footer.progress.label
        self.ok_button = self.footer.ok_button
        self.cancel_button = self.footer.cancel_button

        layout = QVBoxLayout(self)
        layout.addWidget(self.presets_bar)
        layout.addWidget(self.form, 1)
        layout.addWidget(self.messages)
        layout.addWidget(self.footer)
        self._connect_signals()

        self.presets_bar.reload(select=presets.last)
        if presets.last:
            self.load_preset(presets.last)
        self.kernel_group.update_resolution()
        self.cf.setFocus()

    def _connect_signals(self) -> None:
        self.footer.buttons.accepted.connect(self.request_connect)
        self.footer.buttons.rejected.connect(self.reject)
        self.form.sig_field_edited.connect(self.errors.on_field_edited)
        self.form.sig_layout_changed.connect(self._schedule_fit)
        self.presets_bar.sig_preset_loaded.connect(self._on_preset_loaded)
        self.presets_bar.sig_preset_renamed.connect(self.save_row.on_renamed)
        self.presets_bar.sig_preset_deleted.connect(self.save_row.on_deleted)
        self.presets_bar.sig_error.connect(self.show_error)
        self.local_kernels.sig_refresh_requested.connect(self.refresh_kernels)
        self.local_kernels.sig_kernel_picked.connect(self.messages.clear_error)
        self.remote_kernels.sig_refresh_requested.connect(self.request_remote_list)
        self.remote_kernels.sig_kernel_picked.connect(self._on_remote_kernel_picked)
        self.remote_kernels.sig_start_requested.connect(self.request_start)
        self.slurm_button.clicked.connect(lambda: self.request_job())
        self.slurm.sig_job_picked.connect(self.request_job)
        self.slurm.sig_jobs_list_requested.connect(self.request_jobs_list)
        self.messages.sig_height_changed.connect(self._schedule_fit)

    # ---- Form values
    def settings(self) -> ConnectionSettings:
        """The settings the form shows now (not validated)."""
        return self.form.settings()

    def set_settings(self, settings: ConnectionSettings) -> None:
        """
        Show ``settings`` in the form.

        Parameters
        ----------
        settings: ConnectionSettings
            The settings to show; ``ConnectionSettings()`` empties the form.
        """
        self.form.set_settings(settings)

    def field_widget(self, field: str) -> QLineEdit:
        """
        The line edit of a ``ConnectionSettings`` field (the connection file by default).

        Parameters
        ----------
        field: str
            Field name, e.g. "hostname".
        """
        return self.form.field_widget(field)

    def show_advanced(self, show: bool = True) -> None:
        """Unfold (or fold) the remote Python and runtime directory fields."""
        self.remote_group.show_advanced(show)

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

    # ---- Kernels on the SSH host (listed by the container, on a worker thread)
    def reset_remote_kernels(self) -> None:
        """Another host: what was listed before no longer applies."""
        self.form.reset_remote_kernels()

    def request_remote_list(self) -> None:
        """Ask for the kernels on the SSH host, if the form is enough to log in."""
        settings = self._valid_settings(start=True)
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
        request = self._request(start=True)
        if request is not None:
            self.sig_start_requested.emit(*request)

    def request_job(self, job_id: str = "") -> None:
        """Ask to start a kernel in a SLURM job (or attach to the kept job ``job_id``)."""
        request = self._request(start=True)
        if request is not None:
            self.sig_job_requested.emit(*request, job_id)

    def _request(self, start: bool = False) -> tuple[ConnectionSettings, str] | None:
        """The valid settings and the name to save them under (see ``_valid_settings``)."""
        settings = self._valid_settings(start)
        if settings is None:
            return None
        save_as = self._save_as()
        return None if save_as is None else (settings, save_as)

    def request_jobs_list(self) -> None:
        """Ask for this user's kernel jobs on the cluster."""
        settings = self._valid_settings(start=True)
        if settings is None:
            return
        self.slurm.show_jobs_looking()
        self.sig_jobs_list_requested.emit(settings)

    def _valid_settings(self, start: bool = False) -> ConnectionSettings | None:
        """The form's settings if valid (see ``ConnectionForm.problem``), else say why."""
        if self._busy:
            return None
        self.clear_messages()
        problem = self.form.problem(start)
        if problem is not None:
            self.show_error(*problem)
            return None
        return self.settings()

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
        self.presets_bar.load(name)

    def _on_preset_loaded(self, name: str, settings: ConnectionSettings) -> None:
        self.set_settings(settings)
        self.save_row.set_name(name)
        self.clear_messages()
        if not name:  # "(new connection)": nothing of the previous preset stays
            self.reset_remote_kernels()
        problem = self.presets.secrets.problem
        if problem and settings.remote:
            self.show_notice(no_keyring_text((settings.secret_field,), problem))

    # ---- Connecting
    def request_connect(self) -> None:
        """Check the form; if it is valid, ask the container to connect."""
        request = self._request()
        if request is not None:
            self.sig_connect_requested.emit(*request)

    def set_busy(self, message: str) -> None:
        """
        Lock the form while an attempt runs and show its progress.

        Parameters
        ----------
        message: str
            The first step, e.g. "Connecting...".
        """
        self.errors.lock(self.focusWidget())
        self._busy = True
        self.footer.set_busy(message)
        self.presets_bar.setEnabled(False)
        self.form.set_locked(True)

    def set_progress(self, message: str) -> None:
        """Show the current step of the running attempt."""
        self.footer.progress.show_step(message)

    def set_idle(self) -> None:
        """Unlock the form after an attempt; focus goes back where it was."""
        self._busy = False
        self.footer.set_idle()
        self.presets_bar.setEnabled(True)
        self.presets_bar.update_buttons()
        self.form.set_locked(False)
        self.errors.unlock()

    @property
    def busy(self) -> bool:
        """Whether an attempt runs (the form is locked)."""
        return self._busy

    # ---- Messages
    def show_failure(self, error: BaseException) -> None:
        """
        Show why an attempt failed and put the cursor in the field to fix.

        Parameters
        ----------
        error: BaseException
            The error of the attempt (a ``KernelConnectError`` for all a user can cause).
        """
        group = self.remote_group
        self.errors.show_failure(error, group.isChecked(), group.password_radio.isChecked())

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
        self.errors.show_error(message, field)

    def show_notice(self, message: str) -> None:
        """Show ``message`` (e.g. "Cancelled.") as information that is not an error."""
        self.messages.show_notice(message)

    def clear_messages(self) -> None:
        """Remove the error and the notice."""
        self.errors.clear()

    # ---- Layout
    def scrolled_form(self) -> RemoteForm:
        """The SSH and SLURM form: it scrolls rather than make the dialog too tall."""
        return self.form.remote_form

    # ---- Qt overrides
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
