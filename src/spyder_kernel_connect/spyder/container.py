"""The plugin's container: the menu action, the dialog, connection attempts, tunnels.

It owns the connect service (Qt-free, run on worker threads) and every connection it made,
keyed by the console's local connection file: the plugin opens consoles and reports closed
ones, it never calls back into the container to finish the container's work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QMessageBox
from spyder.api.plugins import Plugins
from spyder.api.translations import _
from spyder.api.widgets.main_container import PluginMainContainer

from spyder_kernel_connect.connection import KernelEntry, list_kernels
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.service import (
    Connection,
    ConnectionCancelled,
    ConnectService,
    HostListing,
    Progress,
)
from spyder_kernel_connect.settings import ConnectionSettings, PresetStore, SecretStore
from spyder_kernel_connect.spyder.connector import EngineBridge, HostKeyQuestion
from spyder_kernel_connect.spyder.job_attempts import JobAttempts
from spyder_kernel_connect.spyder.login_prompts import LoginPrompter
from spyder_kernel_connect.spyder.started_kernels import StartedKernels, close_tunnel
from spyder_kernel_connect.spyder.tabs import tab_label, tab_suffix, tunnel_matches
from spyder_kernel_connect.spyder.texts import no_keyring_text, progress_text
from spyder_kernel_connect.spyder.umr_hook import ConsoleUMR
from spyder_kernel_connect.spyder.widgets.background import run_in_thread
from spyder_kernel_connect.spyder.widgets.dialog import KernelConnectDialog
from spyder_kernel_connect.spyder.widgets.hostkey import HostKeyDialog
from spyder_kernel_connect.ssh import Cancelled, HostKeyDecision, StateEvent

if TYPE_CHECKING:
    from spyder.plugins.ipythonconsole.widgets.shell import ShellWidget

logger = logging.getLogger(__name__)


class KernelConnectActions:
    ConnectToKernel = "kernel_connect_connect_to_kernel"
    ProjectFolderSync = "kernel_connect_project_folder_sync"


class KernelConnectContainer(PluginMainContainer):
    sig_open_console_requested = Signal(object)
    """
    A connection succeeded: open a console on it.

    Parameters
    ----------
    connection: service.Connection
        Its ``connection_file`` is the LOCAL file (a tunnel's, for a remote kernel) and its
        ``label`` the tab name ("" for a local kernel).
    """

    sig_tab_label_changed = Signal(str, str, str)
    """
    The tab of the console on a connection file must now read ``label`` + ``suffix``.

    Parameters
    ----------
    connection_file: str
        The console's local connection file.
    label: str
        Host and kernel, e.g. "me@lab 7b2e41c9".
    suffix: str
        The tunnel's state, e.g. " (reconnecting...)", or "" when it is up.
    """

    # ---- PluginMainContainer API
    def setup(self) -> None:
        self.connect_action = self.create_action(
            KernelConnectActions.ConnectToKernel,
            text=_("Connect to an existing kernel..."),
            tip=_("Open a console on a kernel already running here or on a remote host (SSH)"),
            icon=self.create_icon("remote_server"),
            triggered=self.show_dialog,
        )
        self.presets = PresetStore(self._read_presets, self._write_presets, SecretStore())
        self.bridge = EngineBridge(self)
        self.bridge.sig_host_key_question.connect(self.ask_host_key)
        self.bridge.sig_progress.connect(self._on_progress)
        self.bridge.sig_state_event.connect(self.on_tunnel_state)
        # Login questions (2FA) of any host or jump host: over the connect dialog while
        # it is open, else over the main window (a console reconnecting).
        self.login_prompter = LoginPrompter(lambda: self.dialog or self.parent())
        self.service = ConnectService(
            self.bridge.decide_host_key, self.bridge.on_state, prompt_handler=self.login_prompter
        )
        self.umr = ConsoleUMR(self)  # follows Spyder's own UMR options
        self.dialog: KernelConnectDialog | None = None
        self.host_key_dialog: HostKeyDialog | None = None
        self._attempt_cancel: threading.Event | None = None
        self._attempt: object = None
        self._pending_save: tuple[ConnectionSettings, str] | None = None
        # local connection file -> the tunnelled Connection behind that console; a tunnel
        # closes with its console tab (and a kernel we started may be shut down then).
        self.connections: dict[str, Connection] = {}
        self.started = StartedKernels(self.service, self.parent() or self, self)
        self.job_attempts = JobAttempts(self)  # the dialog's SLURM requests

    def update_actions(self) -> None:
        pass

    # ---- Settings
    def _read_presets(self) -> dict:
        return self.get_conf("presets", {})

    def _write_presets(self, data: dict) -> None:
        self.set_conf("presets", data)

    # ---- Dialog
    def show_dialog(self) -> KernelConnectDialog:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        dialog = KernelConnectDialog(self.parent() or self, self.presets)
        last = self.get_conf("last_settings", {})
        if last and not self.presets.last:
            dialog.set_settings(ConnectionSettings.from_dict(last))
        dialog.sig_connect_requested.connect(self.start_connection)
        dialog.sig_start_requested.connect(self.start_remote_kernel)
        dialog.sig_remote_list_requested.connect(self.list_remote_kernels)
        dialog.sig_local_list_requested.connect(self.list_local_kernels)
        dialog.sig_cancel_requested.connect(self.cancel_connection)
        dialog.sig_job_requested.connect(self.job_attempts.start_job)
        dialog.sig_jobs_list_requested.connect(self.job_attempts.list_jobs)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_dialog_finished(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    # ---- Connecting
    def start_connection(
        self, settings: ConnectionSettings, save_as: str, start: bool = False
    ) -> None:
        """Connect (or, with ``start``, start a kernel on the SSH host and connect) off the GUI."""
        if self._attempt_cancel is not None:
            return  # one attempt at a time
        keyring_missing = settings.remote and save_as and not self.presets.secrets.available
        if self.dialog is not None and keyring_missing:
            problem = self.presets.secrets.problem
            self.dialog.show_notice(no_keyring_text((settings.secret_field,), problem))
        message = _("Starting a kernel on {}...").format(settings.hostname) if start else None
        # The dialog's live preview already looked the text up and read the file: reuse it.
        resolution = getattr(self.dialog, "resolution", None)
        request = settings.request(start=start, resolution=resolution)

        def work(cancel: threading.Event) -> Connection:
            return self.service.connect(request, cancel, self.bridge.report_progress)

        self.run_attempt(message or _("Connecting..."), work, save=(settings, save_as))

    def start_remote_kernel(self, settings: ConnectionSettings, save_as: str) -> None:
        self.start_connection(settings, save_as, start=True)

    def list_local_kernels(self) -> None:
        """List this computer's kernels off the GUI thread (probing heartbeats takes time)."""

        def done(entries: list[KernelEntry]) -> None:
            if self.dialog is not None:
                self.dialog.show_local_kernels(entries, self.console_files())

        def failed(error: BaseException) -> None:
            if self.dialog is not None:
                self.dialog.show_local_list_failed(error)

        self._local_listing = run_in_thread(self, list_kernels, done, failed)

    def console_files(self) -> dict[str, str]:
        """Connection file -> console name, for Spyder's consoles (ours included).

        Spyder also keeps one kernel ready for its next console; it is named "" here.
        """
        console = self._plugin.get_plugin(Plugins.IPythonConsole, error=False)
        if console is None:
            return {}
        files = {
            client.connection_file: client.get_name()
            for client in console.get_clients()
            if getattr(client, "connection_file", None)
        }
        # CachedKernelMixin keeps (spec, env, argv, kernel handler); no public accessor.
        cached = getattr(console.get_widget(), "_cached_kernel_properties", None)
        if cached and getattr(cached[-1], "connection_file", None):
            files.setdefault(cached[-1].connection_file, "")
        return files

    def list_remote_kernels(self, settings: ConnectionSettings) -> None:
        """List the host's kernels through the session the tunnel will use (one login)."""
        target, host = settings.ssh_target(), settings.host()

        def work(cancel: threading.Event) -> HostListing:
            return self.service.list_host(target, host, cancel, self.bridge.report_progress)

        self.run_attempt(
            _("Looking for kernels on {}...").format(settings.hostname), work, self._on_listed
        )

    def run_attempt(
        self,
        message: str,
        work: Callable[[threading.Event], Any],
        on_done: Callable[[Any], None] | None = None,
        save: tuple[ConnectionSettings, str] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``work(cancel)`` on a worker thread with progress, Cancel and host-key
        prompts, one attempt at a time (a request meanwhile is ignored).

        ``on_done(result)`` runs on the GUI thread (it calls ``finish_attempt``); by default
        the result is a Connection to open a console on. ``save``: the form and preset name
        to remember once it connects (None: a listing). ``on_failed(error)`` (it calls
        ``finish_attempt``) defaults to a connection's or the host's kernel listing's.
        """
        if self._attempt_cancel is not None:
            return
        self._pending_save = save
        cancel = threading.Event()
        self._attempt_cancel = cancel
        self.bridge.cancel = cancel
        self.login_prompter.cancel = cancel
        if self.dialog is not None:
            self.dialog.set_busy(message)
        on_done = on_done or self._on_connected
        on_failed = on_failed or self._on_failed
        self._attempt = run_in_thread(self, lambda: work(cancel), on_done, on_failed)

    def _on_listed(self, listing: HostListing) -> None:
        cancelled = self.finish_attempt()
        if self.dialog is None:
            return
        if cancelled:
            self.dialog.reset_remote_kernels()
            self.dialog.show_notice(_("Cancelled."))
            return
        self.dialog.show_remote_kernels(listing)

    def cancel_connection(self) -> None:
        if self._attempt_cancel is None:
            return
        self._attempt_cancel.set()
        self.bridge.cancel_pending()
        if self.host_key_dialog is not None:
            self.host_key_dialog.reject()
        if self.dialog is not None:
            self.dialog.set_progress(_("Cancelling..."))

    def _on_progress(self, progress: Progress) -> None:
        if self.dialog is not None and self.dialog.busy:
            self.dialog.set_progress(progress_text(progress))

    def finish_attempt(self) -> bool:
        """The attempt ended (its ``on_done`` or failure): reset the attempt state and the
        dialog; True if the attempt was cancelled meanwhile."""
        cancelled = self._attempt_cancel is not None and self._attempt_cancel.is_set()
        self._attempt_cancel = None
        self.bridge.cancel = None
        self.login_prompter.cancel = None
        self.login_prompter.finished()
        self._attempt = None
        if self.dialog is not None:
            self.dialog.set_idle()
        return cancelled

    def _on_connected(self, connection: Connection) -> None:
        cancelled = self.finish_attempt()
        if cancelled or self.dialog is None:
            self.started.discard(connection)  # stop a started kernel, cancel a new job
            if self.dialog is not None:
                self.dialog.show_notice(_("Connection cancelled."))
            return
        settings, save_as = self._pending_save or (None, "")
        if connection.tunnel is not None:
            connection.preset = save_as
            if settings is not None and settings.sync_local_dir.strip():
                connection.sync_folders = (
                    settings.sync_local_dir.strip(),
                    settings.sync_remote_dir.strip(),
                )
            self.connections[connection.connection_file] = connection
        self.sig_open_console_requested.emit(connection)
        if settings is not None:
            self.save_after_success(settings, save_as)
        self.dialog.accept()

    def _on_failed(self, error: BaseException) -> None:
        self.finish_attempt()
        if self.dialog is None:
            return
        if self._pending_save is None:  # it was a listing
            self.dialog.show_remote_list_failed()
        self.show_attempt_failure(error)

    def show_attempt_failure(self, error: BaseException) -> None:
        """Say in the dialog's message area why an attempt failed, or that it was cancelled."""
        if self.dialog is None:
            return
        if isinstance(error, (ConnectionCancelled, Cancelled)):
            self.dialog.show_notice(_("Connection cancelled."))
            return
        if not isinstance(error, KernelConnectError):
            logger.error("Unexpected error while connecting", exc_info=error)
        self.dialog.show_failure(error)

    def save_after_success(self, settings: ConnectionSettings, save_as: str) -> None:
        """Only a connection that worked is remembered; secrets only in the keyring."""
        self.set_conf("last_settings", settings.public_dict())
        if not save_as:
            return
        outcome = self.presets.save(save_as, settings)
        if not outcome.secrets_saved:
            box = QMessageBox(
                QMessageBox.Warning,
                _("Password not saved"),
                no_keyring_text(outcome.unsaved, outcome.problem),
                QMessageBox.Ok,
                self.parent() or self,
            )
            box.setObjectName("no_keyring_message")
            box.open()
            self.no_keyring_message = box

    # ---- Host keys
    def ask_host_key(self, question: HostKeyQuestion) -> None:
        parent = self.dialog or self.parent() or self
        dialog = HostKeyDialog(parent, question.info, HostKeyDecision)
        self.host_key_dialog = dialog

        def answered(_result: int) -> None:
            question.answer(dialog.decision)
            self.host_key_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(answered)
        if self.dialog is not None:
            self.dialog.set_progress(_("Waiting for your decision on the host key..."))
        dialog.open()

    # ---- Tunnels
    def connection_for(self, connection_file: str | None) -> Connection | None:
        """The tunnelled connection behind the console on ``connection_file``, if any."""
        return self.connections.get(connection_file or "")

    def on_shellwidget_deleted(self, shellwidget: ShellWidget) -> None:
        """A console closed: close its tunnel, or ask whether to stop a kernel we started
        (a SLURM job's console is the plugin's job consoles' to close)."""
        handler = getattr(shellwidget, "kernel_handler", None)
        connection = self.connections.pop(getattr(handler, "connection_file", None) or "", None)
        if connection is not None and connection.job is None:
            if connection.started is None:
                close_tunnel(connection)
            else:
                self.started.ask_shutdown(connection)
        self.umr.detach(shellwidget)

    # ---- Kernels this plugin started on a host (asked and stopped by self.started)
    @property
    def shutdown_question(self) -> QMessageBox | None:
        """The open "Shut down the remote kernel?" question, if any."""
        return self.started.shutdown_question

    @property
    def stopping(self) -> list[Connection]:
        """Connections whose started kernel is being stopped right now."""
        return self.started.stopping

    def on_tunnel_state(self, event: StateEvent) -> None:
        """Show in each console tab whether its tunnel is up or reconnecting."""
        suffix = tab_suffix(event)
        for path, connection in list(self.connections.items()):
            if connection.tunnel is not None and tunnel_matches(connection.tunnel, event):
                self.show_console_state(path, suffix)

    def show_console_state(self, connection_file: str, suffix: str) -> None:
        """The tab of the console on ``connection_file`` reads its label + ``suffix`` (the
        plugin names a SLURM job's console by its job)."""
        connection = self.connections.get(connection_file)
        if connection is not None:
            self.sig_tab_label_changed.emit(connection_file, tab_label(connection), suffix)

    def close_all_tunnels(self) -> None:
        if self._attempt_cancel is not None:
            self._attempt_cancel.set()
            self.bridge.cancel_pending()
        self.connections.clear()  # quitting Spyder keeps started kernels running (the default)
        try:
            self.service.close()
        except Exception:
            logger.exception("Closing the SSH tunnels failed")
