"""The plugin's container: the menu action, the dialog, connection attempts, tunnels."""

from __future__ import annotations

import logging
import threading
from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QMessageBox
from spyder.api.plugins import Plugins
from spyder.api.translations import _
from spyder.api.widgets.main_container import PluginMainContainer

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.presets import ConnectionSettings, PresetStore, SecretStore
from spyder_kernel_connect.spyder.connector import (
    ConnectionCancelled,
    ConnectOutcome,
    EngineBridge,
    RemoteListing,
    TunnelEngineMissing,
    connect_blocking,
    list_remote_blocking,
    stop_started_kernel,
)
from spyder_kernel_connect.spyder.job_consoles import JobConsoles
from spyder_kernel_connect.spyder.login_prompts import LoginPrompter
from spyder_kernel_connect.spyder.umr_hook import ConsoleUMR
from spyder_kernel_connect.spyder.widgets.background import run_in_thread
from spyder_kernel_connect.spyder.widgets.dialog import KernelConnectDialog
from spyder_kernel_connect.spyder.widgets.hostkey import HostKeyDialog

logger = logging.getLogger(__name__)


def _engine_cancelled() -> tuple[type, ...]:
    try:
        from spyder_kernel_connect.ssh import Cancelled
    except ImportError:
        return ()
    return (Cancelled,)


class KernelConnectActions:
    ConnectToKernel = "kernel_connect_connect_to_kernel"


class KernelConnectContainer(PluginMainContainer):
    sig_open_console_requested = Signal(object)
    """A connection succeeded: open a console on ``ConnectOutcome.connection_file``."""

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
        self.umr = ConsoleUMR(self)  # follows Spyder's own UMR options
        self.dialog: KernelConnectDialog | None = None
        self.host_key_dialog: HostKeyDialog | None = None
        self._manager: Any = None
        self._manager_lock = threading.Lock()
        self._attempt_cancel: threading.Event | None = None
        self._attempt: Any = None
        self._pending_save: tuple[ConnectionSettings, str] | None = None
        # console client -> (tunnel, label); a tunnel is closed with its console tab
        self.tunnels: dict[Any, tuple[Any, str]] = {}
        # console client -> ssh.remote.StartedKernel: kernels this plugin started on a host
        self.started_kernels: dict[Any, Any] = {}
        self.shutdown_question: QMessageBox | None = None
        self._stopping: list[Any] = []
        # Consoles on kernels in SLURM jobs (time left, job end, cancel on close).
        self.jobs = JobConsoles(self)
        self.job_pending_poll: float | None = None  # tests shorten the queue polls

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
        dialog.sig_job_requested.connect(self.start_job)
        dialog.sig_jobs_list_requested.connect(self.list_jobs)
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
        self._pending_save = (settings, save_as)
        keyring_missing = settings.remote and save_as and not self.presets.secrets.available
        if self.dialog is not None and keyring_missing:
            self.dialog.show_notice(self._no_keyring_text())
        message = _("Starting a kernel on {}...").format(settings.hostname) if start else None

        def work(cancel: threading.Event) -> ConnectOutcome:
            return connect_blocking(
                settings, cancel, self.bridge.report_progress, self.tunnel_manager, start=start
            )

        self._run_attempt(message or _("Connecting..."), work, self._on_connected)

    def start_remote_kernel(self, settings: ConnectionSettings, save_as: str) -> None:
        self.start_connection(settings, save_as, start=True)

    def start_job(self, settings: ConnectionSettings, save_as: str, job_id: str = "") -> None:
        """Start a kernel in a SLURM job (or attach to a kept one) and connect, off the GUI.

        The dialog's progress line shows the job's queue state; Cancel cancels the job.
        """
        if self._attempt_cancel is not None:
            return
        self._pending_save = (settings, save_as)
        from spyder_kernel_connect.scheduler.connect import connect_job_blocking

        def work(cancel: threading.Event):
            return connect_job_blocking(
                settings,
                cancel,
                self.bridge.report_progress,
                self.tunnel_manager(),
                job_id,
                pending_poll=self.job_pending_poll,
            )

        if job_id:
            message = _("Attaching to job {} on {}...").format(job_id, settings.hostname)
        else:
            message = _("Submitting a kernel job on {}...").format(settings.hostname)
        self._run_attempt(message, work, self._on_connected)

    def list_jobs(self, settings: ConnectionSettings) -> None:
        """This user's kernel jobs on the cluster, for the dialog's job list."""
        if self._attempt_cancel is not None:
            return
        self._pending_save = None
        from spyder_kernel_connect.scheduler.connect import list_jobs_blocking

        def work(cancel: threading.Event):
            return list_jobs_blocking(settings, cancel, self.tunnel_manager())

        def listed(jobs: list) -> None:
            cancelled = self._finish_attempt()
            if self.dialog is not None and not cancelled:
                self.dialog.slurm.show_jobs(jobs)

        self._run_attempt(
            _("Looking for your kernel jobs on {}...").format(settings.hostname), work, listed
        )

    def list_local_kernels(self) -> None:
        """List this computer's kernels off the GUI thread (probing heartbeats takes time)."""
        from spyder_kernel_connect.connection import list_kernels

        def done(entries: list) -> None:
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
        if self._attempt_cancel is not None:
            return
        self._pending_save = None

        def work(cancel: threading.Event) -> RemoteListing:
            return list_remote_blocking(
                settings, cancel, self.bridge.report_progress, self.tunnel_manager
            )

        self._run_attempt(
            _("Looking for kernels on {}...").format(settings.hostname), work, self._on_listed
        )

    def _run_attempt(self, message: str, work, on_done) -> None:
        """Run ``work(cancel)`` on a worker thread with progress, Cancel and host-key prompts."""
        cancel = threading.Event()
        self._attempt_cancel = cancel
        self.bridge.cancel = cancel
        self.login_prompter.cancel = cancel
        if self.dialog is not None:
            self.dialog.set_busy(message)
        self._attempt = run_in_thread(self, lambda: work(cancel), on_done, self._on_failed)

    def _on_listed(self, listing: RemoteListing) -> None:
        cancelled = self._finish_attempt()
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
            self.dialog.progress_label.setText(_("Cancelling..."))

    def _on_progress(self, message: str) -> None:
        if self.dialog is not None and self.dialog.busy:
            self.dialog.progress_label.setText(message)

    def _finish_attempt(self) -> bool:
        """Reset the attempt state; True if the attempt was cancelled meanwhile."""
        cancelled = self._attempt_cancel is not None and self._attempt_cancel.is_set()
        self._attempt_cancel = None
        self.bridge.cancel = None
        self.login_prompter.cancel = None
        self.login_prompter.finished()
        self._attempt = None
        if self.dialog is not None:
            self.dialog.set_idle()
        return cancelled

    def _on_connected(self, outcome: ConnectOutcome) -> None:
        cancelled = self._finish_attempt()
        if cancelled or self.dialog is None:
            if getattr(outcome, "job", None) is not None:
                self.jobs.end_in_thread(outcome, cancel_job=True)
            elif outcome.tunnel is not None and outcome.started is not None:
                self._stop_in_thread(outcome.tunnel, outcome.started)
            elif outcome.tunnel is not None:
                self.close_tunnel(outcome.tunnel)
            if self.dialog is not None:
                self.dialog.show_notice(_("Connection cancelled."))
            return
        settings, save_as = self._pending_save or (None, "")
        self.sig_open_console_requested.emit(outcome)
        if settings is not None:
            self.save_after_success(settings, save_as)
        self.dialog.accept()

    def _on_failed(self, error: BaseException) -> None:
        self._finish_attempt()
        if self.dialog is None:
            return
        if self._pending_save is None:  # it was a listing
            self.dialog.show_remote_list_failed()
        if isinstance(error, (ConnectionCancelled, *_engine_cancelled())):
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
                self._no_keyring_text(),
                QMessageBox.Ok,
                self.parent() or self,
            )
            box.setObjectName("no_keyring_message")
            box.open()
            self.no_keyring_message = box

    def _no_keyring_text(self) -> str:
        return _(
            "The connection settings are saved, but not the password or passphrase: "
            "no system keyring is available ({}). You will be asked for it again. "
            "Install a keyring backend (GNOME Keyring, KWallet, or the keyrings.alt "
            "package) to save it."
        ).format(self.presets.secrets.problem or _("unknown reason"))

    # ---- Host keys
    def ask_host_key(self, question: Any) -> None:
        from spyder_kernel_connect.ssh import HostKeyDecision

        parent = self.dialog or self.parent() or self
        dialog = HostKeyDialog(parent, question.info, HostKeyDecision)
        self.host_key_dialog = dialog

        def answered(_result: int) -> None:
            question.answer(dialog.decision)
            self.host_key_dialog = None
            dialog.deleteLater()

        dialog.finished.connect(answered)
        if self.dialog is not None:
            self.dialog.progress_label.setText(_("Waiting for your decision on the host key..."))
        dialog.open()

    # ---- Tunnels
    def tunnel_manager(self) -> Any:
        """The one TunnelManager (one SSH connection per host), created on first use."""
        with self._manager_lock:
            if self._manager is None:
                try:
                    from spyder_kernel_connect.ssh import TunnelManager
                except ImportError as err:
                    raise TunnelEngineMissing(
                        "SSH tunnels are not available in this installation.",
                        f"Reinstall spyder-kernel-connect ({err}).",
                    ) from None
                self._manager = TunnelManager(
                    host_key_decider=self.bridge.decide_host_key,
                    on_state=self.bridge.on_state,
                    prompt_handler=self.login_prompter,
                )
            return self._manager

    def register_tunnel(self, client: Any, tunnel: Any, label: str, started: Any = None) -> None:
        self.tunnels[client] = (tunnel, label)
        if started is not None:
            self.started_kernels[client] = started

    def on_shellwidget_deleted(self, shellwidget: Any) -> None:
        for client in list(self.tunnels):
            if getattr(client, "shellwidget", None) is shellwidget and self.jobs.owns(client):
                self.tunnels.pop(client)
                self.jobs.ask_close(client)  # cancel the SLURM job, or keep it?
            elif getattr(client, "shellwidget", None) is shellwidget:
                tunnel, label = self.tunnels.pop(client)
                started = self.started_kernels.pop(client, None)
                if started is None:
                    self.close_tunnel(tunnel)
                else:
                    self.ask_shutdown(tunnel, label, started)
        self.umr.detach(shellwidget)

    # ---- Kernels this plugin started on a host
    def ask_shutdown(self, tunnel: Any, label: str, started: Any) -> None:
        """The console of a kernel we started closed: stop it there too? Default: keep it."""
        box = QMessageBox(
            QMessageBox.Question,
            _("Shut down the remote kernel?"),
            _(
                "The console of the kernel started on <b>{}</b> was closed.<br><br>"
                "Shut the kernel down there as well? If you keep it running, you can "
                "connect to it again from the list of kernels on that host."
            ).format(label),
            QMessageBox.Yes | QMessageBox.No,
            self.parent() or self,
        )
        box.setObjectName("shutdown_remote_kernel_question")
        box.button(QMessageBox.Yes).setText(_("Shut down"))
        box.button(QMessageBox.No).setText(_("Keep running"))
        box.setDefaultButton(QMessageBox.No)
        box.setEscapeButton(QMessageBox.No)

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.Yes):
                self._stop_in_thread(tunnel, started)
            else:
                self.close_tunnel(tunnel)
            if self.shutdown_question is box:
                self.shutdown_question = None
            box.deleteLater()

        box.finished.connect(answered)
        self.shutdown_question = box
        box.open()

    def _stop_in_thread(self, tunnel: Any, started: Any) -> None:
        """stop_remote_kernel over the tunnel's session, then close the tunnel: off the GUI."""

        def done(_result: Any) -> None:
            self._stopping.remove(started)

        def failed(error: BaseException) -> None:
            self._stopping.remove(started)
            logger.warning("Stopping the remote kernel failed: %s", error)
            box = QMessageBox(
                QMessageBox.Warning,
                _("Remote kernel not stopped"),
                _("The kernel (process {}) could not be stopped: {}").format(started.pid, error),
                QMessageBox.Ok,
                self.parent() or self,
            )
            box.setObjectName("stop_remote_kernel_failed")
            box.open()
            self.stop_failed_message = box

        self._stopping.append(started)
        run_in_thread(self, lambda: stop_started_kernel(tunnel, started), done, failed)

    @property
    def stopping(self) -> list[Any]:
        """Remote kernels being stopped right now (their StartedKernel)."""
        return list(self._stopping)

    def close_tunnel(self, tunnel: Any) -> None:
        # Closing waits for the forwarding threads: keep it off the GUI thread.
        threading.Thread(target=tunnel.close, name="kernel-connect-close", daemon=True).start()

    def on_tunnel_state(self, event: Any) -> None:
        """Show in each console tab whether its tunnel is up or reconnecting."""
        from spyder_kernel_connect.spyder.tabs import tab_suffix, tunnel_matches

        suffix = tab_suffix(event)
        for client, (tunnel, label) in list(self.tunnels.items()):
            if tunnel_matches(tunnel, event):
                self.sig_tab_label_changed.emit(client, label, suffix)

    sig_tab_label_changed = Signal(object, str, str)
    """(console client, its label, state suffix such as " (reconnecting...)" or "")."""

    def close_all_tunnels(self) -> None:
        if self._attempt_cancel is not None:
            self._attempt_cancel.set()
            self.bridge.cancel_pending()
        self.tunnels.clear()
        self.started_kernels.clear()  # quitting Spyder keeps them running (the default)
        self.jobs.clear()  # kernel jobs too: they stay re-attachable until their limit
        if self._manager is not None:
            try:
                self._manager.close_all()
            except Exception:
                logger.exception("Closing the SSH tunnels failed")
