"""Host key verification: unknown → decider; accepted keys saved; changed keys always refused."""

from __future__ import annotations

import pytest

from spyder_kernel_connect.ssh import (
    HostKeyChanged,
    HostKeyDecision,
    HostKeyRejected,
    TunnelManager,
)
from tests.sshd import keygen

pytestmark = pytest.mark.sshd


def server_fingerprint(sshd) -> str:
    import subprocess

    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{sshd.host_key}.pub"], capture_output=True, text=True
    ).stdout
    return out.split()[1]


def test_unknown_host_key_refused_shows_fingerprint(sshd, manager, tmp_path):
    empty = tmp_path / "known_hosts"
    with pytest.raises(HostKeyRejected, match="unknown") as info:
        manager.session(sshd.target(known_hosts=str(empty)))
    assert server_fingerprint(sshd) in str(info.value)
    [asked] = manager.decisions
    assert (asked.hostname, asked.port, asked.key_type) == (sshd.host, sshd.port, "ssh-ed25519")
    assert asked.fingerprint == server_fingerprint(sshd)
    assert asked.known_hosts_path == str(empty)
    assert not empty.exists()  # nothing saved
    assert sshd.auth_count() >= 0 and manager.sessions == []


def test_no_decider_means_refuse(sshd, tmp_path):
    with TunnelManager() as mgr, pytest.raises(HostKeyRejected):
        mgr.session(sshd.target(known_hosts=str(tmp_path / "none")))


def test_accept_once_is_not_saved(sshd, tmp_path):
    path = tmp_path / "known_hosts"
    with TunnelManager(host_key_decider=lambda info: HostKeyDecision.ACCEPT_ONCE) as mgr:
        assert mgr.session(sshd.target(known_hosts=str(path))).run("echo ok")[1] == "ok\n"
    assert not path.exists()


def test_accept_and_save_then_trusted_without_asking(sshd, ssh_home, tmp_path):
    path = tmp_path / "sub" / "known_hosts"
    with TunnelManager(host_key_decider=lambda info: HostKeyDecision.ACCEPT_AND_SAVE) as mgr:
        mgr.session(sshd.target(known_hosts=str(path)))
    assert path.read_text() == sshd.host_key_line()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with TunnelManager(host_key_decider=None) as mgr:  # would refuse if asked
        assert mgr.session(sshd.target(known_hosts=str(path))).run("echo ok")[0] == 0
    # Without an extra file, keys are saved to (and read from) ~/.ssh/known_hosts.
    user_file = ssh_home / ".ssh" / "known_hosts"
    with TunnelManager(host_key_decider=lambda info: HostKeyDecision.ACCEPT_AND_SAVE) as mgr:
        mgr.session(sshd.target(known_hosts=None))
    assert user_file.read_text() == sshd.host_key_line()


def test_changed_host_key_always_refused(sshd, tmp_path):
    impostor = keygen(tmp_path / "impostor")
    key_type, blob = impostor.with_suffix(".pub").read_text().split()[:2]
    path = tmp_path / "known_hosts"
    path.write_text(f"[{sshd.host}]:{sshd.port} {key_type} {blob}\n")
    asked = []
    decider = lambda info: asked.append(info) or HostKeyDecision.ACCEPT_AND_SAVE  # noqa: E731
    with (
        TunnelManager(host_key_decider=decider) as mgr,
        pytest.raises(HostKeyChanged, match="CHANGED") as info,
    ):
        mgr.session(sshd.target(known_hosts=str(path)))
    assert "man-in-the-middle" in str(info.value) and "ssh-keygen -R" in str(info.value)
    assert asked == []  # never offered to the user
    assert path.read_text().count("\n") == 1  # and never overwritten


def test_failing_decider_refuses(sshd, tmp_path):
    def broken(info):
        raise RuntimeError("dialog crashed")

    with (
        TunnelManager(host_key_decider=broken) as mgr,
        pytest.raises(HostKeyRejected, match="dialog crashed"),
    ):
        mgr.session(sshd.target(known_hosts=str(tmp_path / "none")))
