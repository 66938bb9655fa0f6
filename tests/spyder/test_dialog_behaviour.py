"""How the connect dialog's form behaves after failures, preset changes and picks."""

from __future__ import annotations

import os
import time

import pytest
from qtpy.QtCore import Qt

from spyder_kernel_connect import ssh
from spyder_kernel_connect.connection import ConnectionFileInvalid, KernelEntry
from spyder_kernel_connect.settings import AUTH_PASSWORD, ConnectionSettings
from spyder_kernel_connect.spyder.widgets.colors import message_color


def fail_attempt(dialog, error: BaseException) -> None:
    """What the container does with a failed attempt: unlock the form, show the error."""
    dialog.set_busy("Connecting...")
    dialog.set_idle()
    dialog.show_failure(error)


@pytest.mark.parametrize(
    ("auth", "error", "field"),
    [
        (AUTH_PASSWORD, ssh.AuthenticationFailed("Wrong password for ada@lab."), "password"),
        ("key", ssh.KeyPassphraseWrong("The passphrase of ~/.ssh/id is wrong."), "passphrase"),
        ("key", ssh.HostNotFound("Host 'lab' not found."), "hostname"),
        ("key", ssh.ConnectionRefused("lab:2222 refused the connection."), "port"),
    ],
)
def test_focus_returns_to_the_field_to_fix_after_a_failure(dialog, qtbot, auth, error, field):
    dialog.set_settings(ConnectionSettings(connection_file="1", remote=True, hostname="lab"))
    dialog.remote_group.password_radio.setChecked(auth == AUTH_PASSWORD)
    dialog.remote_group.key_radio.setChecked(auth != AUTH_PASSWORD)
    dialog.ok_button.setFocus()
    fail_attempt(dialog, error)
    widget = dialog.field_widget(field)
    assert dialog.focusWidget() is widget
    assert widget.isEnabled()
    qtbot.keyClicks(widget, "x")  # typing goes where the user has to fix things
    assert widget.text().endswith("x")


def test_focus_goes_to_the_connection_file_when_it_was_the_problem(dialog, qtbot):
    dialog.cf.setText("7")
    dialog.ok_button.setFocus()
    fail_attempt(dialog, ConnectionFileInvalid("kernel-7.json is not valid JSON."))
    assert dialog.focusWidget() is dialog.cf


def test_unticked_ssh_keeps_key_fields_disabled_after_a_failure(dialog):
    assert not dialog.remote_group.isChecked()
    fail_attempt(dialog, ConnectionFileInvalid("kernel-7.json is not valid JSON."))
    group = dialog.remote_group
    for widget in (group.key_file, group.key_browse_button, group.passphrase, group.password):
        assert not widget.isEnabled()


def test_new_connection_clears_the_previous_preset(dialog, presets):
    presets.save(
        "lab",
        ConnectionSettings(
            connection_file="kernel-9.json",
            remote=True,
            hostname="lab.example.org",
            username="ada",
            port="2222",
            auth=AUTH_PASSWORD,
            password="s3cret",
            remote_python="/opt/py/bin/python",
        ),
    )
    dialog.presets_bar.reload()
    combo = dialog.presets_bar.combo
    combo.setCurrentIndex(combo.findData("lab"))
    combo.activated.emit(combo.currentIndex())
    assert dialog.remote_group.hostname.text() == "lab.example.org"
    assert dialog.save_check.isChecked()

    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert dialog.settings() == ConnectionSettings()
    assert not dialog.save_check.isChecked()
    assert dialog.save_name.text() == ""
    assert not dialog.remote_group.advanced_widget.isVisible()


def test_a_stale_error_goes_when_its_field_is_edited(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    dialog.cf.setText("1")
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert "hostname" in dialog.error_label.plain_text()
    qtbot.keyClicks(dialog.cf, "2")  # another field: the error still applies
    assert dialog.error_label.isVisible()
    qtbot.keyClicks(dialog.remote_group.hostname, "lab")
    assert not dialog.error_label.isVisible()


def test_a_stale_error_goes_when_another_kernel_is_picked(
    dialog, qtbot, runtime_dir, dead_kernel_file
):
    path = dead_kernel_file(runtime_dir, "5150")
    dialog.refresh_kernels()
    qtbot.waitUntil(lambda: dialog.local_kernels.refresh_button.isEnabled())
    fail_attempt(dialog, ssh.KernelUnreachable("The kernel does not answer."))
    assert dialog.error_label.isVisible()
    item = dialog.local_kernels.list.item(0)
    rect = dialog.local_kernels.list.visualItemRect(item)
    qtbot.mouseClick(dialog.local_kernels.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert dialog.cf.text() == path
    assert not dialog.error_label.isVisible()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"shell_port": 1,', "not valid JSON"),
        ('{"transport": "tcp"}', "shell_port"),
        (None, "is a directory"),
    ],
)
def test_a_broken_file_never_resolves_green(dialog, qtbot, runtime_dir, content, reason):
    from spyder.utils.palette import SpyderPalette

    path = runtime_dir / "kernel-666.json"
    if content is None:
        os.mkdir(path)  # a directory where the file should be: cannot be read, even as root
    else:
        path.write_text(content)
    qtbot.keyClicks(dialog.cf, str(path) if content is None else "666")
    qtbot.waitUntil(lambda: str(path) in dialog.kernel_group.status.plain_text())
    status = dialog.kernel_group.status
    assert not status.plain_text().startswith("Resolves to")
    assert reason in status.plain_text().lower() or reason in status.plain_text()
    assert status.kind == "warning" and not status.ok
    assert message_color("success", SpyderPalette) not in status.styleSheet()
    with qtbot.assertNotEmitted(dialog.sig_connect_requested):
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)


def test_kernel_list_marks_spyder_consoles_and_tunnel_files_and_shows_rows(dialog, runtime_dir):
    now = time.time()
    mine = KernelEntry("1111", str(runtime_dir / "kernel-1111.json"), now - 10, "python3", True)
    spyders = KernelEntry("2222", str(runtime_dir / "kernel-2222.json"), now - 5, "python3", True)
    tunnel_path = str(runtime_dir / "kernel-7781-ssh-lab-x1y2z3.json")
    tunnel = KernelEntry("7781-ssh-lab-x1y2z3", tunnel_path, now, "python3", True)
    spare = KernelEntry("3333", str(runtime_dir / "kernel-3333.json"), now - 1, "python3", True)
    consoles = {spyders.path: "Console 1/A", spare.path: ""}
    dialog.show_local_kernels([tunnel, spare, spyders, mine], consoles)
    rows = dialog.local_kernels.rows()
    assert rows[0].startswith("1111") and "already" not in rows[0]  # the user's own first
    marked = {row.split()[0]: row for row in rows[1:]}
    assert "already open in console Console 1/A" in marked["2222"]
    assert "SSH tunnel of this plugin" in marked["7781-ssh-lab-x1y2z3"]
    assert "kept ready by Spyder for its next console" in marked["3333"]
    # Tall enough to choose among several kernels without scrolling.
    kernels = dialog.local_kernels.list
    assert kernels.height() >= 6 * kernels.sizeHintForRow(0)
