"""Two-factor login in the real Spyder main window: the server's prompt, once per host."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication

from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog
from tests.spyder.test_main_window import (
    close_new_consoles,
    connect_and_wait,
    fill_remote_form,
    open_dialog,
    run,
    wait_ready,
)
from tests.sshd_otp import OTP_PROMPT

pytestmark = [pytest.mark.gui, pytest.mark.sshd]
# A main-window fixture shared with test_main_window.py (imported to be registered here;
# plugin and console come from conftest).
FIXTURES = (close_new_consoles,)


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
    prompts: list = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, LoginPromptDialog) and dialog not in [p[0] for p in prompts]:
            labels = [w.text() for w in dialog.findChildren(type(dialog.title))]
            prompts.append((dialog, labels, dialog.parent()))
            dialog.fields[0].setText(otp.code())
            qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)

    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(50)
    try:
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
    finally:
        timer.stop()
