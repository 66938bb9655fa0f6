"""Spyder plugin: Consoles -> "Connect to an existing kernel...", presets, UMR in every console."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from spyder.api.plugin_registration.decorators import on_plugin_available, on_plugin_teardown
from spyder.api.plugins import Plugins, SpyderPluginV2
from spyder.api.translations import _
from spyder.plugins.ipythonconsole.api import (
    IPythonConsoleWidgetActions,
    IPythonConsoleWidgetMenus,
    IPythonConsoleWidgetTabsContextMenuSections,
)
from spyder.plugins.mainmenu.api import ApplicationMenus, ConsolesMenuSections

from spyder_kernel_connect.spyder.api import KernelConnectActions
from spyder_kernel_connect.spyder.confpage import KernelConnectConfigPage
from spyder_kernel_connect.spyder.console_logins import RECONNECT_ACTION, ConsoleLogins
from spyder_kernel_connect.spyder.container import KernelConnectContainer
from spyder_kernel_connect.spyder.job_consoles import JobConsoles
from spyder_kernel_connect.spyder.outage import ConsoleOutageGuard
from spyder_kernel_connect.spyder.project_syncs import ProjectSyncs
from spyder_kernel_connect.spyder.tabs import tab_label, tunnel_matches
from spyder_kernel_connect.ssh import StateEvent

if TYPE_CHECKING:
    from spyder.plugins.ipythonconsole.widgets.client import ClientWidget
    from spyder.plugins.ipythonconsole.widgets.shell import ShellWidget

    from spyder_kernel_connect.service import Connection


class KernelConnect(SpyderPluginV2):
    NAME = "spyder_kernel_connect"
    REQUIRES: ClassVar[list] = [Plugins.IPythonConsole, Plugins.Preferences]
    OPTIONAL: ClassVar[list] = [Plugins.MainMenu]
    CONTAINER_CLASS = KernelConnectContainer
    CONF_WIDGET_CLASS = KernelConnectConfigPage
    CONF_SECTION = NAME
    CONF_FILE = True
    # 1.1.0: the UMR options moved to Spyder's own (main_interpreter section); the minor
    # bump drops this section's old umr/* keys from the user's ini file.
    CONF_VERSION = "1.1.0"
    CONF_DEFAULTS: ClassVar[list] = [(NAME, {"presets": {}, "last_settings": {}})]

    @staticmethod
    def get_name() -> str:
        return _("Kernel Connect")

    @staticmethod
    def get_description() -> str:
        return _(
            "Connect to existing local and remote (SSH) kernels, and reload changed "
            "modules in every console."
        )

    @classmethod
    def get_icon(cls):
        return cls.create_icon("remote_server")

    def on_initialize(self) -> None:
        container = self.get_container()
        container.sig_open_console_requested.connect(self.open_console)
        container.sig_tab_label_changed.connect(self._set_tab_label)
        container.bridge.sig_state_event.connect(self._on_tunnel_state)
        # shellwidget -> its guard: tunnelled consoles stay calm while the SSH link is down
        self.outage_guards: dict[ShellWidget, ConsoleOutageGuard] = {}
        # shellwidget -> its project sync (edit here, run there), for remote consoles with one
        self.project_syncs = ProjectSyncs(self)
        # A reconnect's login question (2FA) shown by its console; the tabs' Reconnect
        self.console_logins = ConsoleLogins(self)
        # Consoles on kernels in SLURM jobs: time left, job end, cancel the job on close.
        self.job_consoles = JobConsoles(container.service, self.get_main() or container, self)
        self.job_consoles.sig_tab_label_changed.connect(self._set_tab_label)

    # ---- IPython console
    @on_plugin_available(plugin=Plugins.IPythonConsole)
    def on_ipython_console_available(self) -> None:
        console = self.get_plugin(Plugins.IPythonConsole)
        container = self.get_container()
        for signal, slot in self._console_hooks(console):
            signal.connect(slot)
        for client in console.get_clients():  # consoles opened before this plugin
            if getattr(client, "shellwidget", None) is not None:
                container.umr.attach(client.shellwidget)
        widget = console.get_widget()
        # One entry, not two: ours takes the place of Spyder's while this plugin runs.
        widget.connect_to_kernel_action.setVisible(False)
        widget.add_item_to_menu(
            container.connect_action,
            menu=widget.get_menu(IPythonConsoleWidgetMenus.TabsContextMenu),
            section=IPythonConsoleWidgetTabsContextMenuSections.Consoles,
            before=IPythonConsoleWidgetActions.ConnectToKernel,
        )
        # "Project folder sync…" on a remote console's tab (set, change or turn off).
        self.project_sync_action = container.create_action(
            KernelConnectActions.ProjectFolderSync,
            text=_("Project folder sync…"),
            tip=_("Keep a local project folder in sync with this console's host"),
            triggered=lambda: self.project_syncs.edit(console, container),
        )
        tabs_menu = widget.get_menu(IPythonConsoleWidgetMenus.TabsContextMenu)
        widget.add_item_to_menu(
            self.project_sync_action,
            menu=tabs_menu,
            section=IPythonConsoleWidgetTabsContextMenuSections.Edit,
        )
        tabs_menu.aboutToShow.connect(self._update_project_sync_action)
        widget.add_item_to_menu(
            self.console_logins.reconnect_action,
            menu=tabs_menu,
            section=IPythonConsoleWidgetTabsContextMenuSections.Consoles,
        )
        tabs_menu.aboutToShow.connect(self.console_logins.update_action)

    def _update_project_sync_action(self) -> None:
        console = self.get_plugin(Plugins.IPythonConsole)
        remote = self.project_syncs.connection_of_current(console, self.get_container())
        self.project_sync_action.setVisible(remote is not None)

    @on_plugin_teardown(plugin=Plugins.IPythonConsole)
    def on_ipython_console_teardown(self) -> None:
        console = self.get_plugin(Plugins.IPythonConsole)
        for signal, slot in self._console_hooks(console):
            signal.disconnect(slot)
        widget = console.get_widget()
        widget.connect_to_kernel_action.setVisible(True)
        menu = widget.get_menu(IPythonConsoleWidgetMenus.TabsContextMenu)
        menu.remove_action(KernelConnectActions.ConnectToKernel)
        menu.remove_action(KernelConnectActions.ProjectFolderSync)
        menu.aboutToShow.disconnect(self._update_project_sync_action)
        menu.remove_action(RECONNECT_ACTION)
        menu.aboutToShow.disconnect(self.console_logins.update_action)

    def _console_hooks(self, console) -> list[tuple]:
        """(console signal, our slot): every console gets the UMR; a closed one's tunnel,
        outage guard, project sync and SLURM job are dealt with."""
        container = self.get_container()
        deleted = console.sig_shellwidget_deleted
        return [
            (console.sig_shellwidget_created, container.umr.attach),
            (deleted, container.on_shellwidget_deleted),
            (deleted, self._drop_outage_guard),
            (deleted, self.project_syncs.drop),
            (deleted, self.job_consoles.drop),
        ]

    # ---- Consoles menu
    @on_plugin_available(plugin=Plugins.MainMenu)
    def on_main_menu_available(self) -> None:
        mainmenu = self.get_plugin(Plugins.MainMenu)
        mainmenu.add_item_to_application_menu(
            self.get_container().connect_action,
            menu_id=ApplicationMenus.Consoles,
            section=ConsolesMenuSections.New,
            before=IPythonConsoleWidgetActions.ConnectToKernel,
        )

    @on_plugin_teardown(plugin=Plugins.MainMenu)
    def on_main_menu_teardown(self) -> None:
        mainmenu = self.get_plugin(Plugins.MainMenu)
        mainmenu.remove_item_from_application_menu(
            KernelConnectActions.ConnectToKernel, menu_id=ApplicationMenus.Consoles
        )

    # ---- Preferences
    @on_plugin_available(plugin=Plugins.Preferences)
    def on_preferences_available(self) -> None:
        self.get_plugin(Plugins.Preferences).register_plugin_preferences(self)

    @on_plugin_teardown(plugin=Plugins.Preferences)
    def on_preferences_teardown(self) -> None:
        self.get_plugin(Plugins.Preferences).deregister_plugin_preferences(self)

    def on_close(self, cancelable: bool = False) -> bool:
        self.job_consoles.clear()  # kernel jobs stay re-attachable until their time limit
        self.get_container().close_all_tunnels()
        return True

    # ---- Public API
    def show_dialog(self):
        """Open the "Connect to an existing kernel" dialog (non-blocking); return it."""
        return self.get_container().show_dialog()

    def open_console(self, connection: Connection) -> ClientWidget | None:
        """Open a console on a kernel that answered; remote ones use the local tunnel file."""
        console = self.get_plugin(Plugins.IPythonConsole)
        # No hostname/sshkey: the file points at our tunnel's local ports, so Spyder
        # must not start its own SSH tunnel.
        client = console.create_client_for_kernel(connection.connection_file, give_focus=True)
        if client is None:
            return None
        if connection.tunnel is not None:
            label = tab_label(connection)
            self._set_tab_label(connection.connection_file, label)
            shell = client.shellwidget
            path = connection.connection_file
            self.outage_guards[shell] = ConsoleOutageGuard(
                shell,
                connection.tunnel,
                label,
                self,
                lambda suffix: self.get_container().show_console_state(path, suffix),
            )
            if connection.job is not None:  # a kernel in a SLURM job
                self.job_consoles.open(client, connection, self.outage_guards[shell])
            if connection.sync_folders:
                self.project_syncs.open(console, shell, connection)
        console.switch_to_plugin()
        return client

    def _on_tunnel_state(self, event: StateEvent) -> None:
        for guard in list(self.outage_guards.values()):
            if tunnel_matches(guard.tunnel, event):
                guard.on_state(event.state)

    def _drop_outage_guard(self, shellwidget: ShellWidget) -> None:
        guard = self.outage_guards.pop(shellwidget, None)
        if guard is not None:
            guard.remove()
            guard.deleteLater()

    def _set_tab_label(self, connection_file: str, label: str, suffix: str = "") -> None:
        """Name the tab of the console on ``connection_file`` (a tunnel's local file);
        ``suffix`` (the tunnel's state) goes after Spyder's "1/A", not inside the name.
        A job console's label says its node, job and time left."""
        console = self.get_plugin(Plugins.IPythonConsole)
        if console is None:
            return
        label = self.job_consoles.label_for(connection_file) or label
        for client in console.get_clients():
            handler = getattr(client.shellwidget, "kernel_handler", None)
            if getattr(handler, "connection_file", None) != connection_file:
                continue
            client.hostname = label  # ClientWidget.get_name() shows "<hostname> 1/A"
            console.rename_client_tab(client, None)
            if suffix:
                widget = console.get_widget()
                index = widget.get_client_index_from_id(id(client))
                widget.tabwidget.setTabText(index, client.get_name() + suffix)
