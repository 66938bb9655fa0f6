"""Odd files never hang, crash or hide the good kernels (issue 14: files and command lines).

Every case of tests/oddfiles.py against the library (read, resolve, list) and the real
command (`list`, `list --json`, `resolve`), next to a real running kernel.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    ConnectionFileUnreadable,
    list_kernels,
    load_connection_spec,
    read_connection_file,
)
from tests.cli_helpers import run_cli
from tests.oddfiles import CASES, make_case, valid_text

BAD = sorted(name for name, (_make, reason) in CASES.items() if reason)


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_gives_a_typed_error_or_a_valid_file(tmp_path, name):
    path = make_case(tmp_path, name)
    reason = CASES[name][1]
    if reason is None:
        assert read_connection_file(path).shell_port == 50001
        return
    with pytest.raises(ConnectionFileError) as caught:
        read_connection_file(path)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_list_one_unreadable_row_per_bad_file_and_the_live_kernel(local_kernel, runtime_dir):
    for name in BAD:
        make_case(runtime_dir, name)
    entries = {e.kernel_id: e for e in list_kernels(str(runtime_dir), timeout=2.0)}
    live = os.path.basename(local_kernel.connection_file)[len("kernel-") : -len(".json")]
    assert entries[live].alive is True
    for name in BAD:
        assert CASES[name][1] in entries[name].error, name
        assert entries[name].alive is None

    result = run_cli("list", "--timeout", "2")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == len(BAD) + 1  # one row per file, nothing else
    (live_row,) = [row for row in rows if row.startswith(live + " ")]
    assert " alive " in live_row
    for name in BAD:
        (row,) = [r for r in rows if r.startswith(name + " ")]
        assert "unreadable: " in row and CASES[name][1] in row, row

    listed = json.loads(run_cli("list", "--json", "--timeout", "2").stdout)
    by_id = {item["kernel_id"]: item for item in listed}
    assert by_id[live]["alive"] is True
    assert all(CASES[name][1] in by_id[name]["error"] for name in BAD)


@pytest.mark.parametrize("name", BAD)
def test_resolve_command_on_a_bad_file_exits_2_with_the_reason(runtime_dir, tmp_path, name):
    path = make_case(runtime_dir, name)
    for spec in (str(path), name):  # by path and by bare ID
        result = run_cli("resolve", spec, cwd=tmp_path)
        assert result.returncode == 2, (spec, result.stdout)
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert CASES[name][1] in line, line


@pytest.mark.parametrize(
    ("make", "what"),
    [(os.mkfifo, "is a FIFO (named pipe)"), (os.mkdir, "is a directory")],
)
def test_resolve_says_what_a_fifo_or_directory_is(tmp_path, make, what):
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(ConnectionFileUnreadable, match=re.escape(what)):
        load_connection_spec(str(path))
    result = run_cli("resolve", str(path))
    assert result.returncode == 2 and what in result.stderr
    assert "No connection file matches" not in result.stderr


def test_bare_id_skips_a_same_named_directory_in_the_working_dir(runtime_dir, tmp_path):
    (tmp_path / "7777").mkdir()
    good = make_case(runtime_dir, "valid").rename(runtime_dir / "kernel-7777.json")
    result = run_cli("resolve", "7777", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{good}\n"


def test_resolve_bom_file_prints_its_path(runtime_dir, tmp_path):
    path = make_case(runtime_dir, "bom")
    result = run_cli("resolve", str(path))
    assert result.returncode == 0 and result.stdout == f"{path}\n"


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e400", "soon"])
def test_list_timeout_must_be_a_positive_finite_number(runtime_dir, value):
    result = run_cli("list", "--timeout", value)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "--timeout" in line and "Traceback" not in line


def test_file_names_with_control_characters_stay_one_row(runtime_dir):
    (runtime_dir / "kernel-a\nb.json").write_text(valid_text())
    (runtime_dir / "kernel-c\x1b[2Jd.json").write_text("{")
    result = run_cli("list", "--timeout", "0.2")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert len(rows) == 2
    assert any(row.startswith("a\\nb ") for row in rows)
    assert any(row.startswith("c\\x1b[2Jd ") and "unreadable: " in row for row in rows)
