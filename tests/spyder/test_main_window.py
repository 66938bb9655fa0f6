"""The plugin inside a real Spyder main window under Xvfb: menu, connecting, UMR, prefs.

One main window serves the module (starting Spyder takes seconds); each test opens its
own consoles and closes them. Kernels, sshd and Xvfb are stopped by their fixtures.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import socket
import sys
import threading
import time

import pytest
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication, QCheckBox, QLabel, QMessageBox

from spyder_kernel_connect.connection import kernel_id_from_path
from spyder_kernel_connect.spyder.tabs import tab_label
from tests.conftest import process_alive
from tests.spyder.main_window_steps import (
    connect_and_wait,
    fill_remote_form,
    open_dialog,
    run,
    tab_text,
    wait_ready,
)

pytestmark = pytest.mark.gui


def write_module(directory, name, value):
    path = os.path.join(str(directory), f"{name}.py")
    with open(path, "w") as handle:
        handle.write(f"def value():\n    return {value!r}\n")
    # A later edit must look newer even on filesystems with coarse timestamps.
    stamp = time.time() + (2 if value != "before" else 0)
    os.utime(path, (stamp, stamp))
    return path


def test_spyder_runs_the_plugin_from_the_tree_under_test(plugin):
    """Spyder drops PYTHONPATH from sys.path when it starts; conftest imports us first."""
    import inspect

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert inspect.getfile(type(plugin)).startswith(os.path.join(root, "src") + os.sep)


def test_menu_entry_takes_the_place_of_spyders(main_window, plugin):
    from spyder.api.plugins import Plugins
    from spyder.plugins.ipythonconsole.api import IPythonConsoleWidgetActions
    from spyder.plugins.mainmenu.api import ApplicationMenus

    from spyder_kernel_connect.spyder.api import KernelConnectActions

    menu = main_window.get_plugin(Plugins.MainMenu).get_application_menu(ApplicationMenus.Consoles)
    menu.render()
    actions = menu.actions()
    ids = [getattr(action, "action_id", None) for action in actions]
    ours = ids.index(KernelConnectActions.ConnectToKernel)
    spyders = ids.index(IPythonConsoleWidgetActions.ConnectToKernel)
    assert spyders == ours + 1  # right where Spyder's entry was
    assert actions[ours].isVisible()
    assert not actions[spyders].isVisible()
    visible = [a.text() for a in actions if a.isVisible() and "existing kernel" in a.text()]
    assert visible == ["Connect to an existing kernel..."]


def test_connect_local_kernel_by_bare_id_runs_code_and_reloads(
    qtbot, plugin, console, kernel_factory, close_new_consoles, tmp_path
):
    kernel_factory(kernel_id="31337")
    dialog = open_dialog(qtbot, plugin)
    dialog.remote_group.setChecked(False)
    dialog.cf.clear()
    qtbot.keyClicks(dialog.cf, "31337")
    qtbot.waitUntil(lambda: "kernel-31337.json" in dialog.kernel_group.status.plain_text())
    client = connect_and_wait(qtbot, plugin, console, dialog)
    assert plugin.get_container().dialog is None  # closed on success
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "print(6 * 7)", "42")

    # The UMR was loaded by one silent call when the kernel got ready.
    write_module(tmp_path, "skc_edited", "before")
    run(
        qtbot,
        shell,
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import skc_edited; "
        "print('value', skc_edited.value())",
        "value before",
    )
    write_module(tmp_path, "skc_edited", "after")
    text = run(qtbot, shell, "print('value', skc_edited.value())", "value after")
    assert "Reloaded modules: skc_edited" in text
    html = shell._control.toHtml()
    assert "Reloaded modules: skc_edited" in html
    # Settings were remembered only now, after the connection worked.
    assert plugin.get_conf("last_settings")["connection_file"] == "31337"


def set_umr_option(plugin, option, value):
    """What Preferences -> Python interpreter -> User Module Reloader writes on Apply."""
    plugin.set_conf(option, value, section="main_interpreter")


def run_and_capture(qtbot, shell, code, expected, timeout=30000):
    """Run ``code``; return only what it printed (the console text that came after it)."""
    qtbot.waitUntil(lambda: not shell._executing, timeout=timeout)
    start = len(shell._control.toPlainText())
    run(qtbot, shell, code, expected, timeout)
    return shell._control.toPlainText()[start:]


@pytest.mark.sshd
def test_spyders_umr_options_are_the_one_switch_in_every_console(
    qtbot, plugin, console, sshd, ssh_home, kernel_factory, remote_dir, tmp_path, close_new_consoles
):
    """Preferences -> Python interpreter -> UMR: enabled, verbose and the excluded modules,
    each both ways, in open consoles: a Spyder console (whose own UMR and %autoreload
    would reload too) and a remote one through sshd. Off means nothing reloads."""
    umr = plugin.get_container().umr
    # A Spyder console: spyder-kernels, its own UMR on runfile and %autoreload on.
    console.create_new_client(give_focus=True)
    spyder_shell = wait_ready(qtbot, console.get_clients()[-1], timeout=120000)
    # A remote console: an ipykernel behind the real sshd.
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.setText(km.connection_file)
    remote_shell = wait_ready(qtbot, connect_and_wait(qtbot, plugin, console, dialog))
    qtbot.waitUntil(lambda: spyder_shell in umr._sent_to and remote_shell in umr._sent_to)

    consoles = []
    for name, shell in (("skc_sw_spyder", spyder_shell), ("skc_sw_remote", remote_shell)):
        directory = tmp_path / name
        directory.mkdir()
        write_module(directory, name, "before")
        script = directory / f"{name}_main.py"
        script.write_text(f"import {name}\nprint('{name}', {name}.value())\n")
        run(qtbot, shell, f"import sys; sys.path.insert(0, {str(directory)!r})", "")
        # runfile in Spyder's console: the command Spyder's own UMR acts on.
        code = (
            f"runfile({str(script)!r})"
            if shell is spyder_shell
            else f"exec(open({str(script)!r}).read())"
        )
        run(qtbot, shell, code, f"{name} before")
        consoles.append((name, shell, directory, code))

    def switch(option, value):
        sent = umr.sent_count
        set_umr_option(plugin, option, value)
        qtbot.waitUntil(lambda: umr.sent_count >= sent + 2)  # both consoles, at once
        for name, shell, *_ in consoles:  # the kernels applied it (one queue per console)
            run(qtbot, shell, f"print('applied', {option!r}, {name!r})", f"applied {option} {name}")

    def edit_and_run(value, expect_value, expect_line):
        for name, shell, directory, code in consoles:
            write_module(directory, name, value)
            text = run_and_capture(qtbot, shell, code, f"{name} {expect_value}")
            assert f"{name} {expect_value}" in text, (name, text)
            assert text.count("Reloaded modules") == (1 if expect_line else 0), (name, text)

    try:
        switch("umr/enabled", False)
        edit_and_run("off", "before", expect_line=False)  # nothing reloaded, by anyone
        switch("umr/enabled", True)
        edit_and_run("on", "on", expect_line=True)  # ours, once
        switch("umr/verbose", False)
        edit_and_run("quiet", "quiet", expect_line=False)  # reloaded, silently
        switch("umr/verbose", True)
        edit_and_run("loud", "loud", expect_line=True)
        switch("umr/namelist", [name for name, *_ in consoles])
        edit_and_run("excluded", "loud", expect_line=False)  # excluded: kept as it was
        switch("umr/namelist", [])
        edit_and_run("included", "included", expect_line=True)
    finally:
        set_umr_option(plugin, "umr/enabled", True)
        set_umr_option(plugin, "umr/verbose", True)
        set_umr_option(plugin, "umr/namelist", [])


def test_spyder_started_console_gets_the_umr(qtbot, plugin, console, tmp_path, close_new_consoles):
    console.create_new_client(give_focus=True)
    client = console.get_clients()[-1]
    shell = wait_ready(qtbot, client, timeout=120000)
    qtbot.waitUntil(lambda: shell in plugin.get_container().umr._sent_to)
    write_module(tmp_path, "skc_spyder", "before")
    script = tmp_path / "skc_main.py"
    script.write_text("import skc_spyder\nprint('spy', skc_spyder.value())\n")
    run(qtbot, shell, f"import sys; sys.path.insert(0, {str(tmp_path)!r})", "")
    run(qtbot, shell, f"runfile({str(script)!r})", "spy before")
    write_module(tmp_path, "skc_spyder", "after")
    text = run(qtbot, shell, f"runfile({str(script)!r})", "spy after")
    # Spyder's own UMR would also reload on runfile and say so: only ours may.
    assert text.count("Reloaded modules: skc_spyder") == 1


def test_kernel_list_marks_the_kernels_of_spyders_own_consoles(qtbot, plugin, console):
    dialog = open_dialog(qtbot, plugin)
    spyders = plugin.get_container().console_files()
    assert spyders  # at least the console Spyder opened at start
    kernels = dialog.local_kernels.list
    rows = {
        kernels.item(i).data(Qt.UserRole): kernels.item(i).text() for i in range(kernels.count())
    }
    listed = [path for path in spyders if path in rows]
    assert listed, (spyders, rows)
    for path in listed:
        assert "already open in console" in rows[path] or "kept ready by Spyder" in rows[path]
    dialog.reject()


@pytest.mark.sshd
def test_connect_through_real_sshd_with_host_key_prompt(
    qtbot, plugin, console, sshd, ssh_home, kernel_factory, close_new_consoles
):
    from tests.sshd import KEY_PASSPHRASE

    km = kernel_factory()
    dialog = open_dialog(qtbot, plugin)
    dialog.cf.setText(km.connection_file)
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText(sshd.host)
    dialog.remote_group.port.setText(str(sshd.port))
    dialog.remote_group.username.setText(sshd.user)
    dialog.remote_group.key_radio.setChecked(True)
    dialog.remote_group.key_file.setText(str(sshd.passphrase_key))
    dialog.remote_group.passphrase.setText(KEY_PASSPHRASE)
    container = plugin.get_container()
    before = len(console.get_clients())
    settings = dialog.settings()
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert dialog.footer.progress.isVisible()

    qtbot.waitUntil(lambda: container.host_key_dialog is not None, timeout=30000)
    prompt = container.host_key_dialog
    assert prompt.fingerprint.text().startswith("SHA256:")
    qtbot.mouseClick(prompt.once_button, Qt.LeftButton)

    qtbot.waitUntil(
        lambda: len(console.get_clients()) > before or dialog.error_label.isVisible(),
        timeout=60000,
    )
    if len(console.get_clients()) == before:
        pytest.fail(dialog.error_label.plain_text())
    client = console.get_clients()[-1]
    connection = container.connection_for(client.connection_file)
    tunnel, label = connection.tunnel, tab_label(connection)
    # The tab names the host and the kernel: two consoles on one host do not look alike.
    assert label == f"{sshd.user}@{sshd.host} {kernel_id_from_path(km.connection_file)[:8]}"
    assert client.get_name().startswith(label)
    # Spyder talks to our tunnel's local file; it does not open an SSH tunnel of its own.
    assert client.connection_file == tunnel.local_connection_file
    assert client.shellwidget.kernel_handler.hostname is None
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {km.provisioner.pid}")
    assert not os.path.exists(os.path.expanduser("~/.ssh/known_hosts"))  # accepted once

    # A second console on the same host, to another kernel: another name.
    other = kernel_factory()
    dialog = open_dialog(qtbot, plugin)
    dialog.set_settings(settings)
    dialog.cf.setText(other.connection_file)
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: len(console.get_clients()) > before + 1 or container.host_key_dialog is not None,
        timeout=60000,
    )
    if container.host_key_dialog is not None:  # "once" was for the first connection
        qtbot.mouseClick(container.host_key_dialog.once_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(console.get_clients()) > before + 1, timeout=60000)
    second = console.get_clients()[-1]
    assert tab_label(container.connection_for(second.connection_file)) != label
    assert kernel_id_from_path(other.connection_file)[:8] in second.get_name()
    console.close_client(client=second, ask_recursive=False)

    # A dropped SSH link shows at the END of the tab's name while the tunnel reconnects.
    tabs = console.get_widget().tabwidget
    texts, suffixes = [], []

    def on_label(connection_file, _label, suffix):
        changed = next(c for c in console.get_clients() if c.connection_file == connection_file)
        suffixes.append(suffix)
        texts.append(tabs.tabText(console.get_widget().get_client_index_from_id(id(changed))))

    container.sig_tab_label_changed.connect(on_label)
    sshd.kill_connections()
    qtbot.waitUntil(lambda: "(reconnecting...)" in "".join(suffixes), timeout=60000)
    reconnecting = texts[suffixes.index(" (reconnecting...)")]
    assert reconnecting == client.get_name() + " (reconnecting...)"
    qtbot.waitUntil(lambda: suffixes and suffixes[-1] == "", timeout=90000)
    assert tabs.tabText(console.get_widget().get_client_index_from_id(id(client))) == (
        client.get_name()
    )
    assert client.get_name().startswith(label + " ")
    # ZMQ re-subscribes iopub a moment after the tunnel is back: output printed in that
    # moment is lost (PUB/SUB), so ask again until the console shows it, within 60 s.
    deadline = time.monotonic() + 60
    for attempt in range(1000):
        marker = f"after {attempt}"
        qtbot.waitUntil(lambda: not shell._executing, timeout=30000)
        shell.execute(f"print('after', {attempt})")
        try:
            qtbot.waitUntil(lambda m=marker: m in shell._control.toPlainText(), timeout=2000)
            break
        except Exception:
            assert time.monotonic() < deadline, "the console never worked again after reconnecting"

    # Closing the tab closes its tunnel.
    console.close_client(client=client, ask_recursive=False)
    qtbot.waitUntil(lambda: tunnel.closed, timeout=20000)
    qtbot.waitUntil(lambda: not os.path.exists(tunnel.local_connection_file), timeout=20000)
    assert container.connection_for(tunnel.local_connection_file) is None


@pytest.fixture
def own_sshd(tmp_path):
    """An sshd of this test alone, so it can be stopped and started again."""
    from tests.sshd import start_sshd, stop_sshd

    server = start_sshd(tmp_path / "own-sshd")
    yield server
    stop_sshd(server)


def restart_sshd(server):
    """Start the stopped server again: same config, keys and port."""
    import subprocess

    from tests.sshd import SSHD, _wait_for_banner

    server.process = subprocess.Popen(
        [SSHD, "-D", "-f", str(server.config_path), "-E", str(server.log_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_for_banner(server)


OUTAGE_SECONDS = 20


@pytest.mark.sshd
def test_ssh_outage_is_not_a_dead_kernel_and_keeps_the_typed_command(
    qtbot, plugin, console, own_sshd, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """sshd gone for 20 s under an open remote console: one notice, no "kernel died",
    a command typed meanwhile runs once the link is back, same kernel, no restart."""
    from tests.sshd import stop_sshd

    sshd = own_sshd
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.setText(km.connection_file)
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {km.provisioner.pid}")
    label = tab_label(plugin.get_container().connection_for(client.connection_file))
    notice = f"Connection to {label} lost — reconnecting; your kernel is still running."
    assert plugin.outage_guards[shell]._hooked_channel is shell.kernel_client.hb_channel

    stop_sshd(sshd)  # the server and every connection of it: nothing answers on the port
    stopped = time.monotonic()
    qtbot.waitUntil(lambda: "(reconnecting...)" in tab_text(console, client), timeout=60000)
    qtbot.waitUntil(lambda: notice in shell._control.toPlainText(), timeout=30000)
    # Longer than Spyder's heartbeat period, so a false "kernel died" would have shown.
    qtbot.wait(5000)
    qtbot.keyClicks(shell._control, "print('typed', 6 * 7)")
    qtbot.keyClick(shell._control, Qt.Key_Return)
    qtbot.waitUntil(lambda: "stays at the prompt" in shell._control.toPlainText())
    assert shell.input_buffer == "print('typed', 6 * 7)"  # kept, where the user sees it
    while time.monotonic() - stopped < OUTAGE_SECONDS:
        qtbot.wait(500)
    text = shell._control.toPlainText()
    assert "died" not in text.lower(), text
    assert text.count(notice) == 1, text

    restart_sshd(sshd)
    qtbot.waitUntil(lambda: "typed 42" in shell._control.toPlainText(), timeout=120000)
    qtbot.waitUntil(lambda: tab_text(console, client) == client.get_name())
    assert client.get_name().startswith(label)
    text = run(
        qtbot, shell, "print('pid', os.getpid(), 'after')", f"pid {km.provisioner.pid} after"
    )
    assert "died" not in text.lower() and "restarting" not in text.lower(), text
    assert text.count(notice) == 1
    assert f"Connection to {label} restored." in text
    assert text.count("typed 42") == 1  # run once, not lost, not twice


@pytest.mark.sshd
def test_a_run_that_ends_during_an_outage_gives_the_prompt_back(
    qtbot, plugin, console, own_sshd, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """The reply of a run that ended while the link was down is lost with it; once the
    kernel answers again, the console says so and takes commands again (not stuck)."""
    from tests.sshd import stop_sshd

    sshd = own_sshd
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.setText(km.connection_file)
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import time; print(6 * 7)", "42")
    shell.execute("time.sleep(4); print('slept')")
    qtbot.waitUntil(lambda: shell._executing)
    stop_sshd(sshd)
    qtbot.waitUntil(lambda: "(reconnecting...)" in tab_text(console, client), timeout=60000)
    qtbot.wait(8000)  # the run ends on the host meanwhile
    assert shell._executing
    restart_sshd(sshd)
    qtbot.waitUntil(lambda: "finished" in shell._control.toPlainText(), timeout=120000)
    qtbot.waitUntil(lambda: not shell._executing, timeout=30000)
    text = run(qtbot, shell, "print(7 * 6, 'next')", "42 next")
    assert "died" not in text.lower(), text


@pytest.mark.sshd
def test_a_frozen_ssh_link_is_not_a_dead_kernel_either(
    qtbot, plugin, console, own_sshd, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """A link that stops carrying data without closing (sshd's connection processes
    stopped): the heartbeat falls silent long before the keepalive notices, and the
    guard's check through the SSH session keeps that from reading as a dead kernel."""
    sshd = own_sshd
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.setText(km.connection_file)
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "print(6 * 7)", "42")
    frozen = sshd.kill_connections(signal.SIGSTOP)
    try:
        # The keepalive (every 15 s, 10 s to answer) finds the link dead and reconnects;
        # the heartbeat failed several times before that.
        qtbot.waitUntil(lambda: "(reconnecting...)" in tab_text(console, client), timeout=60000)
        qtbot.waitUntil(lambda: tab_text(console, client) == client.get_name(), timeout=90000)
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: "restored" in shell._control.toPlainText(), timeout=60000)
    text = run(qtbot, shell, "print(7 * 6, 'again')", "42 again")
    assert "died" not in text.lower(), text


@pytest.mark.sshd
def test_a_kernel_that_really_dies_behind_a_working_tunnel_is_still_reported(
    qtbot, plugin, console, sshd, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    """The outage guard only holds off the link's silence: with the SSH link up and the
    kernel gone, Spyder's own "kernel died" handling runs, and no outage is claimed."""
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    km = kernel_factory(directory=remote_dir)
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.setText(km.connection_file)
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "print(6 * 7)", "42")
    guard = plugin.outage_guards[shell]
    os.kill(km.provisioner.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: "kernel died" in shell._control.toPlainText().lower(), timeout=90000)
    assert guard.notices == []
    assert "Connection to" not in shell._control.toPlainText()


@pytest.mark.sshd
def test_password_login_refuse_then_remember_host_key_secret_only_in_keyring(
    qtbot,
    plugin,
    console,
    sshd,
    sshd_password_user,
    ssh_home,
    kernel_factory,
    keyring_file,
    close_new_consoles,
):
    container = plugin.get_container()
    container.close_all_tunnels()  # "accept once" trusted that connection only: asked again
    user, password = sshd_password_user
    km = kernel_factory()
    dialog = open_dialog(qtbot, plugin)
    dialog.cf.setText(km.connection_file)
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText(sshd.host)
    dialog.remote_group.port.setText(str(sshd.port))
    dialog.remote_group.username.setText(user)
    qtbot.mouseClick(dialog.remote_group.password_radio, Qt.LeftButton)
    dialog.remote_group.password.setText(password)
    dialog.save_check.setChecked(True)
    dialog.save_name.setText("pw-lab")

    # Refusing the unknown host key: a plain error, the form as typed, nothing saved.
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: container.host_key_dialog is not None, timeout=30000)
    qtbot.mouseClick(container.host_key_dialog.refuse_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=30000)
    assert "not accepted" in dialog.error_label.plain_text()
    assert (
        dialog.remote_group.password.text() == password
        and dialog.remote_group.username.text() == user
    )
    assert "pw-lab" not in container.presets.names()

    # Accept and remember: connects, writes known_hosts, saves the preset.
    before = len(console.get_clients())
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: container.host_key_dialog is not None, timeout=30000)
    qtbot.mouseClick(container.host_key_dialog.save_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: len(console.get_clients()) > before or dialog.error_label.isVisible(),
        timeout=60000,
    )
    if len(console.get_clients()) == before:
        pytest.fail(dialog.error_label.plain_text())
    shell = wait_ready(qtbot, console.get_clients()[-1])
    run(qtbot, shell, "print(7 * 6)", "42")
    known_hosts = ssh_home / ".ssh" / "known_hosts"
    assert f"[{sshd.host}]:{sshd.port}" in known_hosts.read_text()

    try:
        assert container.presets.load("pw-lab").password == password  # from the keyring
        stored = keyring_file.get_password("spyder_kernel_connect", "preset/pw-lab/password")
        assert stored == password
        assert assert_not_in_spyder_ini_files(password)
    finally:
        container.presets.delete("pw-lab")


@pytest.fixture
def remote_pids(remote_dir):
    """PIDs of kernels the plugin started on the "remote" side, killed at teardown.

    Also catches one a failed test never saw: its command line names this test's own
    remote dir (``-f <remote_dir>/kernel-….json``).
    """
    pids: list[int] = []
    yield pids
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if str(remote_dir).encode() in handle.read():
                        pids.append(int(entry))
            except OSError:
                continue
    for pid in set(pids):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_remote_and_wait(qtbot, plugin, console, dialog, remote_pids):
    """Press "Start a new kernel on this host"; the console that opens, and its kernel."""
    container = plugin.get_container()
    before = len(console.get_clients())
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    assert dialog.busy and dialog.footer.progress.isVisible()
    qtbot.waitUntil(
        lambda: len(console.get_clients()) > before or dialog.error_label.isVisible(),
        timeout=90000,
    )
    if len(console.get_clients()) == before:
        pytest.fail(dialog.error_label.plain_text())
    client = console.get_clients()[-1]
    started = container.connection_for(client.connection_file).started
    remote_pids.append(started.pid)
    return client, started


@pytest.mark.sshd
def test_remote_list_picks_a_kernel_over_the_same_login_and_runs_code(
    qtbot, plugin, console, sshd, ssh_home, kernel_factory, remote_dir, close_new_consoles
):
    container = plugin.get_container()
    container.close_all_tunnels()  # no session left: the host key is unknown again
    km = kernel_factory(kernel_id="5150", directory=remote_dir)
    (remote_dir / "kernel-garbled.json").write_text('{"shell_port": ')
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.clear()
    logins = sshd.auth_count()
    qtbot.mouseClick(dialog.remote_kernels.refresh_button, Qt.LeftButton)
    assert dialog.busy
    qtbot.waitUntil(lambda: container.host_key_dialog is not None, timeout=30000)
    qtbot.mouseClick(container.host_key_dialog.once_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    assert not dialog.error_label.isVisible(), dialog.error_label.plain_text()
    rows = [
        dialog.remote_kernels.list.item(i).text() for i in range(dialog.remote_kernels.list.count())
    ]
    assert len(rows) == 2, rows
    assert any(row.startswith("5150") and "python3" in row for row in rows)
    assert any(row.startswith("garbled") and "unreadable: not valid JSON" in row for row in rows)
    assert str(remote_dir) in dialog.remote_kernels.title_label.toolTip()

    item = next(dialog.remote_kernels.list.item(i) for i in range(2) if rows[i].startswith("5150"))
    rect = dialog.remote_kernels.list.visualItemRect(item)
    qtbot.mouseClick(dialog.remote_kernels.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert dialog.cf.text() == km.connection_file
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {km.provisioner.pid}")
    assert sshd.auth_count() == logins + 1  # the list and the tunnel share one login
    # Not ours: never offered to shut down.
    assert container.connection_for(client.connection_file).started is None


@pytest.mark.sshd
def test_start_kernel_on_host_runs_code_and_outlives_its_console_when_kept(
    qtbot, plugin, console, sshd, ssh_home, remote_dir, remote_pids, close_new_consoles
):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    container = plugin.get_container()
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.cf.clear()
    client, started = start_remote_and_wait(qtbot, plugin, console, dialog, remote_pids)
    assert os.path.dirname(started.remote_path) == str(remote_dir)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('pid', os.getpid())", f"pid {started.pid}")
    tunnel = container.connection_for(client.connection_file).tunnel

    console.close_client(client=client, ask_recursive=False)
    qtbot.waitUntil(lambda: container.shutdown_question is not None, timeout=20000)
    question = container.shutdown_question
    assert question.defaultButton() is question.button(QMessageBox.No)  # keep is the default
    qtbot.mouseClick(question.button(QMessageBox.No), Qt.LeftButton)
    qtbot.waitUntil(lambda: tunnel.closed, timeout=20000)
    qtbot.wait(1000)  # give a wrongly sent shutdown time to land
    assert process_alive(started.pid)
    assert os.path.exists(started.remote_path)


@pytest.mark.sshd
def test_start_kernel_on_host_then_shut_it_down_with_its_console(
    qtbot, plugin, console, sshd, ssh_home, remote_dir, remote_pids, close_new_consoles
):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    container = plugin.get_container()
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    client, started = start_remote_and_wait(qtbot, plugin, console, dialog, remote_pids)
    run(qtbot, wait_ready(qtbot, client), "print(6 * 7)", "42")
    tunnel = container.connection_for(client.connection_file).tunnel

    console.close_client(client=client, ask_recursive=False)
    qtbot.waitUntil(lambda: container.shutdown_question is not None, timeout=20000)
    qtbot.mouseClick(container.shutdown_question.button(QMessageBox.Yes), Qt.LeftButton)
    qtbot.waitUntil(lambda: not process_alive(started.pid), timeout=30000)
    qtbot.waitUntil(lambda: tunnel.closed and not container.stopping, timeout=20000)
    assert not os.path.exists(started.remote_path)


@pytest.mark.sshd
def test_cancelling_a_start_leaves_no_kernel_behind(
    qtbot, plugin, console, sshd, ssh_home, remote_dir, remote_pids
):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    before = len(console.get_clients())
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    # Cancel once the kernel process exists on the host (or the attempt already ended).
    qtbot.waitUntil(lambda: not dialog.busy or any(remote_dir.glob("kernel-*.log")), timeout=60000)
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
    assert dialog.isVisible()
    if len(console.get_clients()) > before:  # the start won the race: nothing to check
        console.close_client(client=console.get_clients()[-1], ask_recursive=False)
        pytest.skip("the kernel answered before Cancel was pressed")
    assert "cancelled" in dialog.notice_label.plain_text().lower()
    assert not list(remote_dir.glob("kernel-*.json"))  # stopped and removed again

    def kernels_left():
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if str(remote_dir).encode() in fh.read() and process_alive(int(entry)):
                        found.append(int(entry))
        return found

    assert kernels_left() == []
    dialog.reject()


@pytest.mark.sshd
def test_start_with_a_python_lacking_spyder_kernels_says_what_to_install(
    qtbot, plugin, console, sshd, ssh_home, remote_dir, remote_pids, python_without_spyder_kernels
):
    python = python_without_spyder_kernels
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir, python=python)
    before = len(console.get_clients())
    qtbot.mouseClick(dialog.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=30000)
    assert "spyder-kernels is not installed" in dialog.error_label.plain_text()
    assert f"{python} -m pip install spyder-kernels" in dialog.error_label.plain_text()
    assert "`" not in dialog.error_label.plain_text()  # no markup in the GUI
    assert dialog.focusWidget() is dialog.remote_group.remote_python  # the field to fix
    assert len(console.get_clients()) == before
    assert dialog.remote_group.remote_python.text() == python  # the form as typed
    dialog.reject()


def test_gui_stays_responsive_while_ssh_connection_times_out(qtbot, plugin, console, ssh_home):
    """A listener that accepts and never speaks SSH: the attempt times out off the GUI thread."""
    # Measure our dialog, not Spyder's own start-up work: let the first console settle.
    for client in console.get_clients():
        wait_ready(qtbot, client, timeout=120000)
    qtbot.wait(2000)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    stop = threading.Event()

    def accept_and_stay_silent():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_stay_silent, daemon=True)
    thread.start()
    gaps = []
    last = [time.monotonic()]

    def tick():
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    try:
        dialog = open_dialog(qtbot, plugin)
        dialog.cf.setText("/nonexistent/kernel-1.json")
        dialog.remote_group.setChecked(True)
        dialog.remote_group.hostname.setText("127.0.0.1")
        dialog.remote_group.port.setText(str(listener.getsockname()[1]))
        dialog.remote_group.username.setText("nobody")
        dialog.remote_group.key_radio.setChecked(True)
        dialog.remote_group.key_file.clear()
        last[0] = time.monotonic()
        timer.start()
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=90000)
        timer.stop()
        assert accepted, "the attempt never reached the silent listener"
        assert "127.0.0.1" in dialog.error_label.plain_text()
        assert dialog.remote_group.hostname.text() == "127.0.0.1"  # what the user typed is kept
        assert dialog.ok_button.isEnabled()
        saved = plugin.get_conf("last_settings").get("connection_file")
        assert saved != "/nonexistent/kernel-1.json"  # a failed attempt saves nothing
        worst = max(gaps)
        print(
            f"longest event-loop gap: {worst * 1000:.0f} ms, {len(gaps)} ticks", file=sys.__stdout__
        )
        assert worst < 0.100 + 0.010, f"the GUI was blocked for {worst * 1000:.0f} ms"
        dialog.reject()
    finally:
        timer.stop()
        stop.set()
        thread.join(5)
        for sock in accepted:
            sock.close()
        listener.close()


def test_cancel_stops_an_attempt_and_keeps_the_form(qtbot, plugin, ssh_home):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        dialog = open_dialog(qtbot, plugin)
        dialog.cf.setText("/nonexistent/kernel-2.json")
        dialog.remote_group.setChecked(True)
        dialog.remote_group.hostname.setText("127.0.0.1")
        dialog.remote_group.port.setText(str(listener.getsockname()[1]))
        dialog.remote_group.key_radio.setChecked(True)
        dialog.remote_group.key_file.clear()
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
        assert dialog.busy, dialog.error_label.plain_text()
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: not dialog.busy, timeout=20000)
        assert dialog.isVisible()
        assert "cancelled" in dialog.notice_label.plain_text()
        assert dialog.remote_group.hostname.text() == "127.0.0.1"
        dialog.reject()
        assert not dialog.isVisible()
    finally:
        listener.close()


def test_preferences_page_says_where_the_umr_switch_is(qtbot, main_window, plugin):
    from spyder.api.plugins import Plugins

    preferences = main_window.get_plugin(Plugins.Preferences)
    preferences.open_dialog()
    container = preferences.get_container()
    qtbot.waitUntil(lambda: container.dialog is not None and container.dialog.isVisible())
    config_dialog = container.dialog
    try:
        index = config_dialog.get_index_by_name(plugin.NAME)
        assert index is not None
        config_dialog.set_current_index(index)
        page = config_dialog.get_page(index)
        text = " ".join(label.text() for label in page.findChildren(QLabel))
        assert "Python interpreter" in text and "User Module Reloader" in text
        assert "Now: <b>on</b>" in page.state_label.text()
        assert not page.findChildren(QCheckBox)  # no switch of its own: the one is Spyder's
        qtbot.mouseClick(page.open_button, Qt.LeftButton)
        assert config_dialog.get_page().CONF_SECTION == "main_interpreter"
    finally:
        config_dialog.close()
        QApplication.processEvents()


def test_secrets_never_reach_spyders_ini_files(qtbot, plugin, keyring_file, tmp_path):

    from spyder_kernel_connect.settings import AUTH_PASSWORD, ConnectionSettings

    container = plugin.get_container()
    secret = "pw-" + os.urandom(6).hex()
    settings = ConnectionSettings(
        connection_file="kernel-1.json",
        remote=True,
        hostname="lab",
        username="me",
        auth=AUTH_PASSWORD,
        password=secret,
    )
    container.save_after_success(settings, "lab-secret-test")
    try:
        assert container.presets.load("lab-secret-test").password == secret
        ini_files = assert_not_in_spyder_ini_files(secret)
        assert any("spyder_kernel_connect" in path for path in ini_files)
    finally:
        container.presets.delete("lab-secret-test")


def assert_not_in_spyder_ini_files(secret: str) -> list[str]:
    """Grep every ini file of Spyder's configuration for ``secret``; return the files read."""
    from spyder.config.base import get_conf_path

    ini_files = glob.glob(os.path.join(get_conf_path(), "**", "*.ini"), recursive=True)
    for path in ini_files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            assert secret not in handle.read(), path
    return ini_files


def test_no_keyring_tells_the_user_and_saves_no_secret(qtbot, plugin, without_keyring):

    from spyder_kernel_connect.settings import AUTH_PASSWORD, ConnectionSettings

    container = plugin.get_container()
    secret = "pw-" + os.urandom(6).hex()
    settings = ConnectionSettings(
        connection_file="kernel-1.json",
        remote=True,
        hostname="lab",
        auth=AUTH_PASSWORD,
        password=secret,
    )
    container.save_after_success(settings, "no-keyring-test")
    try:
        box = container.no_keyring_message
        assert isinstance(box, QMessageBox) and box.isVisible()
        assert box.text().startswith("The password will not be saved: No system keyring")
        box.accept()
        assert container.presets.load("no-keyring-test").password == ""
        assert_not_in_spyder_ini_files(secret)
    finally:
        container.presets.delete("no-keyring-test")


def test_teardown_restores_spyders_entry(main_window, plugin, console):
    """Last in this module: it detaches the plugin from the IPython console for good."""
    widget = console.get_widget()
    assert not widget.connect_to_kernel_action.isVisible()
    plugin.on_ipython_console_teardown()
    assert widget.connect_to_kernel_action.isVisible()
