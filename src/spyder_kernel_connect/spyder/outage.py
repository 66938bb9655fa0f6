"""A console on a tunnelled kernel while its SSH connection is down: no false "kernel died".

Spyder's heartbeat reaches the kernel through our tunnel, so while the SSH connection is
re-established it hears nothing, prints "The kernel died, restarting..." every few seconds
and resets the prompt, which eats what the user was typing. For our consoles only:

- the heartbeat's ``kernel_died`` goes through :meth:`ConsoleOutageGuard.on_heartbeat_failed`
  instead of straight to Spyder: while the tunnel is not UP it is the link, not the kernel;
  while UP, one check through the SSH session decides (the kernel's port refuses: the
  kernel is gone, and Spyder's own handling runs);
- the heartbeat is paused while the link is down and resumed once it is back;
- one notice when the link goes down, one when it is back;
- a command entered meanwhile stays at the prompt and runs once the kernel's output
  reaches the console again (iopub re-subscribed), so its result is not lost;
- a run that ended during the outage lost its reply with the link: once the kernel has
  answered a later request (so that run is over), the console gets its prompt back;
- a reconnect that needs the user (a 2FA code, a password) is shown as such: the console
  and its tab say it waits for the user's code, not that something failed; a cancelled
  login leaves it plainly disconnected, with the way back (the tab menu's Reconnect).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from html import escape
from typing import Any

from qtpy.QtCore import QObject, QTimer
from spyder.api.translations import _

from spyder_kernel_connect.spyder.widgets.background import run_in_thread
from spyder_kernel_connect.ssh import TunnelState

logger = logging.getLogger(__name__)

# How often to ask the kernel for an answer on iopub after the link is back.
IOPUB_PROBE_INTERVAL_MS = 1000
# After the kernel answered again: how long a reply still on its way may take.
LOST_REPLY_GRACE_MS = 2000
PROBE_TIMEOUT = 10.0


def outage_notice(label: str) -> str:
    return _("Connection to {} lost — reconnecting; your kernel is still running.").format(label)


def gave_up_notice(label: str) -> str:
    return _(
        "Connection to {} lost, and reconnecting failed. Your kernel may still be running "
        "there: right-click this console's tab and choose “Reconnect”, or close "
        "this console and connect to it again."
    ).format(label)


def asked_for(request: Any) -> str:
    """What a login question wants from the user: "code", "password" or "approval"."""
    from spyder_kernel_connect.ssh.prompts import is_password_prompt

    if not request.prompts:
        return "approval"
    if all(is_password_prompt(prompt) for prompt in request.prompts):
        return "password"
    return "code"


def waiting_suffix(request: Any) -> str:
    """The tab's " (waiting for your code...)" while a reconnect's login waits for the user."""
    return (
        " "
        + {
            "code": _("(waiting for your code...)"),
            "password": _("(waiting for your password...)"),
            "approval": _("(waiting for your approval...)"),
        }[asked_for(request)]
    )


def login_wait_notice(request: Any) -> str:
    what = {
        "code": _("your one-time code"),
        "password": _("your password"),
        "approval": _("your approval on your device"),
    }[asked_for(request)]
    return _(
        "Waiting for you: {host} asks for {what} to reconnect this console (see the "
        "“SSH login” window)."
    ).format(host=request.host, what=what)


CANCELLED_SUFFIX = " " + _("(login cancelled)")


def login_cancelled_notice(label: str) -> str:
    return _(
        "Disconnected from {}: login cancelled. Your kernel is still running there; to "
        "log in again, right-click this console's tab and choose “Reconnect”."
    ).format(label)


def retry_notice(label: str) -> str:
    return _("Reconnecting to {}...").format(label)


def restored_notice(label: str) -> str:
    return _("Connection to {} restored.").format(label)


def lost_run_notice() -> str:
    return _(
        "The command that was running when the connection dropped has finished; "
        "what it printed meanwhile could not reach this console."
    )


def held_notice() -> str:
    return _("Not sent yet: your command stays at the prompt and runs once the connection is back.")


class ConsoleOutageGuard(QObject):
    """Keeps one tunnelled console calm and its input safe while the SSH link is down."""

    def __init__(
        self,
        shellwidget: Any,
        tunnel: Any,
        label: str,
        parent: QObject | None = None,
        show_tab_suffix: Callable[[str], None] | None = None,
    ):
        super().__init__(parent)
        self.shellwidget = shellwidget
        self.tunnel = tunnel
        self.label = label
        self.outage = False
        self.login_cancelled = False  # the user cancelled this reconnect's login
        self.waiting_for_login = False  # a login question for this console is open
        self._show_tab_suffix = show_tab_suffix or (lambda suffix: None)
        self._waiting_suffix = ""
        self.pending = False  # a command is held at the prompt
        self.notices: list[str] = []  # what was shown, in order (for tests and logs)
        self._hooked_channel: Any = None
        self._checking = False
        self._iopub_request: str | None = None
        self._holding_after_recovery = False
        self._original_execute = shellwidget.execute
        self._iopub_timer = QTimer(self, interval=IOPUB_PROBE_INTERVAL_MS)
        self._iopub_timer.timeout.connect(self._ask_for_iopub)
        shellwidget.execute = self._execute  # also what Enter calls (self.execute(...))
        self.hook_heartbeat()
        # Should the kernel client come (or change) later: hook it at its first prompt.
        shellwidget.sig_prompt_ready.connect(self.hook_heartbeat)

    # ---- Heartbeat
    def hook_heartbeat(self) -> None:
        """Route the heartbeat's verdict through this guard (once per kernel client)."""
        client = self.shellwidget.kernel_client
        channel = getattr(client, "hb_channel", None) if client is not None else None
        if channel is None or channel is self._hooked_channel:
            return
        with contextlib.suppress(TypeError, RuntimeError):  # not connected: nothing to take
            channel.kernel_died.disconnect(self.shellwidget._handle_kernel_died)
        channel.kernel_died.connect(self.on_heartbeat_failed)
        self._hooked_channel = channel

    def on_heartbeat_failed(self, since_last_heartbeat: float) -> None:
        if self.outage or self._checking:
            return  # the link is down: the kernel is not what fell silent
        # UP as far as we know, but the link may have died unnoticed yet: ask the host.
        self._checking = True
        run_in_thread(
            self,
            self._kernel_port_answers,
            lambda alive: self._checked(alive, since_last_heartbeat),
            lambda error: self._checked(True, since_last_heartbeat),
        )

    def _kernel_port_answers(self) -> bool:
        """Worker thread: can the host still reach the kernel's heartbeat port?"""
        from spyder_kernel_connect.ssh import KernelUnreachable, SSHError

        info = self.tunnel.remote_info
        try:
            self.tunnel.session.check_reachable(info.reachable_ip, info.hb_port, PROBE_TIMEOUT)
        except KernelUnreachable:
            return False  # the host answers, the kernel's port does not: it is gone
        except SSHError as err:
            logger.info("heartbeat lost, and the SSH link does not answer: %s", err)
        return True

    def _checked(self, alive: bool, since_last_heartbeat: float) -> None:
        self._checking = False
        if not alive and not self.outage:
            # Really gone: stop waiting for it; a held command stays at the prompt.
            self._stop_waiting_for_iopub()
            self.pending = False
            self.shellwidget._handle_kernel_died(since_last_heartbeat)  # Spyder's own

    def _pause_heartbeat(self, paused: bool) -> None:
        channel = self._hooked_channel
        if channel is not None:
            channel.pause() if paused else channel.unpause()

    # ---- Tunnel state (GUI thread, from the tunnel engine's events)
    def on_state(self, state: TunnelState) -> None:
        self.hook_heartbeat()
        if state in (TunnelState.RECONNECTING, TunnelState.DOWN):
            if not self.outage:
                self.outage = True
                self._pause_heartbeat(True)
                self._iopub_timer.stop()
                self._notify(outage_notice(self.label))
            if state is TunnelState.DOWN:
                self.waiting_for_login = False
                if not self.login_cancelled:  # a cancelled login said so already
                    self._notify(gave_up_notice(self.label))
            # Over the tab's generic "(reconnecting...)"/"(connection lost)": the user's turn.
            if self.login_cancelled:
                self._show_tab_suffix(CANCELLED_SUFFIX)
            elif self.waiting_for_login and self._waiting_suffix:
                self._show_tab_suffix(self._waiting_suffix)
        elif state is TunnelState.UP and self.outage:
            self.outage = False
            self.login_cancelled = self.waiting_for_login = False
            self._pause_heartbeat(False)
            self._ask_for_iopub()
            self._iopub_timer.start()

    # ---- A reconnect that needs the user (GUI thread, from the login prompter)
    def login_asked(self, request: Any) -> None:
        """The reconnect's server asks the user something: say so, in the console and tab."""
        if not self.outage:  # a jump host asked before this console's link was seen to drop
            self.on_state(TunnelState.RECONNECTING)
        self.login_cancelled = False
        self.waiting_for_login = True
        self._waiting_suffix = waiting_suffix(request)
        self._notify(login_wait_notice(request))
        self._show_tab_suffix(self._waiting_suffix)

    def login_answered(self, answered: bool) -> None:
        self.waiting_for_login = False
        if answered:
            self._show_tab_suffix(" " + _("(reconnecting...)"))  # the answer is being checked
        else:
            self.login_cancelled = True
            self._notify(login_cancelled_notice(self.label))
            self._show_tab_suffix(CANCELLED_SUFFIX)

    def retrying(self) -> None:
        """The user asked to reconnect (after a cancelled or failed login)."""
        self.login_cancelled = False
        self._notify(retry_notice(self.label))
        self._show_tab_suffix(" " + _("(reconnecting...)"))

    def _ask_for_iopub(self) -> None:
        """Ask for kernel info until its status message shows up on iopub (ZMQ re-subscribes
        a moment after the link is back; output published before that is lost)."""
        client = self.shellwidget.kernel_client
        if client is None or self.outage:
            self._iopub_timer.stop()
            return
        if self._iopub_request is None:
            client.iopub_channel.message_received.connect(self._on_iopub)
        self._iopub_request = client.kernel_info()

    def _on_iopub(self, msg: dict) -> None:
        if self._iopub_request is None:
            return
        if msg.get("parent_header", {}).get("msg_id") != self._iopub_request:
            return
        self._stop_waiting_for_iopub()
        self._notify(restored_notice(self.label))
        if self.shellwidget._executing:
            self._holding_after_recovery = True
            QTimer.singleShot(LOST_REPLY_GRACE_MS, self._after_recovery)
        else:
            self._after_recovery()

    def _stop_waiting_for_iopub(self) -> None:
        self._iopub_timer.stop()
        if self._iopub_request is None:
            return
        self._iopub_request = None
        with contextlib.suppress(TypeError, RuntimeError, AttributeError):
            self.shellwidget.kernel_client.iopub_channel.message_received.disconnect(self._on_iopub)

    def _after_recovery(self) -> None:
        self._holding_after_recovery = False
        if self.outage:
            return
        shell = self.shellwidget
        if shell._executing and not shell._reading:
            # The kernel handled our later request, so that run is over: its reply was
            # dropped with the link (ZMQ does not keep replies for a peer that left).
            requests = shell._request_info["execute"]
            for msg_id in [key for key, info in requests.items() if info.kind == "user"]:
                requests.pop(msg_id)
            self._notify(lost_run_notice())
            shell._show_interpreter_prompt()  # asks the kernel for its number; ends the run
            shell.executed.emit({})  # as Spyder does after a restart: nobody waits forever
        self._run_pending()

    def _run_pending(self) -> None:
        if not self.pending or self.outage:
            return
        if self.shellwidget._executing:  # the prompt that ends a lost run is on its way
            QTimer.singleShot(200, self._run_pending)
            return
        self.pending = False
        if self.shellwidget.input_buffer.strip():
            self._original_execute(None, False, True)  # as if Enter were pressed now

    # ---- Input
    def _execute(self, source: str | None = None, hidden: bool = False, interactive: bool = False):
        busy = self.outage or self._iopub_request is not None or self._holding_after_recovery
        if hidden or not busy:
            return self._original_execute(source, hidden, interactive)
        # Nothing reaches the kernel now: keep the command where the user sees it.
        if source is not None:
            self.shellwidget.input_buffer = source
        if not self.pending:
            self.pending = True
            self._notify(held_notice())
        return False

    # ---- Output
    def _notify(self, text: str) -> None:
        self.notices.append(text)
        # Above the prompt, so what the user is typing stays as it is.
        self.shellwidget._append_html(f"<br><b>{escape(text)}</b><br>", before_prompt=True)

    def remove(self) -> None:
        """The console is closing: hand everything back to Spyder."""
        self._iopub_timer.stop()
        self.shellwidget.__dict__.pop("execute", None)
        with contextlib.suppress(TypeError, RuntimeError):
            self.shellwidget.sig_prompt_ready.disconnect(self.hook_heartbeat)
        channel, self._hooked_channel = self._hooked_channel, None
        if channel is not None:
            try:
                channel.kernel_died.disconnect(self.on_heartbeat_failed)
                channel.kernel_died.connect(self.shellwidget._handle_kernel_died)
                channel.unpause()
            except (TypeError, RuntimeError):
                pass
