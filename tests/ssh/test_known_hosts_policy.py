"""known_hosts as strictly as OpenSSH (issue 14): markers, hashed names, any-type "changed".

Each case runs the real ``ssh -o StrictHostKeyChecking=accept-new`` and our engine (with
what ``--accept-new-host-key`` does) against the same real sshd and the same known_hosts
text, and checks we are never more lenient than ssh.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from spyder_kernel_connect.ssh import (
    HostKeyChanged,
    HostKeyDecision,
    SSHError,
    TunnelManager,
    TunnelState,
)
from spyder_kernel_connect.ssh.errors import HostKeyRevoked, KnownHostsError
from tests.sshd import SSH_KEYGEN, start_sshd, stop_sshd

SSH = shutil.which("ssh")


def keygen(path, key_type: str) -> tuple[str, str]:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return tuple(path.with_suffix(".pub").read_text().split()[:2])


def ssh_accept_new(sshd, known_hosts) -> subprocess.CompletedProcess:
    """OpenSSH's own verdict on this known_hosts file (it may append a new key to it)."""
    if SSH is None:
        pytest.skip("OpenSSH client not installed")
    options = {
        "StrictHostKeyChecking": "accept-new",
        "BatchMode": "yes",
        "UserKnownHostsFile": known_hosts,
        "GlobalKnownHostsFile": "/dev/null",
    }
    login = ["-i", str(sshd.user_key), "-p", str(sshd.port), f"{sshd.user}@{sshd.host}"]
    # The sftp subsystem (EOF on stdin ends it) proves the login without running the
    # account's shell and its rc files.
    return subprocess.run(
        [SSH, "-F", "/dev/null", *(f"-o{k}={v}" for k, v in options.items()), "-s", *login, "sftp"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ours(sshd, known_hosts) -> Exception | None:
    """Our engine with --accept-new-host-key: None if it connected, else the error."""
    decide = lambda info: HostKeyDecision.ACCEPT_AND_SAVE  # noqa: E731
    try:
        with TunnelManager(host_key_decider=decide) as manager:
            manager.session(sshd.target(known_hosts=str(known_hosts))).sftp().normalize(".")
    except SSHError as err:
        return err
    return None


def server_key(sshd) -> tuple[str, str]:
    return tuple(sshd.host_key_line().split()[1:3])


def name(sshd) -> str:
    return f"[{sshd.host}]:{sshd.port}"


def case_text(case: str, sshd, tmp_path) -> str:
    key_type, blob = server_key(sshd)
    good = f"{name(sshd)} {key_type} {blob}\n"
    if case == "other-type-known":
        return "{} {} {}\n".format(name(sshd), *keygen(tmp_path / "other", "ecdsa"))
    if case == "same-type-other-key":
        return "{} {} {}\n".format(name(sshd), *keygen(tmp_path / "other", "ed25519"))
    if case == "revoked":
        return f"@revoked * {key_type} {blob}\n" + good
    if case == "cert-authority-and-key":
        return "@cert-authority * {} {}\n".format(*keygen(tmp_path / "ca", "ed25519")) + good
    if case == "cert-authority-only":
        return "@cert-authority * {} {}\n".format(*keygen(tmp_path / "ca", "ed25519"))
    if case == "negated-pattern":
        return f"*,!{name(sshd)} {key_type} {blob}\n"
    if case == "hashed":
        return good  # hashed below with ssh-keygen -H
    raise AssertionError(case)


# case → (ssh connects, our error type or None)
CASES = {
    "other-type-known": (False, HostKeyChanged),
    "same-type-other-key": (False, HostKeyChanged),
    "revoked": (False, HostKeyRevoked),
    "cert-authority-and-key": (True, None),
    "cert-authority-only": (True, None),  # new host: accepted and saved, by both
    "negated-pattern": (True, None),  # the line does not apply: new host
    "hashed": (True, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_verdict_as_openssh_accept_new(sshd, tmp_path, case):
    text = case_text(case, sshd, tmp_path)
    theirs, mine = tmp_path / "ssh_known_hosts", tmp_path / "our_known_hosts"
    for path in (theirs, mine):
        path.write_text(text)
        if case == "hashed":
            subprocess.run([SSH_KEYGEN, "-H", "-f", str(path)], check=True, capture_output=True)
            assert name(sshd) not in path.read_text()

    ssh_connects, expected = CASES[case]
    result = ssh_accept_new(sshd, theirs)
    assert (result.returncode == 0) is ssh_connects, result.stderr
    error = ours(sshd, mine)
    if expected is None:
        assert error is None
    else:
        assert type(error) is expected, error
        assert mine.read_text() == text  # a refused key is never saved
    if case == "revoked":
        assert "REVOKED HOST KEY" in str(error) and "revoked" in result.stderr
    if case == "other-type-known":
        assert "changed" in result.stderr and "CHANGED" in str(error)
    if case == "cert-authority-only":  # both saved the key they accepted
        assert server_key(sshd)[1] in theirs.read_text()
        assert server_key(sshd)[1] in mine.read_text()


@pytest.mark.parametrize("make", ["directory", "fifo", "binary"])
def test_unusable_known_hosts_file_is_a_plain_error(sshd, tmp_path, make):
    path = tmp_path / "kh"
    if make == "directory":
        path.mkdir()
    elif make == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(bytes(range(256)) * 4)
    error = ours(sshd, path)
    assert isinstance(error, KnownHostsError), error
    assert str(path) in str(error) and "\n" not in str(error)


@pytest.fixture
def swap_sshd(tmp_path_factory):
    """A private sshd whose host key can be swapped to an ECDSA one while clients are on."""
    server = start_sshd(tmp_path_factory.mktemp("swap-sshd"))
    yield server
    stop_sshd(server)


def swap_host_key(server, tmp_path) -> None:
    """Give the server a new key of another type (SIGHUP: sshd re-reads its config) and drop
    the live connections, so clients must reconnect to the new key."""
    keygen(server.directory / "host_ecdsa", "ecdsa")
    config = server.config_path.read_text()
    server.config_path.write_text(
        config.replace(f"HostKey {server.host_key}", f"HostKey {server.directory / 'host_ecdsa'}")
    )
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the re-executed listener answers with the new key
        scan = subprocess.run(
            ["ssh-keyscan", "-p", str(server.port), server.host], capture_output=True, text=True
        )
        if "ecdsa" in scan.stdout:
            break
        time.sleep(0.2)
    server.kill_connections()


@pytest.mark.parametrize("trust", ["known_hosts", "accepted-once"])
def test_key_swapped_during_a_session_is_refused_on_reconnect(swap_sshd, tmp_path, trust):
    if shutil.which("ssh-keyscan") is None:
        pytest.skip("ssh-keyscan not installed")
    path = tmp_path / "known_hosts"
    if trust == "known_hosts":
        path.write_text(swap_sshd.host_key_line())
    down = threading.Event()
    events = []

    def on_state(event) -> None:
        events.append(event)
        if event.state is TunnelState.DOWN:
            down.set()

    manager = TunnelManager(
        host_key_decider=lambda info: HostKeyDecision.ACCEPT_ONCE,
        on_state=on_state,
        keepalive_interval=1.0,
        keepalive_timeout=3.0,
    )
    try:
        session = manager.session(swap_sshd.target(known_hosts=str(path)))
        assert session.sftp().normalize(".")
        swap_host_key(swap_sshd, tmp_path)
        assert down.wait(60), [e.message for e in events]
        assert "CHANGED" in events[-1].message
        with pytest.raises(SSHError, match="down"):
            session.transport  # noqa: B018 - no traffic over a key that changed
    finally:
        manager.close_all()


def test_known_rsa_key_of_a_host_with_several_keys_is_asked_for(swap_sshd, tmp_path):
    """Only the server's RSA key is known: we ask for rsa-sha2-* first, as ssh does, so the
    host presents that key instead of its ed25519 one (which would be "changed")."""
    rsa_key = swap_sshd.directory / "host_rsa"
    keygen(rsa_key, "rsa")
    config = swap_sshd.config_path.read_text()
    swap_sshd.config_path.write_text(config.replace("HostKey ", f"HostKey {rsa_key}\nHostKey ", 1))
    os.kill(swap_sshd.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        scan = subprocess.run(
            ["ssh-keyscan", "-t", "rsa", "-p", str(swap_sshd.port), swap_sshd.host],
            capture_output=True,
            text=True,
        )
        if "ssh-rsa" in scan.stdout:
            break
        time.sleep(0.2)
    key_type, blob = rsa_key.with_suffix(".pub").read_text().split()[:2]
    text = f"{name(swap_sshd)} {key_type} {blob}\n"
    theirs, mine = tmp_path / "theirs", tmp_path / "mine"
    theirs.write_text(text)
    mine.write_text(text)
    assert ssh_accept_new(swap_sshd, theirs).returncode == 0
    assert ours(swap_sshd, mine) is None
    assert mine.read_text() == text  # nothing new saved: the known key was used


def test_accepted_key_that_cannot_be_saved_is_a_plain_error(sshd, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("")
    error = ours(sshd, a_file / "known_hosts")  # its directory is a file
    assert isinstance(error, KnownHostsError) and "Not a directory" in str(error), error
    error = ours(sshd, "/proc/skc-known-hosts")  # absent, and nobody may create it
    assert isinstance(error, KnownHostsError) and "Cannot save the host key" in str(error)
