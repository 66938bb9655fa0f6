"""Resolving what a user types into one connection file."""

from __future__ import annotations

import json
import os

import pytest

from spyder_kernel_connect.connection import (
    AmbiguousConnectionSpec,
    ConnectionFileNotFound,
    candidate_names,
    resolve_connection_file,
)

INFO = {
    "shell_port": 1,
    "iopub_port": 2,
    "stdin_port": 3,
    "control_port": 4,
    "hb_port": 5,
    "ip": "127.0.0.1",
    "key": "k",
    "transport": "tcp",
    "signature_scheme": "hmac-sha256",
}


def touch(path, data=INFO):
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_real_kernel_by_bare_id_kernel_id_and_path(local_kernel, runtime_dir, workdir):
    path = local_kernel.connection_file
    kernel_id = os.path.basename(path)[len("kernel-") : -len(".json")]
    assert resolve_connection_file(kernel_id) == path
    assert resolve_connection_file(f"kernel-{kernel_id}") == path
    assert resolve_connection_file(f"kernel-{kernel_id}.json") == path
    assert resolve_connection_file(path) == path
    rel = os.path.relpath(path, workdir)
    assert resolve_connection_file(rel) == path


def test_home_and_quotes(tmp_path, monkeypatch, runtime_dir, workdir):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = touch(tmp_path / "copied.json")
    assert resolve_connection_file("~/copied.json") == path
    assert resolve_connection_file(f'"{path}"') == path
    assert resolve_connection_file(f"  {path} ") == path


def test_name_with_json_is_never_prefixed(runtime_dir, workdir):
    """spyder#25337: remotemachine.json must not become kernel-remotemachine.json."""
    touch(runtime_dir / "kernel-remotemachine.json")
    assert candidate_names("remotemachine.json") == ["remotemachine.json"]
    with pytest.raises(ConnectionFileNotFound):
        resolve_connection_file("remotemachine.json")
    wanted = touch(runtime_dir / "remotemachine.json")
    assert resolve_connection_file("remotemachine.json") == wanted


def test_file_in_cwd_found_before_runtime_dir(runtime_dir, workdir):
    touch(runtime_dir / "kernel-7.json")
    local = touch(workdir / "kernel-7.json")
    assert resolve_connection_file("7") == local


def test_unique_prefix_and_glob(runtime_dir, workdir):
    a = touch(runtime_dir / "kernel-3f2a9c.json")
    b = touch(runtime_dir / "kernel-3f77aa.json")
    assert resolve_connection_file("3f2") == a
    assert resolve_connection_file("kernel-3f7*") == b


def test_ambiguous_lists_candidates_and_picks_none(runtime_dir, workdir):
    a = touch(runtime_dir / "kernel-12345.json")
    b = touch(runtime_dir / "kernel-12399.json")
    with pytest.raises(AmbiguousConnectionSpec) as info:
        resolve_connection_file("123")
    assert info.value.candidates == sorted([a, b])
    assert "matches 2 connection files" in str(info.value)
    assert a in str(info.value) and b in str(info.value)


def test_not_found_names_the_directories(runtime_dir, workdir):
    with pytest.raises(ConnectionFileNotFound) as info:
        resolve_connection_file("999999")
    assert str(runtime_dir) in str(info.value) and str(workdir) in str(info.value)


def test_missing_path_with_directory_is_not_searched_elsewhere(runtime_dir, workdir, tmp_path):
    touch(runtime_dir / "kernel-5.json")
    with pytest.raises(ConnectionFileNotFound) as info:
        resolve_connection_file(str(tmp_path / "elsewhere" / "kernel-5.json"))
    assert str(tmp_path / "elsewhere") in str(info.value)


def test_empty_spec(runtime_dir, workdir):
    with pytest.raises(ConnectionFileNotFound):
        resolve_connection_file("   ")


def test_non_json_files_are_not_fuzzy_matches(runtime_dir, workdir):
    (runtime_dir / "kernel-55.json.lock").write_text("")
    with pytest.raises(ConnectionFileNotFound):
        resolve_connection_file("55")


def test_name_matching_rules_on_plain_lists():
    """The same rules serve a remote runtime dir listed over SFTP."""
    from spyder_kernel_connect.connection import exact_match, fuzzy_matches

    names = ["kernel-1234.json", "kernel-12345.json", "remote.json", "notes.txt"]
    assert exact_match("1234", names) == "kernel-1234.json"
    assert exact_match("remote", names) == "remote.json"
    assert exact_match("remote.json", names) == "remote.json"
    assert exact_match("123", names) is None
    assert fuzzy_matches("123", names) == ["kernel-1234.json", "kernel-12345.json"]
    assert fuzzy_matches("kernel-1234?.json", names) == ["kernel-12345.json"]
    assert fuzzy_matches("notes", names) == []
    assert fuzzy_matches("other.json", names) == []
