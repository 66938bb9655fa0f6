"""Listing local kernels: newest first, each probed, dead ones marked."""

from __future__ import annotations

import json
import os
import signal
import socket
import time

from spyder_kernel_connect.connection import kernel_id_from_path, list_kernels


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_file(directory, name, mtime=None):
    port = free_port()  # nothing listens there once the socket is closed
    data = {
        "shell_port": port,
        "iopub_port": port,
        "stdin_port": port,
        "control_port": port,
        "hb_port": port,
        "ip": "127.0.0.1",
        "key": "x",
        "transport": "tcp",
        "signature_scheme": "hmac-sha256",
        "kernel_name": "ghost",
    }
    path = directory / name
    path.write_text(json.dumps(data))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_live_kernel_listed_alive_then_dead_after_kill(kernel_factory, runtime_dir):
    km = kernel_factory()
    entries = list_kernels()
    assert [e.path for e in entries] == [km.connection_file]
    assert entries[0].alive is True
    assert entries[0].kernel_name == "python3"
    assert entries[0].kernel_id == kernel_id_from_path(km.connection_file)

    os.kill(km.provisioner.pid, signal.SIGKILL)
    km.provisioner.process.wait()
    entries = list_kernels()
    assert [(e.path, e.alive) for e in entries] == [(km.connection_file, False)]


def test_newest_first_and_unreadable_listed_with_reason(runtime_dir):
    now = time.time()
    dead_file(runtime_dir, "kernel-old.json", now - 300)
    dead_file(runtime_dir, "kernel-new.json", now - 10)
    broken = runtime_dir / "kernel-broken.json"
    broken.write_text("{not json")
    os.utime(broken, (now - 100, now - 100))
    (runtime_dir / "jpserver-1.json").write_text("{}")  # not a kernel: not listed
    entries = list_kernels(timeout=0.2)
    assert [e.kernel_id for e in entries] == ["new", "broken", "old"]
    assert entries[1].alive is None and "not valid JSON" in entries[1].error
    assert entries[0].alive is False and entries[0].kernel_name == "ghost"


def test_many_dead_kernels_are_probed_concurrently(runtime_dir, kernel_factory):
    km = kernel_factory()
    for i in range(200):
        dead_file(runtime_dir, f"kernel-dead{i}.json")
    started = time.monotonic()
    entries = list_kernels(timeout=0.5)
    elapsed = time.monotonic() - started
    assert len(entries) == 201
    assert [e.path for e in entries if e.alive] == [km.connection_file]
    # Sequential probing would need 200 × 0.5 s; concurrent probing needs one timeout.
    assert elapsed < 20, elapsed


def test_empty_or_missing_runtime_dir(tmp_path):
    assert list_kernels(str(tmp_path / "missing")) == []
