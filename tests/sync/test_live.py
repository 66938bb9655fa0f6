"""Saves pushed in order, a run that waits for them, and the UMR reloading on the host."""

from __future__ import annotations

import os
import sys
import threading
import uuid

import pytest
from jupyter_client import KernelManager

from spyder_kernel_connect.sync import LiveSync, ProjectSync
from tests.sync.conftest import write

pytestmark = pytest.mark.sshd


@pytest.fixture
def host_kernel(host_dir, runtime_dir, monkeypatch):
    """A real kernel on the "host" whose working dir is the synced folder, UMR loaded."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # .pyc written, as for users
    host_dir.mkdir(parents=True, exist_ok=True)
    km = KernelManager(
        connection_file=str(runtime_dir / f"kernel-{uuid.uuid4().hex[:8]}.json"),
        kernel_name="python3",
    )
    km.kernel_spec.argv[:] = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    km.start_kernel(env=dict(os.environ), cwd=str(host_dir))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)

    def run(code: str) -> str:
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        client.execute_interactive(code, timeout=60, output_hook=hook)
        return "".join(out)

    run(f"import sys; sys.path.insert(0, {str(host_dir)!r})")
    assert "Error" not in run("%load_ext spyder_kernel_connect.umr")
    yield run
    client.stop_channels()
    km.shutdown_kernel(now=True)
    km.cleanup_resources()


def test_save_then_run_fifty_times_in_the_same_second_never_runs_stale_code(
    session, project, host_dir, host_kernel
):
    write(project / "helper.py", "def value():\n    return 0\n")
    write(project / "mod.py", "from helper import value\n\ndef answer():\n    return value()\n")
    sync = ProjectSync(session, str(project), str(host_dir))
    sync.push_all()
    assert host_kernel("import mod; print(mod.answer())").strip() == "0"
    live = LiveSync(sync)
    reloaded_lines = 0
    try:
        for index in range(1, 51):
            # Same size, same second: only the content tells the versions apart.
            write(project / "helper.py", f"def value():\n    return {index % 10}\n")
            live.notify_saved(str(project / "helper.py"))
            assert live.flush(timeout=30)  # what the plugin does before sending a run
            out = host_kernel("print(mod.answer())")
            assert out.strip().splitlines()[-1] == str(index % 10), out
            reloaded_lines += "Reloaded modules: " in out
    finally:
        live.close()
    assert reloaded_lines == 50  # the UMR's red line, for the dependent too, every time


def test_flush_waits_only_for_what_was_saved_before_it(session, project, host_dir):
    write(project / "a.py", "A = 0\n")
    sync = ProjectSync(session, str(project), str(host_dir))
    sync.push_all()
    events = []
    live = LiveSync(sync, on_event=events.append)
    try:
        for index in range(30):
            write(project / "a.py", f"A = {index}\n")
            ticket = live.notify_saved(str(project / "a.py"))
            assert live.flush(timeout=30, ticket=ticket)
            assert (host_dir / "a.py").read_text() == f"A = {index}\n"
        assert all(event.error is None for event in events)
        assert live.idle
    finally:
        live.close()


def test_a_failed_save_is_reported_and_retried_with_the_next_save(session, project, host_dir):
    write(project / "pkg" / "m.py", "M = 1\n")
    write(project / "top.py", "T = 1\n")
    sync = ProjectSync(session, str(project), str(host_dir))
    sync.push_all()
    events = []
    live = LiveSync(sync, on_event=events.append)
    try:
        (host_dir / "pkg" / "m.py").unlink()
        (host_dir / "pkg").rmdir()
        write(host_dir / "pkg", "now a file on the host\n")  # the push cannot land
        write(project / "pkg" / "m.py", "M = 2\n")
        live.notify_saved(str(project / "pkg" / "m.py"))
        assert live.flush(timeout=30)
        assert events[-1].error is not None and "pkg/m.py" in str(events[-1].error)

        (host_dir / "pkg").unlink()
        write(project / "top.py", "T = 2\n")
        live.notify_saved(str(project / "top.py"))  # the next save retries the failed one
        assert live.flush(timeout=30)
        assert events[-1].error is None
        assert sorted(events[-1].report.pushed) == ["pkg/m.py", "top.py"]
        assert (host_dir / "pkg" / "m.py").read_text() == "M = 2\n"
    finally:
        live.close()


def test_watch_pushes_changes_and_deletions_until_stopped(session, project, host_dir):
    write(project / "a.py", "A = 1\n")
    write(project / "b.py", "B = 1\n")
    sync = ProjectSync(session, str(project), str(host_dir))
    sync.push_all()
    live = LiveSync(sync)
    stop = threading.Event()
    watcher = threading.Thread(target=live.watch, args=(stop, 0.05))
    watcher.start()
    try:
        write(project / "a.py", "A = 'watched'\n")
        write(project / "new" / "c.py", "C = 1\n")
        (project / "b.py").unlink()
        deadline = threading.Event()
        for _ in range(1200):  # up to a minute on a loaded machine
            if (
                (host_dir / "a.py").read_text() == "A = 'watched'\n"
                and (host_dir / "new" / "c.py").exists()
                and not (host_dir / "b.py").exists()
            ):
                break
            deadline.wait(0.05)
        assert (host_dir / "a.py").read_text() == "A = 'watched'\n"
        assert (host_dir / "new" / "c.py").read_text() == "C = 1\n"
        assert not (host_dir / "b.py").exists()
    finally:
        stop.set()
        watcher.join(10)
        live.close()
    assert not watcher.is_alive()


def test_a_file_caught_half_written_still_ends_whole_on_the_host(session, project, host_dir):
    """The watcher may read a file the editor is still writing (truncated, then filled).
    What is recorded as pushed is what was sent, so the finished file is pushed again —
    never taken for "already there" (its final content hashed after the send)."""
    write(project / "a.py", "A = 0\n")
    sync = ProjectSync(session, str(project), str(host_dir))
    sync.push_all()
    live = LiveSync(sync)
    stop = threading.Event()
    watcher = threading.Thread(target=live.watch, args=(stop, 0.002))  # scans all the time
    watcher.start()
    try:
        for index in range(1, 31):
            expected = f"A = {index!r}  # {'x' * index}\n"
            write(project / "a.py", expected)
            for _ in range(200):  # converges within milliseconds; ten seconds at most
                if (host_dir / "a.py").read_text() == expected:
                    break
                threading.Event().wait(0.05)
            assert (host_dir / "a.py").read_text() == expected, f"stale after save {index}"
    finally:
        stop.set()
        watcher.join(10)
        live.close()
