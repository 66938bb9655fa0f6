"""The project syncs of the open remote consoles, and the tab menu's "Project folder sync…".

A console gets a ``ConsoleProjectSync`` at its first prompt when its connection maps a
project folder; the tab's menu changes the mapping of a running console (and of the saved
connection it came from) or turns it off; closing the console stops its sync.
"""

from __future__ import annotations

import contextlib

from qtpy.QtCore import QObject, Slot
from spyder.api.translations import _

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.spyder.project_sync import ConsoleProjectSync
from spyder_kernel_connect.spyder.widgets.project_folders import ProjectFoldersDialog
from spyder_kernel_connect.sync import ProjectSync


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
