"""Fuzz the connection-file layer and the commands that read files (issue 14, "Tests").

Generated inputs (hypothesis) and a corpus of filesystem oddities (tests/oddfiles.py:
FIFOs, symlink loops, directories, 5 MB files, deep nesting, huge integers, surrogates,
BOMs, UTF-16/32) go through ``resolve``, ``list``, ``list --json`` and a sample of
``tunnel``. The rules: no traceback, no hang (every run is bounded), exit 2 for every
user error, and one bad file never hides the others. In-process properties take the
bulk of the examples; the real command runs fewer, since each run starts Python.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import string
import subprocess
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    ConnectionInfo,
    decode_connection_file,
    list_kernels,
    load_connection_spec,
    resolve_connection_file,
    write_connection_file,
)
from tests.cli_helpers import run_cli, start_cli
from tests.oddfiles import CASES, VALID, make_case

FAST = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(FAST, max_examples=15)  # each example starts the real command
RUN_TIMEOUT = 60  # seconds; a run that takes longer is a hang

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
# A valid file with some fields replaced by anything, or a field removed.
mutated_files = st.builds(
    lambda changes, removed: {
        **{k: v for k, v in VALID.items() if k not in removed},
        **changes,
    },
    st.dictionaries(st.sampled_from([*sorted(VALID), "extra"]), json_values, max_size=3),
    st.sets(st.sampled_from(sorted(VALID)), max_size=2),
)


def encodings(data) -> st.SearchStrategy[bytes]:
    text = json.dumps(data, ensure_ascii=False)
    return st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1"]).map(
        lambda enc: text.encode(enc, errors="surrogatepass" if "utf" in enc else "replace")
    )


file_bytes = (
    st.binary(max_size=2000)
    | mutated_files.flatmap(encodings)
    | json_values.map(lambda v: json.dumps(v).encode())
)


def run_checked(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    """The command on hostile input: exit 0 or one plain line with exit 2, never a crash."""
    result = run_cli(*args, cwd=cwd, env=env, timeout=RUN_TIMEOUT, errors="replace")
    assert "Traceback" not in result.stderr, result.stderr
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), (args, result.returncode, result.stderr)
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1, result.stderr
    return result


# ---- in-process properties -------------------------------------------------------------


@FAST
@given(raw=file_bytes)
def test_decode_gives_a_usable_info_or_a_typed_error(raw):
    try:
        info = decode_connection_file(raw, "/fuzz/kernel-1.json")
    except ConnectionFileError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert isinstance(info, ConnectionInfo)
    # Whatever passed validation can be written back, printed and addressed.
    json.dumps(info.to_dict(), ensure_ascii=False).encode("utf-8")
    info.kernel_name.encode("utf-8")
    assert info.address("hb_port")


@FAST
@given(raw=file_bytes)
def test_written_back_files_read_the_same(tmp_path_factory, raw):
    try:
        info = decode_connection_file(raw, "/fuzz/kernel-1.json")
    except ConnectionFileError:
        return
    path = write_connection_file(tmp_path_factory.mktemp("w") / "kernel-w.json", info)
    again = load_connection_spec(path)
    assert again.ports == info.ports and again.ip == info.ip and again.key == info.key


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    """Every oddity of tests/oddfiles.py in one runtime dir."""
    directory = tmp_path_factory.mktemp("corpus")
    for name in CASES:
        make_case(directory, name)
    return directory


spec_text = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40
) | st.sampled_from([f"kernel-{n}.json" for n in CASES] + list(CASES) + ["*", "k*", "?", "["])


@FAST
@given(spec=spec_text)
def test_resolve_answers_a_path_or_a_typed_error(corpus_dir, spec):
    try:
        path = resolve_connection_file(spec, [str(corpus_dir)])
    except ConnectionFileError as err:
        assert "\n" not in str(err)
        return
    assert os.path.isabs(path)
    with contextlib.suppress(ConnectionFileError):
        load_connection_spec(path)


@settings(FAST, max_examples=60)
@given(contents=st.lists(file_bytes, min_size=1, max_size=6))
def test_list_keeps_every_file_and_never_raises(tmp_path_factory, contents):
    directory = tmp_path_factory.mktemp("list")
    for index, raw in enumerate(contents):
        (directory / f"kernel-{index}.json").write_bytes(raw)
    make_case(directory, "valid")
    entries = list_kernels(str(directory), probe=False)
    assert len(entries) == len(contents) + 1
    assert next(e for e in entries if e.kernel_id == "valid").error is None
    for entry in entries:
        assert (entry.error is None) != (entry.info is None)
        json.dumps(entry.to_json())


# ---- the real command over the corpus ----------------------------------------------------


def test_list_and_list_json_over_the_corpus(corpus_dir):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(corpus_dir))
    table = run_checked("list", "--timeout", "0.2", env=env)
    assert table.returncode == 0
    rows = table.stdout.splitlines()[1:]
    assert len(rows) == len(CASES)  # one row per file, good or bad
    for name, (_make, reason) in CASES.items():
        (row,) = [r for r in rows if r.startswith(f"{name} ")]
        assert ("unreadable: " in row) == (reason is not None), row
    listed = json.loads(run_checked("list", "--json", "--timeout", "0.2", env=env).stdout)
    assert sorted(item["kernel_id"] for item in listed) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_resolve_command_over_the_corpus(corpus_dir, tmp_path, name):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(corpus_dir))
    for spec in (corpus_dir / f"kernel-{name}.json", name):
        result = run_checked("resolve", spec, cwd=tmp_path, env=env)
        assert result.returncode == (0 if CASES[name][1] is None else 2), result.stderr


@pytest.fixture(scope="module")
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once closed


TUNNEL_SAMPLE = ["fifo", "link-loop", "dev-zero", "huge-int", "surrogate-ip", "utf16", "valid"]


@pytest.mark.parametrize("name", TUNNEL_SAMPLE)
def test_tunnel_over_a_sample_of_the_corpus(corpus_dir, tmp_path, closed_port, name):
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = dict(os.environ, HOME=str(home))
    env.pop("SSH_AUTH_SOCK", None)
    spec = corpus_dir / f"kernel-{name}.json"
    result = run_checked("tunnel", f"me@127.0.0.1:{closed_port}", spec, "--timeout", "5", env=env)
    assert result.returncode == 2
    reason = CASES[name][1]
    assert (reason or "refused") in result.stderr


@SLOW
@given(spec=spec_text)
def test_resolve_command_with_generated_specs(corpus_dir, tmp_path_factory, spec):
    if spec.startswith("-"):
        spec = "./" + spec  # an option, not a spec
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(corpus_dir))
    run_checked("resolve", spec, cwd=tmp_path_factory.mktemp("cwd"), env=env)


@SLOW
@given(
    timeout=st.sampled_from(["inf", "-inf", "nan", "0", "-1", "1e309", "", "0x10", "١"])
    | st.text(string.printable, max_size=8)
)
def test_list_timeout_values(corpus_dir, timeout):
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(corpus_dir))
    run_checked("list", f"--timeout={timeout}", env=env)


# ---- SIGTERM in each step that waits -------------------------------------------------------


@pytest.mark.parametrize(
    "step", ["list-with-fifos", "tunnel-fifo-spec", "tunnel-key-fifo", "tunnel-connect"]
)
def test_sigterm_in_each_waiting_step_ends_the_command(corpus_dir, tmp_path, step):
    """The command ends soon after SIGTERM, whatever it was doing, with at most one line."""
    from tests.hostile import hostile_server

    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), JUPYTER_RUNTIME_DIR=str(corpus_dir))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with hostile_server("black-hole") as port:
        host = f"me@127.0.0.1:{port}"
        args = {
            "list-with-fifos": ["list", "--timeout", "30"],
            "tunnel-fifo-spec": ["tunnel", host, fifo, "--timeout", "600"],
            "tunnel-key-fifo": ["tunnel", host, corpus_dir / "kernel-valid.json", "-i", fifo],
            "tunnel-connect": ["tunnel", host, corpus_dir / "kernel-valid.json"],
        }[step]
        process = start_cli(*args, env=env)
        time.sleep(1.5)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            _out, err = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"{step}: still running {RUN_TIMEOUT} s after SIGTERM")
    assert "Traceback" not in err
    assert len(err.splitlines()) <= 1, err
