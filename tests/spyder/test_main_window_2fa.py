"""Two-factor login in the real Spyder main window: the server's prompt, once per host."""

from __future__ import annotations

import contextlib

import pytest
from qtpy.QtCore import QPoint, Qt, QTimer
from qtpy.QtWidgets import QApplication

from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog
from tests.spyder.main_window_steps import (
    connect_and_wait,
    fill_remote_form,
    open_dialog,
    run,
    tab_text,
    wait_ready,
)
from tests.sshd_otp import OTP_PROMPT

pytestmark = [pytest.mark.gui, pytest.mark.sshd]


@contextlib.contextmanager
def answering_codes(qtbot, otp):
    """While in the block, each new modal login prompt is answered once with a fresh code.

    Yields the list of answered prompts as (prompt, its label texts, its parent then)."""
    answered: list = []

    def answer():
        prompt = QApplication.activeModalWidget()
        if isinstance(prompt, LoginPromptDialog) and prompt not in [a[0] for a in answered]:
            labels = [w.text() for w in prompt.findChildren(type(prompt.title))]
            answered.append((prompt, labels, prompt.parent()))
            prompt.fields[0].setText(otp.code())
            qtbot.mouseClick(prompt.ok_button, Qt.LeftButton)

    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(50)
    try:
        yield answered
    finally:
        timer.stop()


def test_2fa_prompt_answered_once_for_list_and_console(
    qtbot,
    plugin,
    console,
    otp,
    ssh_home,
    kernel_factory,
    remote_dir,
    close_new_consoles,
):
    (ssh_home / ".ssh" / "known_hosts").write_text(otp.server.host_key_line())
    container = plugin.get_container()
    container.close_all_tunnels()
    # close_all_tunnels closed every session: no login to reuse
    km = kernel_factory(kernel_id="2f2f", directory=remote_dir)
    with answering_codes(qtbot, otp) as prompts:
        dialog = open_dialog(qtbot, plugin)
        fill_remote_form(dialog, otp.server, remote_dir)
        dialog.cf.clear()
        qtbot.mouseClick(dialog.remote_kernels.refresh_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
        assert not dialog.error_label.isVisible(), dialog.error_label.plain_text()
        assert len(prompts) == 1
        [(_prompt, labels, parent)] = prompts
        assert any(text.startswith(OTP_PROMPT) for text in labels)
        assert parent is dialog  # owned by the connect dialog
        rows = [
            dialog.remote_kernels.list.item(i).text()
            for i in range(dialog.remote_kernels.list.count())
        ]
        assert any(row.startswith("2f2f") for row in rows), rows

        dialog.cf.setText(km.connection_file)
        client = connect_and_wait(qtbot, plugin, console, dialog)
        shell = wait_ready(qtbot, client)
        run(qtbot, shell, "print('two', 'factors')", "two factors")
        assert len(prompts) == 1  # listing and the console share the one login


def open_login_prompts() -> list[LoginPromptDialog]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, LoginPromptDialog) and w.isVisible()
    ]


def connect_with_code(qtbot, plugin, console, otp, ssh_home, kernel_factory, remote_dir):
    """A console on a kernel behind the 2FA sshd; the connect dialog's prompt answered."""
    (ssh_home / ".ssh" / "known_hosts").write_text(otp.server.host_key_line())
    plugin.get_container().close_all_tunnels()  # no login left to reuse
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, otp.server, remote_dir)
    dialog.cf.setText(km.connection_file)
    with answering_codes(qtbot, otp):
        client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {km.provisioner.pid}")
    return client, shell, km


def drop_and_wait_for_prompt(qtbot, console, otp, client, shell) -> LoginPromptDialog:
    """Kill the sshd's connection; the console's own prompt asks for a new code."""
    otp.server.kill_connections()
    qtbot.waitUntil(lambda: len(open_login_prompts()) == 1, timeout=60000)
    [prompt] = open_login_prompts()
    assert prompt.parent() is client  # owned by the console that asks, not the main window
    assert not prompt.isModal()  # the rest of Spyder stays usable meanwhile
    assert client.get_name() in prompt.context.text()  # names the console...
    assert otp.server.address in prompt.windowTitle()  # ...and the host
    assert any(
        label.text().startswith(OTP_PROMPT) for label in prompt.findChildren(type(prompt.title))
    )
    qtbot.waitUntil(lambda: "(waiting for your code...)" in tab_text(console, client))
    text = shell._control.toPlainText()
    assert f"{otp.server.address} asks for your one-time code to reconnect" in text, text
    return prompt


def assert_calm(text: str) -> None:
    lowered = text.lower()
    assert "died" not in lowered and "restarting" not in lowered, text


def test_reconnect_asks_for_a_new_code_from_the_console_and_restores_it(
    qtbot, plugin, console, otp, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """A forced drop on a 2FA host: the console and its tab say they wait for the user's
    code (no failure, no "kernel died"); a fresh code restores the same kernel."""
    client, shell, km = connect_with_code(
        qtbot, plugin, console, otp, ssh_home, kernel_factory, remote_dir
    )
    prompt = drop_and_wait_for_prompt(qtbot, console, otp, client, shell)
    # Longer than Spyder's heartbeat period: a false "kernel died" would show meanwhile.
    qtbot.wait(5000)
    assert prompt.isVisible() and "(waiting for your code...)" in tab_text(console, client)
    assert_calm(shell._control.toPlainText())

    prompt.fields[0].setText(otp.code(1))  # the next 30-s step: pam_oath refuses a reused code
    qtbot.mouseClick(prompt.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab_text(console, client) == client.get_name(), timeout=60000)
    qtbot.waitUntil(lambda: "restored." in shell._control.toPlainText(), timeout=60000)
    text = run(qtbot, shell, "print('pid', os.getpid(), 'back')", f"pid {km.provisioner.pid} back")
    assert_calm(text)
    assert open_login_prompts() == []


def test_cancelled_reconnect_login_is_plainly_disconnected_then_reconnect_from_the_tab(
    qtbot, plugin, console, otp, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """Cancel at the reconnect's prompt: the console says it is disconnected because the
    login was cancelled and how to come back; the tab menu's Reconnect asks again."""
    from spyder.plugins.ipythonconsole.api import IPythonConsoleWidgetMenus

    client, shell, km = connect_with_code(
        qtbot, plugin, console, otp, ssh_home, kernel_factory, remote_dir
    )
    tabs_menu = console.get_widget().get_menu(IPythonConsoleWidgetMenus.TabsContextMenu)
    action = plugin.console_logins.reconnect_action

    def open_tab_menu():
        tabs_menu.popup(client.mapToGlobal(QPoint(20, 20)))  # as a right-click on the tab
        qtbot.waitUntil(tabs_menu.isVisible)
        assert action in tabs_menu.actions()
        enabled = action.isVisible() and action.isEnabled()
        tabs_menu.hide()
        return enabled

    assert not open_tab_menu()  # connected: nothing to redo
    assert action.isVisible()

    prompt = drop_and_wait_for_prompt(qtbot, console, otp, client, shell)
    qtbot.mouseClick(prompt.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "login cancelled" in tab_text(console, client), timeout=30000)
    qtbot.waitUntil(lambda: "Disconnected from" in shell._control.toPlainText(), timeout=30000)
    text = shell._control.toPlainText()
    assert "login cancelled. Your kernel is still running there" in text, text
    assert "choose \u201cReconnect\u201d" in text
    qtbot.wait(3000)  # no retry loop behind the user's back
    assert open_login_prompts() == [] and "login cancelled" in tab_text(console, client)
    assert_calm(shell._control.toPlainText())

    assert open_tab_menu()
    action.trigger()
    qtbot.waitUntil(lambda: len(open_login_prompts()) == 1, timeout=60000)
    [prompt] = open_login_prompts()
    assert prompt.parent() is client
    prompt.fields[0].setText(otp.code(1))
    qtbot.mouseClick(prompt.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab_text(console, client) == client.get_name(), timeout=60000)
    text = run(
        qtbot, shell, "print('pid', os.getpid(), 'again')", f"pid {km.provisioner.pid} again"
    )
    assert_calm(text)


def test_reconnect_through_a_2fa_bastion_asks_from_the_console_behind_it(
    qtbot,
    plugin,
    console,
    otp,
    sshd,
    ssh_home,
    kernel_factory,
    remote_dir,
    close_new_consoles,
):
    """The bastion (2FA) drops: the code it asks for belongs to the console behind it, which
    says it waits for the user; the code restores the console through the bastion."""
    ssh = ssh_home / ".ssh"
    (ssh / "config").write_text(
        f"Host bastion\n    HostName 127.0.0.1\n    Port {otp.server.port}\n"
        f"    User {otp.server.user}\n    IdentityFile {otp.server.user_key}\n"
    )
    (ssh / "known_hosts").write_text(otp.server.host_key_line() + sshd.host_key_line())
    container = plugin.get_container()
    container.close_all_tunnels()
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)  # the lab: its own key, given in the dialog
    dialog.remote_group.jump.setText("bastion")
    dialog.cf.setText(km.connection_file)
    with answering_codes(qtbot, otp) as asked:
        client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {km.provisioner.pid}")
    assert [parent for _prompt, _labels, parent in asked] == [dialog]  # one, over the dialog

    otp.server.kill_connections()  # the bastion's link: the lab's goes with it
    qtbot.waitUntil(lambda: len(open_login_prompts()) == 1, timeout=60000)
    [prompt] = open_login_prompts()
    assert prompt.parent() is client and not prompt.isModal()
    assert prompt.windowTitle().endswith(f"bastion ({otp.server.address})")
    assert client.get_name() in prompt.context.text()
    qtbot.waitUntil(lambda: "(waiting for your code...)" in tab_text(console, client))
    qtbot.wait(3000)  # the lab's own retries meanwhile must not hide the wait
    assert "(waiting for your code...)" in tab_text(console, client)
    assert f"bastion ({otp.server.address}) asks for your one-time code" in (
        shell._control.toPlainText()
    )
    prompt.fields[0].setText(otp.code(1))
    qtbot.mouseClick(prompt.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab_text(console, client) == client.get_name(), timeout=90000)
    code = "print('pid', os.getpid(), 'via bastion')"
    text = run(qtbot, shell, code, f"pid {km.provisioner.pid} via bastion", timeout=60000)
    assert_calm(text)
