"""Steps the main-window tests share: open the dialog, fill it, connect, run code.

Each waits on the real window (``qtbot.waitUntil``) with a timeout, so a step that never
happens fails its test instead of hanging the suite.
"""

from __future__ import annotations

import sys

import pytest
from qtpy.QtCore import Qt

READY_STATES = ("spyder_kernel_ready", "ipykernel_ready")


def wait_ready(qtbot, client, timeout=60000):
    def ready():
        shell = client.shellwidget
        handler = shell.kernel_handler
        return (
            handler is not None
            and handler.connection_state in READY_STATES
            and shell._prompt_html is not None
        )

    qtbot.waitUntil(ready, timeout=timeout)
    return client.shellwidget


def run(qtbot, shell, code, expected, timeout=30000):
    qtbot.waitUntil(lambda: not shell._executing, timeout=timeout)
    shell.execute(code)
    qtbot.waitUntil(lambda: expected in shell._control.toPlainText(), timeout=timeout)
    qtbot.waitUntil(lambda: not shell._executing, timeout=timeout)
    return shell._control.toPlainText()


def open_dialog(qtbot, plugin):
    plugin.get_container().connect_action.trigger()
    dialog = plugin.get_container().dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.local_kernels.refresh_button.isEnabled())
    return dialog


def connect_and_wait(qtbot, plugin, console, dialog, timeout=60000):
    return click_and_wait_for_console(qtbot, console, dialog, dialog.ok_button, timeout)


def click_and_wait_for_console(qtbot, console, dialog, button, timeout=60000):
    """Click ``button`` (OK, or the SLURM button); the console it opens, or the dialog's error."""
    before = len(console.get_clients())
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: len(console.get_clients()) > before or dialog.error_label.isVisible(),
        timeout=timeout,
    )
    if len(console.get_clients()) == before:
        pytest.fail(dialog.error_label.plain_text())
    return console.get_clients()[-1]


def tab_text(console, client) -> str:
    """What the console's tab shows (its name, and a state such as "(reconnecting...)")."""
    widget = console.get_widget()
    return widget.tabwidget.tabText(widget.get_client_index_from_id(id(client)))


def fill_remote_form(dialog, sshd, remote_dir, python=sys.executable):
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText(sshd.host)
    dialog.remote_group.port.setText(str(sshd.port))
    dialog.remote_group.username.setText(sshd.user)
    dialog.remote_group.key_radio.setChecked(True)
    dialog.remote_group.key_file.setText(str(sshd.user_key))
    dialog.remote_group.passphrase.clear()
    dialog.remote_group.remote_python.setText(python)
    dialog.remote_group.remote_runtime_dir.setText(str(remote_dir))
    dialog.remote_group.jump.clear()  # direct, whatever an earlier test's connection used
    dialog.save_check.setChecked(False)
