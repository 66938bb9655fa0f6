"""Login questions of reconnecting consoles (2FA after a dropped link), and Reconnect.

When a console's SSH connection drops and the server asks again (a new one-time code), the
question belongs to that console: its prompt is parented to the console, names the host
and the console, and leaves the rest of Spyder usable; the console and its tab say they
wait for the user (:class:`~.outage.ConsoleOutageGuard`). A login the user cancelled
leaves the console disconnected; the tab menu's *Reconnect* tries again (the kernel kept
running on the host meanwhile).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtWidgets import QWidget
from spyder.api.plugins import Plugins
from spyder.api.translations import _

from spyder_kernel_connect.spyder.login_prompts import PromptPlace
from spyder_kernel_connect.ssh import TunnelState

if TYPE_CHECKING:
    from spyder_kernel_connect.spyder.outage import ConsoleOutageGuard

RECONNECT_ACTION = "kernel_connect_reconnect"


class ConsoleLogins:
    """Places reconnect prompts on their consoles; owns the tab menu's Reconnect action."""

    def __init__(self, plugin: Any) -> None:
        self.plugin = plugin
        container = plugin.get_container()
        self.reconnect_action = container.create_action(
            RECONNECT_ACTION,
            text=_("Reconnect"),
            tip=_("Log in to this console's host again (its kernel kept running there)"),
            icon=container.create_icon("reconnect"),
            triggered=self.reconnect_current,
        )
        self.reconnect_action.setVisible(False)
        container.login_prompter.place = self.place_for

    # ---- Where a login question goes
    def place_for(self, request: Any) -> PromptPlace | None:
        """A reconnect's question goes to its consoles; a connect attempt's to the dialog
        (None: the prompter's default)."""
        container = self.plugin.get_container()
        # The reconnecting session asking, and every console that goes through it: its
        # own host's, or the consoles behind it when it is a jump host.
        asking = container.service.manager.sessions_asking(request.host)
        guards = [
            g
            for g in self.plugin.outage_guards.values()
            if set(_route(g.tunnel.session)) & set(asking)
        ]
        attempt = container.dialog is not None and container.dialog.busy
        if not guards and not asking and not attempt:
            # Not a session we know of: a console that lost its link is the likeliest.
            guards = [g for g in self.plugin.outage_guards.values() if g.outage]
        if not guards:
            return None
        names = [self._client_name(g) for g in guards]
        for guard in guards:
            guard.login_asked(request)

        def answered(accepted: bool) -> None:
            for guard in guards:
                guard.login_answered(accepted)

        context = _(
            "To reconnect the console \u201c{consoles}\u201d; its kernel is still running."
        ).format(consoles="\u201d, \u201c".join(names))
        return PromptPlace(self._owner(guards), context, modal=False, on_answered=answered)

    def _clients(self) -> list:
        console = self.plugin.get_plugin(Plugins.IPythonConsole)
        return console.get_clients() if console is not None else []

    def _client_of(self, guard: ConsoleOutageGuard):
        return next((c for c in self._clients() if c.shellwidget is guard.shellwidget), None)

    def _client_name(self, guard: ConsoleOutageGuard) -> str:
        client = self._client_of(guard)
        return client.get_name() if client is not None else guard.label

    def _owner(self, guards: list[ConsoleOutageGuard]) -> QWidget | None:
        """The console the user looks at, if it is one of them; else the first."""
        console = self.plugin.get_plugin(Plugins.IPythonConsole)
        current = console.get_current_client() if console is not None else None
        for guard in guards:
            if current is not None and current.shellwidget is guard.shellwidget:
                return current
        return self._client_of(guards[0]) or self.plugin.main

    # ---- Reconnect (tab menu)
    def guard_of_current(self) -> ConsoleOutageGuard | None:
        console = self.plugin.get_plugin(Plugins.IPythonConsole)
        client = console.get_current_client() if console is not None else None
        shell = getattr(client, "shellwidget", None)
        return self.plugin.outage_guards.get(shell) if shell is not None else None

    def update_action(self) -> None:
        """Shown on our tunnelled consoles; enabled while the connection has given up
        (or its login, maybe a jump host's, was cancelled)."""
        guard = self.guard_of_current()
        self.reconnect_action.setVisible(guard is not None)
        self.reconnect_action.setEnabled(
            guard is not None
            and (guard.login_cancelled or guard.tunnel.session.state is TunnelState.DOWN)
        )

    def reconnect_current(self) -> None:
        guard = self.guard_of_current()
        if guard is None:
            return
        manager = self.plugin.get_container().service.manager
        if manager.retry(guard.tunnel.session):
            guard.retrying()


def _route(session: Any) -> list:
    """A session and the jump hosts' sessions it goes through, nearest first."""
    route = []
    while session is not None and session not in route:
        route.append(session)
        session = getattr(session, "via", None)
    return route
