"""Edit here, run there: a remote console bound to a local project folder.

``ConsoleProjectSync`` joins one console to a ``ProjectSync`` (Qt-free engine, over the
console's own SSH session):

- saves are pushed as they happen (``LiveSync.watch`` on a background thread);
- a run never starts before what was saved is on the host: the console's execute requests
  are held at its shell channel until ``LiveSync`` has pushed everything saved before them
  (a quick scan catches a save the watcher has not seen yet);
- paths are mapped (``ConsolePaths``, console_paths.py): ``%runfile``/``%debugfile``/
  ``%runcell``/``%debugcell`` and ``--wdir`` name the host's copy; the kernel's requests for
  a file's code or a cell, its debugger steps and the tracebacks a user clicks name the
  local file; breakpoints set in the local editor are sent for the host's files;
- errors are shown with local paths: the kernel's error messages (tracebacks) and its
  stderr are rewritten as they arrive, before the console prints them, so what a user reads
  and clicks names the file in the editor. Standard output is left alone: it is the
  program's data (``print(__file__)`` says where the code really runs);
- a file changed on the host since the last push is asked about (``ConflictQuestions``,
  sync_conflicts.py).

The consoles' syncs and the tab menu's mapping editor are ``ProjectSyncs`` (project_syncs.py).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, Signal, Slot
from qtpy.QtWidgets import QProgressDialog, QWidget
from spyder.api.translations import _
from spyder.config.manager import CONF

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.spyder.console_paths import ConsolePaths
from spyder_kernel_connect.spyder.sync_conflicts import ConflictQuestions
from spyder_kernel_connect.sync import LiveSync, ProjectSync, SyncEvent

log = logging.getLogger(__name__)

PATH_HANDLERS = ("get_file_code", "run_cell")  # kernel -> editor calls naming a file


class ConsoleProjectSync(QObject):
    """One console's project mapping: ``start`` it once the console is up, ``stop`` it when
    the console closes. Conflicts are asked in a dialog; what fails is said in the console."""

    sig_message = Signal(str)  # a line for the console: push failures, conflicts left
    _sig_release = Signal()
    _sig_progress = Signal(int, int)
    _sig_pushed = Signal(object)

    def __init__(
        self,
        shellwidget,
        project: ProjectSync,
        go_to_error: Callable[[str], None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``go_to_error``: the IPython console's slot for a clicked traceback line."""
        super().__init__(parent)
        self.shellwidget = shellwidget
        self.go_to_error = go_to_error
        self.project = project
        self.paths = ConsolePaths(project)
        self.conflicts = ConflictQuestions(project, parent=self)
        if project.on_conflict is None:
            project.on_conflict = self.conflicts.ask
        self.live = LiveSync(project, on_event=self._on_event)
        self.ready = False  # the initial push is over: runs may go
        self._held: list[dict] = []
        self._send: Callable | None = None
        self._cancel = threading.Event()
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None
        self._restore: list[Callable[[], None]] = []
        self._progress: QProgressDialog | None = None
        self._sig_release.connect(self._release, Qt.QueuedConnection)
        self._sig_progress.connect(self._show_progress, Qt.QueuedConnection)
        self._sig_pushed.connect(self._initial_push_done, Qt.QueuedConnection)
        # Closing: questions still open are left unanswered (nothing is overwritten) and
        # no worker waits on the GUI thread, nor the GUI on a worker.
        self._closing = threading.Event()
        self.sig_message.connect(self._print, Qt.QueuedConnection)

    def start(self, dialog_parent: QWidget | None = None) -> None:
        """Hook into the console, then push what differs (progress bar with Cancel); runs
        typed meanwhile wait for the push."""
        self._attach()
        self._progress = QProgressDialog(
            _("Copying {folder} to {host}…").format(
                folder=self.project.local_dir, host=self.project.session.label
            ),
            _("Cancel"),
            0,
            1000,
            dialog_parent,
        )
        self._progress.setWindowTitle(_("Sync project"))
        self._progress.setMinimumDuration(400)
        self._progress.canceled.connect(self._cancel.set)
        threading.Thread(target=self._initial_push, name="skc-sync-initial", daemon=True).start()

    def stop(self) -> None:
        """Unhook from the console and stop pushing, at once: what is queued is not waited
        for, an open conflict question is closed unanswered (the host's copy stays; it is
        asked again next time), and the workers end on their own without reporting."""
        self._closing.set()
        self._cancel.set()
        self._stop_watch.set()
        self.live.on_event = None
        self.conflicts.close()  # the worker goes on with "keep the host's copy"
        for restore in reversed(self._restore):
            with contextlib.suppress(Exception):
                restore()
        self._restore.clear()
        self.live.close(wait=False)
        if self._progress is not None:
            self._progress.close()

    def _initial_push(self) -> None:  # worker thread
        try:
            outcome = self.project.push_all(
                cancel=self._cancel,
                progress=lambda done, total: self._emit(self._sig_progress, done, total),
            )
        except KernelConnectError as err:
            outcome = err
        except Exception as err:  # never an unhandled exception in a thread of ours
            log.debug("initial push failed", exc_info=True)
            outcome = KernelConnectError(f"Sync failed: {err}.")
        self._emit(self._sig_pushed, outcome)

    def _emit(self, signal, *args) -> None:  # worker thread
        """Report to the GUI thread, unless the console is gone (its objects may be)."""
        if not self._closing.is_set():
            with contextlib.suppress(RuntimeError):
                signal.emit(*args)

    @Slot(int, int)
    def _show_progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.setValue(int(999 * done / max(total, 1)))

    @Slot(object)
    def _initial_push_done(self, outcome) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        if isinstance(outcome, KernelConnectError):
            self._print(_("Project not synced: {error}").format(error=outcome))
        else:
            self._print(
                _("Project {local} synced to {host}:{remote}: {summary}.").format(
                    local=self.project.local_dir,
                    host=self.project.session.label,
                    remote=self.project.remote_dir,
                    summary=outcome.summary(),
                )
            )
        self.ready = True
        if not isinstance(outcome, KernelConnectError):
            # The console works in the project's copy: `import mymodule` finds the synced
            # module, relative paths name the host's files.
            remote = self.project.remote_dir
            self.shellwidget.execute(
                f"import os as _o, sys as _s; _o.chdir({remote!r}); "
                f"{remote!r} in _s.path or _s.path.insert(0, {remote!r}); del _o, _s",
                hidden=True,
            )
        if self._cancel.is_set() and not self._stop_watch.is_set():
            self._cancel.clear()  # cancelled the first push only: saves are still pushed
        self._watcher = threading.Thread(
            target=self.live.watch, args=(self._stop_watch, 0.5), name="skc-sync-watch", daemon=True
        )
        self._watcher.start()
        if self._held:
            held, self._held = self._held, []
            for msg in held:
                self._gate(msg)

    # -- hooks into the console ---------------------------------------------------------

    def _attach(self) -> None:
        shell = self.shellwidget
        channel = shell.kernel_client.shell_channel
        self._send = channel.send
        channel.send = self._gate
        self._restore.append(lambda: setattr(channel, "send", self._send))
        comm = shell.kernel_handler.kernel_comm
        for handler_id in PATH_HANDLERS:
            original = shell.kernel_comm_handlers.get(handler_id)
            if original is None:
                continue
            wrapped = self._local_path_first(original)
            shell.kernel_comm_handlers[handler_id] = wrapped
            comm.register_call_handler(handler_id, wrapped)
            self._restore.append(self._unwrap(handler_id, original))
        # qtconsole looks handlers up by name per message (``_handle_<msg_type>``).
        for name, translate in (
            ("_handle_error", self.paths.local_error),
            ("_handle_stream", self.paths.local_stream),
        ):
            handler = getattr(shell, name)
            setattr(shell, name, lambda msg, h=handler, t=translate: h(t(msg)))
            self._restore.append(lambda n=name, h=handler: setattr(shell, n, h))
        refresh = shell.refresh_from_pdb
        shell.refresh_from_pdb = lambda state: refresh(self.paths.local_pdb_state(state))
        self._restore.append(lambda: setattr(shell, "refresh_from_pdb", refresh))
        configure = shell.set_kernel_configuration
        shell.set_kernel_configuration = lambda key, value: configure(
            key, self.paths.remote_breakpoints(value) if key == "pdb" else value
        )
        self._restore.append(lambda: setattr(shell, "set_kernel_configuration", configure))
        shell.set_kernel_configuration(
            "pdb", {"breakpoints": CONF.get("debugger", "breakpoints", {})}
        )
        if self.go_to_error is not None:
            signal = shell._control.sig_go_to_error_requested
            with contextlib.suppress(TypeError, RuntimeError):
                signal.disconnect(self.go_to_error)
            signal.connect(self._go_to_local_error)
            self._restore.append(lambda: signal.disconnect(self._go_to_local_error))
            self._restore.append(lambda: signal.connect(self.go_to_error))

    @Slot(str)
    def _go_to_local_error(self, text: str) -> None:
        self.go_to_error(self.paths.translate_goto(text))

    # -- the gate ------------------------------------------------------------------------

    def _gate(self, msg: dict) -> None:
        if not self.ready:
            self._held.append(msg)  # the initial push is still running
            return
        if msg.get("header", {}).get("msg_type") == "execute_request":
            content = msg.get("content", {})
            content["code"] = self.paths.remote_code(content.get("code", ""))
            ticket = self.live.check_now()
            if self._held or ticket is not None or not self.live.idle:
                self._hold(msg)
                return
        if self._held:
            self._held.append(msg)  # keep the order of everything behind a held run
            return
        self._send(msg)

    def _hold(self, msg: dict) -> None:
        first = not self._held
        self._held.append(msg)
        if first:

            def wait() -> None:
                self.live.flush(timeout=600)
                self._emit(self._sig_release)

            threading.Thread(target=wait, name="skc-sync-flush", daemon=True).start()

    @Slot()
    def _release(self) -> None:
        held, self._held = self._held, []
        for msg in held:
            self._send(msg)

    # -- the kernel's calls to the editor, with local paths ------------------------------

    def _local_path_first(self, handler: Callable) -> Callable:
        def wrapped(filename, *args, **kwargs):
            return handler(self.paths.local(filename), *args, **kwargs)

        return wrapped

    def _unwrap(self, handler_id: str, original: Callable) -> Callable[[], None]:
        def restore() -> None:
            self.shellwidget.kernel_comm_handlers[handler_id] = original
            self.shellwidget.kernel_handler.kernel_comm.register_call_handler(handler_id, original)

        return restore

    # -- reports -------------------------------------------------------------------------

    def _on_event(self, event: SyncEvent) -> None:  # worker thread
        if event.error is not None:
            self._emit(
                self.sig_message,
                _("Save not copied to the host: {error}").format(error=event.error),
            )
        elif event.report is not None and event.report.conflicts_kept:
            names = ", ".join(event.report.conflicts_kept)
            self._emit(
                self.sig_message,
                _("Not copied, changed on the host since the last push: {names}").format(
                    names=names
                ),
            )

    @Slot(str)
    def _print(self, text: str) -> None:
        with contextlib.suppress(Exception):
            self.shellwidget._append_plain_text(f"\n{text}\n", before_prompt=True)
