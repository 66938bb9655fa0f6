"""The `list` and `resolve` commands, run as a user would run them."""

from __future__ import annotations

import json
import os

import pytest

from spyder_kernel_connect.cli import main
from tests.cli_helpers import run_cli


def test_resolve_bare_id_of_real_kernel(local_kernel, runtime_dir, tmp_path):
    kernel_id = os.path.basename(local_kernel.connection_file)[7:-5]
    result = run_cli("resolve", kernel_id, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == local_kernel.connection_file + "\n"


def test_list_table_and_json(local_kernel, runtime_dir):
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["ID", "STARTED", "KERNEL", "STATUS", "FILE"]
    assert "alive" in row and local_kernel.connection_file in row
    data = json.loads(run_cli("list", "--json").stdout)
    assert data[0]["path"] == local_kernel.connection_file and data[0]["alive"] is True


@pytest.mark.parametrize(
    ("setup", "spec", "message"),
    [
        (None, "424242", "No connection file matches '424242'"),
        ("kernel-11.json kernel-12.json", "1", "'1' matches 2 connection files"),
        (None, "/no/such/dir/kernel-1.json", "No connection file matches"),
    ],
)
def test_resolve_errors_are_one_line_exit_2(runtime_dir, tmp_path, setup, spec, message):
    for name in (setup or "").split():
        (runtime_dir / name).write_text("{}")
    result = run_cli("resolve", spec, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_list_missing_runtime_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["list", "--runtime-dir", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_version_and_help_with_examples():
    assert run_cli("--version").stdout.startswith("spyder-kernel-connect ")
    help_text = run_cli("--help").stdout
    assert "examples:" in help_text and "resolve 1234" in help_text


def test_no_command_is_a_usage_error():
    result = run_cli()
    assert result.returncode == 2 and "required" in result.stderr
