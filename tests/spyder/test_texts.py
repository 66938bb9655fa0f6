"""The words Spyder shows for engine values: resolution lines, kernel rows, progress."""

from __future__ import annotations

import time

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.service import Progress, Step, resolve_local
from spyder_kernel_connect.spyder.texts import (
    describe_kernel,
    describe_resolution,
    no_keyring_text,
    progress_text,
)


def describe_spec(spec: str, remote: bool = False):
    return describe_resolution(resolve_local(spec), remote)


def test_bare_id_resolves_in_the_runtime_dir(runtime_dir, dead_kernel_file):
    path = dead_kernel_file(runtime_dir, "4321")
    status = describe_spec("4321")
    assert status.ok
    assert status.path == str(path)
    assert status.message == f"Resolves to {path}"
    missing = describe_spec("9999")
    assert not missing.ok
    assert "No connection file matches '9999'" in missing.message
    assert describe_spec("9999", remote=True).ok  # the remote host will be asked


def test_describe_spec_empty_asks_for_input():
    status = describe_spec("  ")
    assert not status.ok
    assert status.message == "Or pick a kernel from the list below."


def test_kernel_rows_mark_dead_and_unreadable_kernels():
    now = time.time()
    alive = describe_kernel(KernelEntry("1", "/r/kernel-1.json", now - 120, "python3", True), now)
    assert alive.text == "1  \u00b7  python3  \u00b7  written 2 min ago"
    assert alive.selectable and alive.alive
    dead = describe_kernel(KernelEntry("2", "/r/kernel-2.json", now, "", False), now)
    assert dead.text.endswith("not responding")
    assert dead.selectable and not dead.alive
    broken = KernelEntry("3", "/r/kernel-3.json", now, error="not JSON")
    row = describe_kernel(broken, now)
    assert not row.selectable
    assert row.tooltip == "not JSON"


def test_remote_bare_id_resolves_to_a_local_copy_first_then_the_host(
    runtime_dir, tmp_path, dead_kernel_file
):
    """The guide's steps: copy the kernel's file here, type its ID, tick the SSH box."""
    path = dead_kernel_file(runtime_dir, "4321")
    status = describe_spec("4321", remote=True)
    assert status.ok and status.path == path
    copy = dead_kernel_file(tmp_path, "copied")
    assert describe_spec(copy, remote=True).path == copy
    elsewhere = describe_spec("9999", remote=True)
    assert elsewhere.ok and elsewhere.path is None  # the host will be asked
    assert str(runtime_dir) in elsewhere.message and "SSH host" in elsewhere.message
    (runtime_dir / "kernel-broken.json").write_text("{")
    broken = describe_spec("broken", remote=True)
    assert not broken.ok and "not valid JSON" in broken.message  # not hidden by the host


def test_remote_rows_say_why_a_file_is_unreadable():
    entry = KernelEntry(
        "x",
        "/r/kernel-x.json",
        time.time(),
        error="Remote connection file /r/kernel-x.json "
        "is empty (the kernel may still be starting).",
    )
    row = describe_kernel(entry, reason_in_text=True)
    assert row.text.endswith("unreadable: empty (the kernel may still be starting)")
    assert describe_kernel(entry).text.endswith("unreadable")


def test_progress_steps_have_words():
    for step in Step:
        text = progress_text(Progress(step, host="me@lab", spec="1234", python="python3"))
        assert text.endswith("...") and "{" not in text
    assert progress_text(Progress(Step.LOGIN, host="me@lab")) == (
        "Connecting to me@lab through SSH..."
    )


def test_no_keyring_notice_says_what_is_not_saved_once():
    text = no_keyring_text(("password",), "No system keyring is available.")
    assert text.startswith("The password will not be saved: No system keyring")
    assert "are saved" not in text and "keyrings.alt" not in text
    assert text.count("saved") == 1
