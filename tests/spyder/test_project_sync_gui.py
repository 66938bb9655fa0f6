"""Edit here, run there, in a real Spyder main window: a remote console bound to a local
project folder (real sshd as the host, a real spyder-kernels kernel behind it)."""

from __future__ import annotations

import textwrap

import pytest

from tests.spyder.test_main_window import (  # the shared steps of the main-window tests
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
    assert sync.remote_code(f"%runfile {project / 'main.py'} --wdir {project}") == (
        f"%runfile {host / 'main.py'} --wdir {host}"
    )
    assert sync.remote_code(f"%runfile {project / 'main.py'}") == (
        f"%runfile {host / 'main.py'} --wdir"
    )
    assert sync.remote_code("print('/elsewhere')") == "print('/elsewhere')"

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
