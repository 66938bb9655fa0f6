"""Edit here, run there, in a real Spyder main window: a remote console bound to a local
project folder (real sshd as the host, a real spyder-kernels kernel behind it)."""

from __future__ import annotations

import textwrap

import pytest

from tests.spyder.main_window_steps import (
    connect_and_wait,
    fill_remote_form,
    open_dialog,
    wait_ready,
)

pytestmark = [pytest.mark.gui, pytest.mark.sshd]


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def text_of(shell) -> str:
    return shell._control.toPlainText()


def wait_text(qtbot, shell, expected: str, timeout: int = 60000) -> None:
    try:
        qtbot.waitUntil(lambda: expected in text_of(shell), timeout=timeout)
    except Exception:
        pytest.fail(f"{expected!r} never showed; the console says:\n{text_of(shell)[-3000:]}")


def run_file(qtbot, console, shell, path, method=None) -> None:
    qtbot.waitUntil(lambda: not shell._executing, timeout=30000)
    console.run_script(
        filename=str(path), wdir=str(path.parent), current_client=True, method=method
    )


@pytest.fixture
def mapped_console(
    qtbot, plugin, console, sshd, ssh_home, kernel_factory, remote_dir, tmp_path, monkeypatch
):
    """A remote console whose preset maps ``tmp_path/project`` to ``tmp_path/on-host/project``."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    project, host = tmp_path / "project", tmp_path / "on-host" / "project"
    write(project / "mod.py", "def f():\n    return 1\n")
    write(
        project / "main.py",
        """\
        import mod
        print("file", __file__)
        print("answer", mod.f())
        """,
    )
    write(project / ".gitignore", "secret.py\n")
    write(project / "secret.py", "TOKEN = 'never sent'\n")
    km = kernel_factory(directory=remote_dir, module="spyder_kernels.console")
    dialog = open_dialog(qtbot, plugin)
    fill_remote_form(dialog, sshd, remote_dir)
    dialog.save_check.setChecked(True)  # a saved connection: the tab's menu edits it too
    dialog.save_name.setText("synced lab")
    dialog.cf.setText(km.connection_file)
    section = dialog.remote_group.project_folders
    section.enabled_box.setChecked(True)
    section.local_dir.setText(str(project))
    section.remote_dir.setText(str(host))
    before = list(console.get_clients())
    client = connect_and_wait(qtbot, plugin, console, dialog)
    shell = wait_ready(qtbot, client)
    qtbot.waitUntil(lambda: "synced to" in text_of(shell), timeout=60000)
    yield shell, project, host
    for other in list(console.get_clients()):
        if other not in before:
            console.close_client(client=other, ask_recursive=False)


def test_save_locally_run_remotely_reloads_with_the_red_line(qtbot, console, mapped_console):
    shell, project, host = mapped_console
    assert (host / "mod.py").read_text() == "def f():\n    return 1\n"
    assert not (host / "secret.py").exists()  # .gitignore'd: never sent

    run_file(qtbot, console, shell, project / "main.py")
    wait_text(qtbot, shell, "answer 1")
    assert f"file {host / 'main.py'}" in text_of(shell)  # the host's copy ran

    # Save, then run at once: the run waits for the push, the UMR reloads the module.
    write(project / "mod.py", "def f():\n    return 2\n")
    run_file(qtbot, console, shell, project / "main.py")
    wait_text(qtbot, shell, "answer 2")
    assert "Reloaded modules: mod" in text_of(shell)
    assert (host / "mod.py").read_text() == "def f():\n    return 2\n"


def test_typed_code_waits_for_saves_too(qtbot, mapped_console):
    shell, project, _host = mapped_console
    qtbot.waitUntil(lambda: not shell._executing, timeout=30000)
    for index in range(5):
        write(project / "mod.py", f"def f():\n    return {index}\n")
        shell.execute("import mod; print('typed', mod.f())")
        wait_text(qtbot, shell, f"typed {index}")
        qtbot.waitUntil(lambda: not shell._executing, timeout=30000)


def test_clicked_traceback_and_breakpoints_use_local_files(
    qtbot, main_window, console, plugin, mapped_console
):
    from spyder.api.plugins import Plugins
    from spyder.config.manager import CONF

    shell, project, host = mapped_console
    sync = plugin.project_syncs.by_shell[shell]
    assert sync.paths.remote_code(f"%runfile {project / 'main.py'} --wdir {project}") == (
        f"%runfile {host / 'main.py'} --wdir {host}"
    )
    assert sync.paths.remote_code(f"%runfile {project / 'main.py'}") == (
        f"%runfile {host / 'main.py'} --wdir"
    )
    assert sync.paths.remote_code("print('/elsewhere')") == "print('/elsewhere')"

    # A traceback line naming the host's file opens the local one in the editor.
    shell._control.sig_go_to_error_requested.emit(f'  File "{host / "mod.py"}", line 2, in f')
    editor = main_window.get_plugin(Plugins.Editor)
    qtbot.waitUntil(lambda: editor.get_current_filename() == str(project / "mod.py"), timeout=10000)

    # A breakpoint set on the local file stops the remote debugger in the host's copy.
    CONF.set("debugger", "breakpoints", {str(project / "main.py"): [[3, None]]})
    shell.set_kernel_configuration("pdb", {"breakpoints": CONF.get("debugger", "breakpoints", {})})
    run_file(qtbot, console, shell, project / "main.py", method="debugfile")
    qtbot.waitUntil(lambda: shell.is_debugging(), timeout=60000)
    shell.pdb_execute_command("c")
    wait_text(qtbot, shell, f"{host / 'main.py'}(3)<module>()")  # stopped at the breakpoint
    assert "answer 1" not in text_of(shell).split("%debugfile")[-1]  # not past line 3 yet
    shell.pdb_execute_command("c")
    qtbot.waitUntil(lambda: not shell.is_debugging(), timeout=60000)
    CONF.set("debugger", "breakpoints", {})


def open_tab_menu(qtbot, console, client):
    """Right-click the console's tab, as a user does: that tab becomes current and its
    context menu shows. Returns the menu."""
    from qtpy.QtGui import QContextMenuEvent
    from qtpy.QtWidgets import QApplication

    widget = console.get_widget()
    tabs, bar = widget.tabwidget, widget.tabwidget.tabBar()
    center = bar.tabRect(widget.get_client_index_from_id(id(client))).center()
    QApplication.sendEvent(
        tabs, QContextMenuEvent(QContextMenuEvent.Mouse, center, bar.mapToGlobal(center))
    )
    qtbot.waitUntil(tabs.menu.isVisible)
    assert console.get_current_client() is client
    return tabs.menu


def menu_entry(menu, text: str = "Project folder sync…"):
    for action in menu.actions():
        if action.text() == text:
            return action
    pytest.fail(f"{text!r} is not in the tab menu: {[a.text() for a in menu.actions()]}")


def folders_dialog(qtbot, console):
    """The "Project folder sync" dialog the tab's menu opened."""
    from spyder_kernel_connect.spyder.widgets.project_folders import ProjectFoldersDialog

    def shown():
        return [d for d in console.get_widget().findChildren(ProjectFoldersDialog) if d.isVisible()]

    qtbot.waitUntil(lambda: bool(shown()))
    return shown()[0]


def choose_folders(qtbot, console, client, local, host) -> None:
    """Tab menu -> "Project folder sync…" -> the folders (None: untick) -> OK."""
    from qtpy.QtCore import Qt

    menu = open_tab_menu(qtbot, console, client)
    entry = menu_entry(menu)
    assert entry.isVisible()
    menu.hide()
    entry.trigger()
    dialog = folders_dialog(qtbot, console)
    section = dialog.section
    section.enabled_box.setChecked(local is not None)
    if local is not None:
        section.local_dir.setText(str(local))
        section.remote_dir.setText(str(host))
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.Ok), Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_tab_menu_changes_and_turns_off_the_mapping(
    qtbot, plugin, console, mapped_console, tmp_path
):
    shell, project, _host = mapped_console
    client = next(c for c in console.get_clients() if c.shellwidget is shell)
    presets = plugin.get_container().presets
    assert presets.load("synced lab").sync_local_dir == str(project)

    # A wrong folder is refused in the dialog, with the reason; nothing changes.
    menu = open_tab_menu(qtbot, console, client)
    entry = menu_entry(menu)
    menu.hide()
    entry.trigger()
    dialog = folders_dialog(qtbot, console)
    dialog.section.local_dir.setText(str(tmp_path / "no such folder"))
    dialog.accept()
    assert dialog.isVisible() and "does not exist" in dialog.problem.text()
    dialog.reject()
    assert plugin.project_syncs.by_shell[shell].project.local_dir == str(project)

    # Change: the new folder is pushed at once, later saves go there, the preset follows.
    other, other_host = tmp_path / "other", tmp_path / "on-host" / "other"
    write(other / "mod.py", "def f():\n    return 10\n")
    write(other / "main.py", "import mod\nprint('other', mod.f())\n")
    old_sync = plugin.project_syncs.by_shell[shell]
    choose_folders(qtbot, console, client, other, other_host)
    wait_text(qtbot, shell, f"Project {other} synced to")
    assert (other_host / "mod.py").read_text() == "def f():\n    return 10\n"
    assert old_sync._watcher is None or not old_sync._watcher.is_alive()  # the old one stopped
    saved = presets.load("synced lab")
    assert (saved.sync_local_dir, saved.sync_remote_dir) == (str(other), str(other_host))
    write(other / "mod.py", "def f():\n    return 11\n")
    run_file(qtbot, console, shell, other / "main.py")
    wait_text(qtbot, shell, "other 11")
    assert f"file {other_host}" not in text_of(shell)

    # Off: the watcher stops, saves stay local, the preset forgets the folders.
    sync = plugin.project_syncs.by_shell[shell]
    choose_folders(qtbot, console, client, None, None)
    wait_text(qtbot, shell, "Project sync turned off")
    assert shell not in plugin.project_syncs.by_shell
    assert not sync._watcher.is_alive() and not sync.live._thread.is_alive()
    assert presets.load("synced lab").sync_local_dir == ""
    write(other / "mod.py", "def f():\n    return 12\n")
    assert (other_host / "mod.py").read_text() == "def f():\n    return 11\n"

    # Set again from the menu: back on, pushed again (the local edit made while off).
    choose_folders(qtbot, console, client, other, other_host)
    qtbot.waitUntil(lambda: (other_host / "mod.py").read_text().endswith("12\n"), timeout=60000)


def test_tab_menu_entry_only_on_remote_consoles(qtbot, console, mapped_console):
    shell, _project, _host = mapped_console
    others = [c for c in console.get_clients() if c.shellwidget is not shell]
    if not others:
        console.create_new_client()
        others = [c for c in console.get_clients() if c.shellwidget is not shell]
    local = others[0]
    menu = open_tab_menu(qtbot, console, local)
    assert not menu_entry(menu).isVisible()
    menu.hide()


def click_line(qtbot, shell, needle: str) -> None:
    """Click, with the mouse, the console's last line containing ``needle``."""
    from qtpy.QtCore import Qt
    from qtpy.QtGui import QTextCursor

    control = shell._control
    document = control.document()
    block = document.lastBlock()
    while block.isValid() and needle not in block.text():
        block = block.previous()
    assert block.isValid(), f"no line with {needle!r}"
    cursor = QTextCursor(block)
    cursor.movePosition(QTextCursor.EndOfBlock)
    control.setTextCursor(cursor)
    control.ensureCursorVisible()
    qtbot.wait(50)
    cursor.setPosition(block.position() + block.text().index(needle) + 2)
    point = control.cursorRect(cursor).center()
    qtbot.mouseClick(control.viewport(), Qt.LeftButton, pos=point)


def test_errors_show_local_paths_and_click_to_the_local_file(
    qtbot, main_window, console, mapped_console
):
    from spyder.api.plugins import Plugins

    shell, project, host = mapped_console
    write(
        project / "bad.py",
        """\
        import sys

        import mod

        def g():
            raise ValueError(f"bad value in {mod.__file__}")

        print("ran", __file__)
        sys.stderr.write(f"warning from {mod.__file__}\\n")
        g()
        """,
    )
    run_file(qtbot, console, shell, project / "bad.py")
    wait_text(qtbot, shell, "ValueError")
    qtbot.waitUntil(lambda: not shell._executing, timeout=30000)
    output = text_of(shell).split("ran ", 1)[1]
    assert output.startswith(str(host / "bad.py"))  # stdout: the program's own data, as is
    assert f"warning from {project / 'mod.py'}" in output  # stderr: local
    assert f"bad value in {project / 'mod.py'}" in output  # the error's message: local
    assert str(project / "bad.py") in output  # the traceback's frames: local
    assert str(host) not in output.split("\n", 1)[1]  # nothing after the stdout line

    # Clicking the traceback's frame opens the local file in the editor, at its line.
    editor = main_window.get_plugin(Plugins.Editor)
    click_line(qtbot, shell, str(project / "bad.py"))
    qtbot.waitUntil(lambda: editor.get_current_filename() == str(project / "bad.py"), timeout=10000)


def conflict_question(qtbot):
    """The "File changed on the host" question, once it shows."""
    from qtpy.QtWidgets import QApplication, QMessageBox

    def shown():
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox)
            and w.isVisible()
            and w.windowTitle() == "File changed on the host"
        ]

    qtbot.waitUntil(lambda: bool(shown()), timeout=60000)
    return shown()[0]


def edit_on_both_sides(project, host) -> None:
    """mod.py edited on the host behind our back, then saved here: a conflict."""
    write(host / "mod.py", "def f():\n    return 99  # edited on the host\n")
    write(project / "mod.py", "def f():\n    return 3\n")


def test_a_conflict_is_asked_and_overwrite_keeps_the_host_copy_aside(qtbot, mapped_console):
    from qtpy.QtCore import Qt

    _shell, project, host = mapped_console
    edit_on_both_sides(project, host)
    question = conflict_question(qtbot)
    assert "mod.py" in question.text() and "return 99" in question.detailedText()
    overwrite = next(b for b in question.buttons() if b.text() == "Overwrite")
    qtbot.mouseClick(overwrite, Qt.LeftButton)
    qtbot.waitUntil(lambda: (host / "mod.py").read_text() == "def f():\n    return 3\n")
    aside = list(host.glob("mod.py.remote-*"))
    assert len(aside) == 1 and "return 99" in aside[0].read_text()


def test_closing_the_console_with_a_conflict_question_open_does_not_wait(
    qtbot, plugin, console, mapped_console
):
    """The question goes with the console, unanswered: nothing is overwritten, the file is
    listed as unresolved (asked again next time), and the sync's threads end."""
    shell, project, host = mapped_console
    sync = plugin.project_syncs.by_shell[shell]
    edit_on_both_sides(project, host)
    question = conflict_question(qtbot)
    client = next(c for c in console.get_clients() if c.shellwidget is shell)
    console.close_client(client=client, ask_recursive=False)
    assert not question.isVisible()  # closed with the console, not left behind
    sync.live._thread.join(10)
    assert not sync.live._thread.is_alive()
    assert sync.conflicts.unresolved == ["mod.py"]
    assert (host / "mod.py").read_text() == "def f():\n    return 99  # edited on the host\n"
    assert not list(host.glob("mod.py.remote-*"))
