"""The connect dialog and the host-key prompt as widgets (no main window)."""

from __future__ import annotations

import json
import os

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog

from spyder_kernel_connect.settings import AUTH_PASSWORD, ConnectionSettings


def test_typing_a_bare_id_resolves_live(dialog, qtbot, runtime_dir, dead_kernel_file):
    path = dead_kernel_file(runtime_dir, "4321")
    qtbot.keyClicks(dialog.cf, "4321")
    qtbot.waitUntil(lambda: str(path) in dialog.kernel_group.status.plain_text())
    assert dialog.kernel_group.status.plain_text() == f"Resolves to {path}"

    dialog.cf.clear()
    qtbot.keyClicks(dialog.cf, "98765")
    qtbot.waitUntil(
        lambda: "No connection file matches '98765'" in dialog.kernel_group.status.plain_text()
    )
    assert str(runtime_dir) in dialog.kernel_group.status.plain_text()  # says where it looked


def test_browse_starts_in_runtime_dir_with_kernel_filter(
    dialog, qtbot, runtime_dir, dead_kernel_file
):
    path = dead_kernel_file(runtime_dir, "77")
    qtbot.mouseClick(dialog.kernel_group.browse_button, Qt.LeftButton)
    browser = dialog.findChild(QFileDialog, "connection_file_browser")
    assert browser is not None and browser.isVisible()
    assert os.path.samefile(browser.directory().absolutePath(), runtime_dir)
    filters = browser.nameFilters()
    assert filters[0].endswith("(kernel-*.json)")
    assert any(f.endswith("(*.json)") for f in filters)
    browser.selectFile(str(path))
    browser.accept()
    assert dialog.cf.text() == str(path)


def test_key_file_browse_starts_in_dot_ssh(dialog, qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_text("key")
    monkeypatch.setenv("HOME", str(home))
    dialog.remote_group.setChecked(True)
    qtbot.mouseClick(dialog.remote_group.key_browse_button, Qt.LeftButton)
    browser = dialog.findChild(QFileDialog, "key_file_browser")
    assert browser is not None and browser.isVisible()
    assert os.path.samefile(browser.directory().absolutePath(), home / ".ssh")
    browser.selectFile(str(key))
    browser.accept()
    assert dialog.remote_group.key_file.text() == str(key)


def test_running_kernels_newest_first_dead_marked_one_click_picks(
    dialog, qtbot, runtime_dir, kernel_factory, dead_kernel_file
):
    dead = dead_kernel_file(runtime_dir, "old")
    os.utime(dead, (1, 1))
    km = kernel_factory(kernel_id="live")
    dialog.refresh_kernels()
    qtbot.waitUntil(
        lambda: (
            dialog.local_kernels.list.count() == 2
            and dialog.local_kernels.refresh_button.isEnabled()
        )
    )
    first, second = dialog.local_kernels.list.item(0), dialog.local_kernels.list.item(1)
    assert first.text().startswith("live")
    assert "not responding" not in first.text()
    assert second.text().startswith("old")
    assert second.text().endswith("not responding")

    dialog.remote_group.setChecked(True)
    rect = dialog.local_kernels.list.visualItemRect(first)
    qtbot.mouseClick(dialog.local_kernels.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert dialog.cf.text() == km.connection_file
    assert not dialog.remote_group.isChecked()  # a local kernel was picked


def test_password_and_key_file_are_exclusive(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    assert dialog.remote_group.key_radio.isChecked()  # keys are the default
    assert not dialog.remote_group.password.isEnabled()
    assert dialog.remote_group.key_file.isEnabled() and dialog.remote_group.passphrase.isEnabled()

    qtbot.mouseClick(dialog.remote_group.password_radio, Qt.LeftButton)
    assert dialog.remote_group.password.isEnabled()
    assert not dialog.remote_group.key_file.isEnabled()
    assert not dialog.remote_group.passphrase.isEnabled()
    assert not dialog.remote_group.key_browse_button.isEnabled()
    assert not dialog.remote_group.key_radio.isChecked()

    dialog.cf.setText("1234")
    dialog.remote_group.hostname.setText("server")
    dialog.remote_group.password.setText("pw")
    dialog.remote_group.passphrase.setText("left over")
    target = dialog.settings().ssh_target()
    assert target.password == "pw"
    assert target.passphrase is None and target.identity_file is None


@pytest.mark.parametrize(
    ("fill", "field", "message"),
    [
        ({}, "connection_file", "Enter a connection file or a kernel ID."),
        ({"connection_file": "1234"}, "hostname", "Enter the hostname of the SSH server."),
        (
            {"connection_file": "1234", "hostname": "h", "port": "99999"},
            "port",
            "from 1 to 65535",
        ),
    ],
)
def test_validation_messages_keep_what_was_typed(dialog, qtbot, fill, field, message):
    dialog.remote_group.setChecked(True)
    for name, text in fill.items():
        dialog.field_widget(name).setText(text)
    with qtbot.assertNotEmitted(dialog.sig_connect_requested):
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert dialog.error_label.isVisible()
    assert message in dialog.error_label.plain_text()
    assert dialog.field_widget(field).hasFocus() or not dialog.isActiveWindow()
    for name, text in fill.items():
        assert dialog.field_widget(name).text() == text


def test_local_connect_refuses_an_unresolvable_spec(dialog, qtbot):
    dialog.cf.setText("no-such-kernel-xyz")
    with qtbot.assertNotEmitted(dialog.sig_connect_requested):
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert "No connection file matches 'no-such-kernel-xyz'" in dialog.error_label.plain_text()


def test_valid_form_requests_connection_with_save_name(
    dialog, qtbot, runtime_dir, dead_kernel_file
):
    dead_kernel_file(runtime_dir, "55")
    dialog.cf.setText("55")
    dialog.save_check.setChecked(True)
    dialog.save_name.setText("mine")
    with qtbot.waitSignal(dialog.sig_connect_requested) as blocker:
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    settings, name = blocker.args
    assert settings.connection_file == "55" and name == "mine"


def test_busy_state_shows_progress_and_cancel_cancels(dialog, qtbot):
    dialog.set_busy("Connecting to h through SSH...")
    assert dialog.footer.progress.isVisible()
    assert not dialog.ok_button.isEnabled()
    assert not dialog.cf.isEnabled()
    with qtbot.waitSignal(dialog.sig_cancel_requested):
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert dialog.isVisible()  # cancelling the attempt keeps the dialog and the form
    dialog.set_idle()
    assert dialog.cf.isEnabled() and dialog.ok_button.isEnabled()
    assert not dialog.footer.progress.isVisible()


def test_presets_pick_rename_delete(dialog, presets):
    remote = ConnectionSettings(
        connection_file="kernel-9.json",
        remote=True,
        hostname="lab.example.org",
        username="me",
        port="2222",
        auth=AUTH_PASSWORD,
        password="s3cret",
    )
    presets.save("lab", remote)
    presets.save("local", ConnectionSettings(connection_file="12"))
    dialog.presets_bar.reload()
    combo = dialog.presets_bar.combo
    assert [combo.itemText(i) for i in range(1, combo.count())] == ["lab", "local"]
    assert not dialog.presets_bar.delete_button.isEnabled()

    combo.setCurrentIndex(combo.findData("lab"))
    combo.activated.emit(combo.currentIndex())
    assert dialog.remote_group.isChecked()
    assert dialog.remote_group.hostname.text() == "lab.example.org"
    assert dialog.remote_group.port.text() == "2222"
    assert dialog.remote_group.password_radio.isChecked()
    assert dialog.remote_group.password.text() == "s3cret"  # from the keyring
    assert dialog.save_name.text() == "lab"
    assert dialog.presets_bar.delete_button.isEnabled()

    dialog.presets_bar.rename("lab", "lab server")
    assert dialog.presets_bar.current() == "lab server"
    assert dialog.save_name.text() == "lab server"
    assert presets.load("lab server").password == "s3cret"

    dialog.presets_bar.rename("lab server", "local")
    assert "already exists" in dialog.error_label.plain_text()

    dialog.presets_bar.delete("lab server")
    assert presets.names() == ["local"]
    assert dialog.presets_bar.current() == ""
    assert "s3cret" not in json.dumps(presets.backing.data)


def test_no_keyring_backend_no_crash_user_told(qtbot, runtime_dir, without_keyring, preset_backing):
    from spyder_kernel_connect.settings import PresetStore, SecretStore
    from spyder_kernel_connect.spyder.widgets.dialog import KernelConnectDialog

    backing = preset_backing
    store = PresetStore(backing.read, backing.write, SecretStore())
    settings = ConnectionSettings(
        connection_file="1", remote=True, hostname="h", auth=AUTH_PASSWORD, password="pw"
    )
    outcome = store.save("h", settings)
    assert not outcome.secrets_saved and outcome.unsaved == ("password",)
    dialog = KernelConnectDialog(None, store)  # opens on the last preset
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.remote_group.hostname.text() == "h"
    assert dialog.remote_group.password.text() == ""
    assert "The password will not be saved" in dialog.notice_label.plain_text()
    assert "pw" not in json.dumps(backing.data)


def test_host_key_dialog_decisions(qtbot):
    from spyder_kernel_connect import ssh
    from spyder_kernel_connect.spyder.widgets.hostkey import HostKeyDialog

    info = ssh.HostKeyInfo("server", 2222, "ssh-ed25519", "SHA256:abc", "/root/.ssh/known_hosts")
    for button, expected in [
        ("save_button", ssh.HostKeyDecision.ACCEPT_AND_SAVE),
        ("once_button", ssh.HostKeyDecision.ACCEPT_ONCE),
        ("refuse_button", ssh.HostKeyDecision.REJECT),
    ]:
        dialog = HostKeyDialog(None, info, ssh.HostKeyDecision)
        qtbot.addWidget(dialog)
        dialog.open()
        assert dialog.fingerprint.text() == "SHA256:abc"
        assert dialog.refuse_button.isDefault()
        qtbot.mouseClick(getattr(dialog, button), Qt.LeftButton)
        assert dialog.decision is expected
        assert not dialog.isVisible()


def test_remote_python_and_runtime_dir_fold_away_and_round_trip(dialog, qtbot, presets):
    dialog.remote_group.setChecked(True)
    assert not dialog.remote_group.advanced_widget.isVisible()  # defaults: folded away, calm dialog
    assert dialog.settings().remote_python == "python3"
    assert dialog.settings().remote_runtime_dir == ""
    qtbot.mouseClick(dialog.remote_group.advanced_button, Qt.LeftButton)
    assert dialog.remote_group.advanced_widget.isVisible()
    dialog.remote_group.remote_python.setText("/opt/conda/bin/python")
    dialog.remote_group.remote_runtime_dir.setText("~/rt")
    dialog.remote_group.hostname.setText("lab")
    presets.save("lab", dialog.settings())
    stored = presets.backing.data["presets"]["lab"]
    assert stored["remote_python"] == "/opt/conda/bin/python"
    assert stored["remote_runtime_dir"] == "~/rt"

    dialog.set_settings(ConnectionSettings(remote=True, hostname="other"))
    assert not dialog.remote_group.advanced_widget.isVisible()
    assert dialog.remote_group.remote_python.text() == "python3"
    dialog.presets_bar.reload()
    combo = dialog.presets_bar.combo
    combo.setCurrentIndex(combo.findData("lab"))
    combo.activated.emit(combo.currentIndex())
    assert dialog.remote_group.advanced_widget.isVisible()  # customised: shown
    assert dialog.remote_group.remote_python.text() == "/opt/conda/bin/python"
    assert dialog.remote_group.remote_runtime_dir.text() == "~/rt"


def test_relative_remote_runtime_dir_is_refused_where_it_is_typed(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText("lab")
    dialog.remote_group.remote_runtime_dir.setText("runtime")
    with qtbot.assertNotEmitted(dialog.sig_remote_list_requested):
        qtbot.mouseClick(dialog.remote_kernels.refresh_button, Qt.LeftButton)
    assert "must be an absolute path" in dialog.error_label.plain_text()
    assert dialog.remote_group.advanced_widget.isVisible()
    assert dialog.remote_group.remote_runtime_dir.text() == "runtime"


def test_list_and_start_need_a_host_but_no_connection_file(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    with qtbot.assertNotEmitted(dialog.sig_start_requested):
        qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    assert "Enter the hostname" in dialog.error_label.plain_text()

    dialog.remote_group.hostname.setText("lab")
    dialog.remote_group.remote_python.setText("/opt/py/bin/python")
    with qtbot.waitSignal(dialog.sig_remote_list_requested) as listed:
        qtbot.mouseClick(dialog.remote_kernels.refresh_button, Qt.LeftButton)
    assert listed.args[0].hostname == "lab" and listed.args[0].connection_file == ""
    assert "Looking for kernels" in dialog.remote_kernels.list.item(0).text()

    dialog.save_check.setChecked(True)
    dialog.save_name.setText("lab")
    with qtbot.waitSignal(dialog.sig_start_requested) as started:
        qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    settings, save_as = started.args
    assert settings.remote_python == "/opt/py/bin/python" and save_as == "lab"


def test_remote_list_rows_reasons_and_one_click_pick(dialog, qtbot):
    import time

    from spyder_kernel_connect.connection import KernelEntry
    from spyder_kernel_connect.service import HostListing

    now = time.time()
    path = "/home/ada/.local/share/jupyter/runtime/kernel-7781.json"
    listing = HostListing(
        "ada@lab:22",
        "/home/ada/.local/share/jupyter/runtime",
        [
            KernelEntry("7781", path, now - 300, "python3", True),
            KernelEntry(
                "broken",
                "/r/kernel-broken.json",
                now - 4000,
                error="Remote connection file /r/kernel-broken.json is not valid JSON: "
                "Expecting value at line 1.",
            ),
            KernelEntry("4410", "/r/kernel-4410.json", now - 90000, "python3", False),
        ],
    )
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText("lab")
    dialog.show_remote_kernels(listing)
    assert "ada@lab:22" in dialog.remote_kernels.title_label.text()
    texts = [
        dialog.remote_kernels.list.item(i).text() for i in range(dialog.remote_kernels.list.count())
    ]
    assert texts[0].startswith("7781") and "python3" in texts[0] and "5 min ago" in texts[0]
    assert texts[1].endswith("unreadable: not valid JSON: Expecting value at line 1")
    assert texts[2].endswith("not responding")
    assert not dialog.remote_kernels.list.item(1).flags() & Qt.ItemIsSelectable

    rect = dialog.remote_kernels.list.visualItemRect(dialog.remote_kernels.list.item(0))
    qtbot.mouseClick(dialog.remote_kernels.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert dialog.cf.text() == path
    assert dialog.remote_group.isChecked()  # still a remote kernel
    assert dialog.kernel_group.status.plain_text() == f"On the remote host: {path}"

    dialog.remote_group.hostname.setText("another-host")  # what was listed no longer applies
    assert dialog.remote_kernels.list.count() == 1
    assert "List kernels" in dialog.remote_kernels.list.item(0).text()
