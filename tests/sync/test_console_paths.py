"""ConsolePaths on a real ProjectSync mapping: what a console sends names the host's copy,
what the kernel sends back names the local file (the main-window tests run it end to end)."""

from __future__ import annotations

import os

import pytest

from spyder_kernel_connect.spyder.console_paths import ConsolePaths
from spyder_kernel_connect.sync import ProjectSync

pytestmark = pytest.mark.sshd


@pytest.fixture
def paths(session, project, host_dir) -> ConsolePaths:
    return ConsolePaths(ProjectSync(session, str(project), str(host_dir)))


def test_runs_of_project_files_name_the_hosts_copy(paths, project, host_dir):
    local, host = project / "main.py", host_dir / "main.py"
    assert paths.remote_code(f"%runfile {local}") == f"%runfile {host} --wdir"
    assert paths.remote_code(f"%debugfile {local} --wdir {project}") == (
        f"%debugfile {host} --wdir {host_dir}"
    )
    assert paths.remote_code(f"%runcell -i 0 {local}") == f"%runcell -i 0 {host}"  # no --wdir
    for untouched in (
        "%runfile /elsewhere/main.py",  # not a file of the project
        f"print('{local}')",  # not a run
        f"%runfile {local}\nprint(1)",  # more than one line: the user's own code
        f"%runfile '{local}",  # unbalanced quote: left for the kernel to reject
    ):
        assert paths.remote_code(untouched) == untouched


def test_host_paths_in_errors_become_local_but_stdout_is_left_alone(paths, project, host_dir):
    host_file = f"{host_dir}/pkg/mod.py"
    local_file = os.path.join(project, "pkg", "mod.py")
    error = {
        "header": {"msg_type": "error"},
        "content": {
            "traceback": [f'File "{host_file}", line 2', None],
            "evalue": f"bad {host_dir}2/other.py and {host_dir}",  # a longer name stays
        },
    }
    shown = paths.local_error(error)
    assert shown["content"]["traceback"] == [f'File "{local_file}", line 2', None]
    assert shown["content"]["evalue"] == f"bad {host_dir}2/other.py and {project}"
    assert error["content"]["traceback"][0] == f'File "{host_file}", line 2'  # not mutated

    stderr = {"content": {"name": "stderr", "text": f"warning in {host_file}:3\n"}}
    assert paths.local_stream(stderr)["content"]["text"] == f"warning in {local_file}:3\n"
    stdout = {"content": {"name": "stdout", "text": f"file {host_file}\n"}}
    assert paths.local_stream(stdout) is stdout  # the program's data: where it really runs


def test_clicks_debugger_steps_and_breakpoints_cross_the_mapping(paths, project, host_dir):
    host_file, local_file = f"{host_dir}/mod.py", os.path.join(project, "mod.py")
    assert paths.translate_goto(f'  File "{host_file}", line 2, in f') == (
        f'  File "{local_file}", line 2, in f'
    )
    assert paths.translate_goto("  File /elsewhere/x.py:3") == "  File /elsewhere/x.py:3"
    state = paths.local_pdb_state({"step": {"fname": host_file, "lineno": 2}})
    assert state["step"]["fname"] == local_file
    sent = paths.remote_breakpoints({"breakpoints": {local_file: [2], "/elsewhere/x.py": [1]}})
    assert sent["breakpoints"] == {host_file: [2], "/elsewhere/x.py": [1]}
