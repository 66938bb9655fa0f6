"""Fixtures for project sync: a project folder here, a folder on the "host" (this machine,
reached through the real sshd fixture), and a session to it."""

from __future__ import annotations

import pytest

from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager


@pytest.fixture(autouse=True)
def _private_home(ssh_home, monkeypatch, tmp_path):
    """Never the real ~/.ssh; the sync record goes to a private state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return ssh_home


@pytest.fixture
def session(sshd):
    with TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT) as manager:
        yield manager.session(sshd.target())


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def host_dir(tmp_path):
    """The folder on the host (absolute path as the host sees it)."""
    return tmp_path / "on-host" / "project"


def write(path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def tree(root) -> dict[str, bytes]:
    """Every regular file below ``root`` by POSIX relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
