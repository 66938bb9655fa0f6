"""Edit here, run there: a remote console bound to a local project folder.

``ConsoleProjectSync`` joins one console to a ``ProjectSync`` (Qt-free engine, over the
console's own SSH session):

- saves are pushed as they happen (``LiveSync.watch`` on a background thread);
- a run never starts before what was saved is on the host: the console's execute requests
  are held at its shell channel until ``LiveSync`` has pushed everything saved before them
  (a quick scan catches a save the watcher has not seen yet);
- paths are mapped: ``%runfile``/``%debugfile``/``%runcell``/``%debugcell`` and ``--wdir``
  name the host's copy; the kernel's requests for a file's code or a cell, its debugger
  steps and the tracebacks a user clicks name the local file; breakpoints set in the local
  editor are sent for the host's files;
- errors are shown with local paths: the kernel's error messages (tracebacks) and its
  stderr are rewritten as they arrive, before the console prints them, so what a user reads
  and clicks names the file in the editor. Standard output is left alone: it is the
  program's data (``print(__file__)`` says where the code really runs).
"""

from __future__ import annotations

import contextlib
import logging
import re
import shlex
import threading
from collections.abc import Callable

from qtpy.QtCore import QObject, Qt, Signal, Slot
from qtpy.QtWidgets import QMessageBox, QProgressDialog, QWidget
from spyder.api.translations import _
from spyder.config.manager import CONF

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.spyder.widgets.project_folders import ProjectFoldersDialog
from spyder_kernel_connect.sync import Conflict, LiveSync, ProjectSync, Resolution, SyncEvent

log = logging.getLogger(__name__)

RUN_MAGICS = ("%runfile", "%debugfile", "%runcell", "%debugcell", "%run")
PATH_HANDLERS = ("get_file_code", "run_cell")  # kernel -> editor calls naming a file
TRACEBACK_PATH = re.compile(r'File "?([^"\s,:]+\.py)')  # 'File "/a.py", line' and 'File /a.py:3'


class ConsoleProjectSync(QObject):
    """One console's project mapping: ``start`` it once the console is up, ``stop`` it when
    the console closes. Conflicts are asked in a dialog; what fails is said in the console."""

    sig_message = Signal(str)  # a line for the console: push failures, conflicts left
    _sig_release = Signal()
    _sig_progress = Signal(int, int)
    _sig_pushed = Signal(object)
    _sig_ask = Signal(object, object)  # (conflict, answer box), answered in the GUI thread

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
        if project.on_conflict is None:
            project.on_conflict = self.ask_conflict
        self.live = LiveSync(project, on_event=self._on_event)
        self.ready = False  # the initial push is over: runs may go
        self._held: list[dict] = []
        self._send: Callable | None = None
        self._cancel = threading.Event()
        self._stop_watch = threading.Event()
        self._watcher: threading.Thread | None = None
        self._restore: list[Callable[[], None]] = []
        self._progress: QProgressDialog | None = None
        self._remote_pattern: tuple[str, re.Pattern] | None = None
        self._sig_release.connect(self._release, Qt.QueuedConnection)
        self._sig_progress.connect(self._show_progress, Qt.QueuedConnection)
        self._sig_pushed.connect(self._initial_push_done, Qt.QueuedConnection)
        self._sig_ask.connect(self._ask_conflict, Qt.QueuedConnection)
        # Closing: questions still open are left unanswered (nothing is overwritten) and
        # no worker waits on the GUI thread, nor the GUI on a worker.
        self._closing = threading.Event()
        self._questions: list[tuple[dict, QMessageBox | None]] = []
        self.unresolved: list[str] = []  # conflicts left open by the close
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
        for box, message in list(self._questions):
            box["done"].set()  # the worker goes on with "keep the host's copy"
            if message is not None:
                message.close()
        self._questions.clear()
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
            ("_handle_error", self._local_error),
            ("_handle_stream", self._local_stream),
        ):
            handler = getattr(shell, name)
            setattr(shell, name, lambda msg, h=handler, t=translate: h(t(msg)))
            self._restore.append(lambda n=name, h=handler: setattr(shell, n, h))
        refresh = shell.refresh_from_pdb
        shell.refresh_from_pdb = lambda state: refresh(self._local_pdb_state(state))
        self._restore.append(lambda: setattr(shell, "refresh_from_pdb", refresh))
        configure = shell.set_kernel_configuration
        shell.set_kernel_configuration = lambda key, value: configure(
            key, self._remote_breakpoints(value) if key == "pdb" else value
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
        self.go_to_error(self.translate_goto(text))

    def translate_goto(self, text: str) -> str:
        """A traceback line as clicked in the console, with host paths made local."""
        return TRACEBACK_PATH.sub(
            lambda m: m.group(0).replace(m.group(1), self._local(m.group(1))), text
        )

    def local_text(self, text: str) -> str:
        """``text`` with every path under the host's folder made the local file's path."""
        remote = self.project.remote_dir
        if remote not in text:
            return text
        if self._remote_pattern is None or self._remote_pattern[0] != remote:
            # The folder, or a path under it; not a longer name ("/srv/proj2" for /srv/proj).
            found = re.compile(re.escape(remote) + r"(?:/[^\s\"'\x1b:,()\[\]]*)?(?![\w.-])")
            self._remote_pattern = (remote, found)
        return self._remote_pattern[1].sub(lambda m: self._local(m.group(0)), text)

    def _local_error(self, msg: dict) -> dict:
        content = msg.get("content")
        if not isinstance(content, dict) or self.project.remote_dir.startswith("~"):
            return msg
        content = dict(content)
        if isinstance(content.get("traceback"), list):
            content["traceback"] = [
                self.local_text(line) if isinstance(line, str) else line
                for line in content["traceback"]
            ]
        if isinstance(content.get("evalue"), str):
            content["evalue"] = self.local_text(content["evalue"])
        return {**msg, "content": content}

    def _local_stream(self, msg: dict) -> dict:
        content = msg.get("content")
        if not isinstance(content, dict) or content.get("name") != "stderr":
            return msg
        if not isinstance(content.get("text"), str) or self.project.remote_dir.startswith("~"):
            return msg
        return {**msg, "content": {**content, "text": self.local_text(content["text"])}}

    # -- the gate ------------------------------------------------------------------------

    def _gate(self, msg: dict) -> None:
        if not self.ready:
            self._held.append(msg)  # the initial push is still running
            return
        if msg.get("header", {}).get("msg_type") == "execute_request":
            content = msg.get("content", {})
            content["code"] = self.remote_code(content.get("code", ""))
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

    def remote_code(self, code: str) -> str:
        """``%runfile /local/proj/a.py`` -> ``%runfile /host/proj/a.py --wdir``: the host's
        copy, run in its own folder (Spyder gives external kernels no --wdir by default, and
        the file's sibling modules must be importable)."""
        stripped = code.strip()
        if not stripped.startswith(RUN_MAGICS) or "\n" in stripped:
            return code
        try:
            words = shlex.split(stripped)
        except ValueError:
            return code
        mapped = [
            (self.project.to_remote(word) or word) if word.startswith(("/", "~")) else word
            for word in words
        ]
        if mapped == words:
            return code  # not a file of the project
        if words[0] in ("%runfile", "%debugfile") and "--wdir" not in words:
            mapped.append("--wdir")
        return shlex.join(mapped)

    # -- path mapping helpers ------------------------------------------------------------

    def _local(self, path: str) -> str:
        return self.project.to_local(path) or path

    def _local_path_first(self, handler: Callable) -> Callable:
        def wrapped(filename, *args, **kwargs):
            return handler(self._local(filename), *args, **kwargs)

        return wrapped

    def _unwrap(self, handler_id: str, original: Callable) -> Callable[[], None]:
        def restore() -> None:
            self.shellwidget.kernel_comm_handlers[handler_id] = original
            self.shellwidget.kernel_handler.kernel_comm.register_call_handler(handler_id, original)

        return restore

    def _local_pdb_state(self, state):
        if isinstance(state, dict):
            step = state.get("step")
            if isinstance(step, dict) and isinstance(step.get("fname"), str):
                step["fname"] = self._local(step["fname"])
        return state

    def _remote_breakpoints(self, value):
        if isinstance(value, dict) and isinstance(value.get("breakpoints"), dict):
            value = dict(value)
            value["breakpoints"] = {
                self.project.to_remote(name) or name: lines
                for name, lines in value["breakpoints"].items()
            }
        return value

    # -- reports and questions -----------------------------------------------------------

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

    def ask_conflict(self, conflict: Conflict) -> Resolution:
        """The engine's conflict handler (worker thread): asks in the GUI thread and waits
        for the answer, or for the console to close (then the host's copy stays)."""
        box: dict = {"done": threading.Event()}
        if not self._closing.is_set():
            try:  # the diff is read here, off the GUI thread (it is a network read)
                box["diff"] = self.project.host_text_diff(conflict.rel)
            except Exception:
                box["diff"] = ""
            self._emit(self._sig_ask, conflict, box)
        while not box["done"].wait(0.2) and not self._closing.is_set():
            pass
        if "answer" not in box:
            self.unresolved.append(conflict.rel)
            log.info("closed with a conflict unresolved, the host's copy kept: %s", conflict.rel)
        return box.get("answer", Resolution.KEEP_HOST)

    @Slot(object, object)
    def _ask_conflict(self, conflict: Conflict, box: dict) -> None:
        if self._closing.is_set():
            box["done"].set()
            return
        message = QMessageBox(self.parent() if isinstance(self.parent(), QWidget) else None)
        message.setIcon(QMessageBox.Warning)
        message.setWindowTitle(_("File changed on the host"))
        message.setText(
            _("{name} {what} on {host}.").format(
                name=conflict.rel, what=_(conflict.kind.value), host=self.project.session.label
            )
        )
        message.setInformativeText(
            _(
                "Keep the host's copy, or overwrite it with yours? The host's copy is kept aside "
                "as {name}.remote-<time> if you overwrite it."
            ).format(name=conflict.rel)
        )
        message.setDetailedText(box.get("diff") or _("(no text difference)"))
        keep = message.addButton(_("Keep the host's copy"), QMessageBox.RejectRole)
        message.addButton(_("Overwrite"), QMessageBox.AcceptRole)
        message.setDefaultButton(keep)
        entry = (box, message)
        self._questions.append(entry)

        def answered(_result: int) -> None:
            if entry in self._questions:
                self._questions.remove(entry)
            if not self._closing.is_set():  # closed by stop(): no answer, nothing overwritten
                clicked = message.clickedButton()
                overwrite = clicked is not None and clicked is not keep
                box["answer"] = Resolution.OVERWRITE if overwrite else Resolution.KEEP_HOST
            box["done"].set()
            message.deleteLater()

        message.finished.connect(answered)
        message.open()  # not exec_(): no nested event loop a closing console would wait on

    @Slot(str)
    def _print(self, text: str) -> None:
        with contextlib.suppress(Exception):
            self.shellwidget._append_plain_text(f"\n{text}\n", before_prompt=True)


class ProjectSyncs(QObject):
    """The project syncs of the open consoles (shellwidget -> ``ConsoleProjectSync``)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.by_shell: dict = {}

    def open(self, console, shell, connection, now: bool = False) -> ConsoleProjectSync | None:
        """Start syncing ``connection.sync_folders`` for a console: at its first prompt (a new
        console), or ``now`` (a mapping set from the tab's menu)."""
        local, remote = connection.sync_folders
        try:
            project = ProjectSync(connection.tunnel.session, local, remote)
        except KernelConnectError as err:
            shell._append_plain_text(
                "\n" + _("Project not synced: {error}").format(error=err) + "\n", before_prompt=True
            )
            return None
        widget = console.get_widget()
        sync = ConsoleProjectSync(shell, project, go_to_error=widget.go_to_error, parent=self)
        self.by_shell[shell] = sync
        if now:
            sync.start(widget)
            return sync

        def begin() -> None:
            shell.sig_prompt_ready.disconnect(begin)
            if self.by_shell.get(shell) is sync:
                sync.start(widget)

        shell.sig_prompt_ready.connect(begin)
        return sync

    def edit(self, console, container) -> ProjectFoldersDialog | None:
        """ "Project folder sync…" on a remote console's tab: ask for the folders (non-modal);
        OK applies them (``apply``). None if the current console is not a remote one."""
        connection = self.connection_of_current(console, container)
        if connection is None:
            return None
        shell = console.get_current_client().shellwidget
        dialog = ProjectFoldersDialog(
            connection.label, connection.sync_folders, connection.preset, console.get_widget()
        )
        dialog.accepted.connect(
            lambda: self.apply(console, shell, connection, dialog.folders(), container.presets)
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    @staticmethod
    def connection_of_current(console, container):
        """The tunnelled connection of the console whose tab is current, if it has one."""
        client = console.get_current_client() if console is not None else None
        handler = getattr(getattr(client, "shellwidget", None), "kernel_handler", None)
        return container.connection_for(getattr(handler, "connection_file", None))

    def apply(self, console, shell, connection, folders, presets) -> None:
        """Use ``folders`` (or no sync: None) for this console from now on, and for the saved
        connection it came from. A new mapping is pushed at once; the old one stops."""
        if folders == connection.sync_folders and (shell in self.by_shell) == bool(folders):
            return  # unchanged
        self.drop(shell)
        connection.sync_folders = folders
        if connection.preset:
            local, remote = folders or ("", "")
            try:
                presets.update_fields(
                    connection.preset, sync_local_dir=local, sync_remote_dir=remote
                )
            except KernelConnectError as err:  # the preset was deleted meanwhile
                self._say(shell, _("Saved connection not updated: {error}").format(error=err))
        if folders:
            self.open(console, shell, connection, now=True)
        else:
            self._say(shell, _("Project sync turned off: saves are no longer copied."))

    @staticmethod
    def _say(shell, text: str) -> None:
        with contextlib.suppress(Exception):
            shell._append_plain_text(f"\n{text}\n", before_prompt=True)

    @Slot(object)
    def drop(self, shell) -> None:
        """The console closed: stop its sync."""
        sync = self.by_shell.pop(shell, None)
        if sync is not None:
            sync.stop()
            sync.deleteLater()
