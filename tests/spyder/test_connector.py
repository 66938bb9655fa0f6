"""One connection attempt as the worker thread runs it, without a window."""

from __future__ import annotations

import os
import threading
import time

import pytest

from spyder_kernel_connect.presets import ConnectionSettings
from spyder_kernel_connect.spyder.connector import (
    ConnectionCancelled,
    HostKeyQuestion,
    KernelNotAnswering,
    connect_blocking,
)
from tests.spyder.test_dialog import dead_kernel_file


def no_manager():
    raise AssertionError("a local connection must not create a tunnel manager")


def test_local_kernel_by_id_answers(kernel_factory):
    km = kernel_factory(kernel_id="8080")
    steps = []
    outcome = connect_blocking(
        ConnectionSettings(connection_file="8080"), threading.Event(), steps.append, no_manager
    )
    assert outcome.connection_file == km.connection_file
    assert outcome.tunnel is None
    assert steps == ["Reading the connection file...", "Waiting for the kernel to answer..."]


def test_dead_local_kernel_is_reported_in_plain_words(runtime_dir):
    path = dead_kernel_file(runtime_dir, "gone")
    with pytest.raises(KernelNotAnswering, match="does not answer") as info:
        connect_blocking(
            ConnectionSettings(connection_file="gone"), threading.Event(), print, no_manager
        )
    assert path in str(info.value)
    assert "pick a running kernel" in str(info.value)


def test_cancelled_attempt_raises_cancelled(kernel_factory):
    kernel_factory(kernel_id="8181")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ConnectionCancelled):
        connect_blocking(ConnectionSettings(connection_file="8181"), cancel, print, no_manager)


def test_host_key_question_unblocks_on_cancel():
    question = HostKeyQuestion(info=None)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    start = time.monotonic()
    assert question.wait(cancel, reject="refused") == "refused"
    assert time.monotonic() - start < 5
    answered = HostKeyQuestion(info=None)
    threading.Timer(0.1, answered.answer, args=("accepted",)).start()
    assert answered.wait(threading.Event(), reject="refused") == "accepted"


@pytest.mark.sshd
def test_remote_kernel_through_sshd_gives_a_local_tunnel_file(sshd, ssh_home, kernel_factory):
    from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager

    asked = []

    def decide(info):
        asked.append(info)
        return HostKeyDecision.ACCEPT_ONCE

    km = kernel_factory()
    manager = TunnelManager(host_key_decider=decide)
    settings = ConnectionSettings(
        connection_file=km.connection_file,
        remote=True,
        hostname=sshd.host,
        port=str(sshd.port),
        username=sshd.user,
        key_file=str(sshd.user_key),
    )
    try:
        outcome = connect_blocking(settings, threading.Event(), print, lambda: manager)
        assert len(asked) == 1 and asked[0].fingerprint.startswith("SHA256:")
        assert outcome.label == f"{sshd.user}@{sshd.host}"
        assert outcome.connection_file == outcome.tunnel.local_connection_file
        assert outcome.connection_file != km.connection_file
        assert os.stat(outcome.connection_file).st_mode & 0o777 == 0o600
    finally:
        manager.close_all()
    assert not os.path.exists(outcome.connection_file)


def remote_settings(sshd, **kwargs) -> ConnectionSettings:
    values = dict(
        remote=True,
        hostname=sshd.host,
        port=str(sshd.port),
        username=sshd.user,
        key_file=str(sshd.user_key),
    )
    values.update(kwargs)
    return ConnectionSettings(**values)


@pytest.fixture
def trusting_manager(sshd, ssh_home):
    """A TunnelManager for the sshd fixture whose host key is already in ~/.ssh/known_hosts."""
    from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager

    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    manager = TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT)
    yield manager
    manager.close_all()


@pytest.mark.sshd
def test_remote_listing_uses_the_runtime_dir_override_and_one_login(
    sshd, trusting_manager, kernel_factory, tmp_path
):
    from spyder_kernel_connect.spyder.connector import list_remote_blocking

    remote_dir = tmp_path / "remote-runtime"
    remote_dir.mkdir()
    km = kernel_factory(kernel_id="6110", directory=remote_dir)
    (remote_dir / "kernel-bad.json").write_text("[1, 2")
    settings = remote_settings(sshd, remote_runtime_dir=str(remote_dir))
    logins = sshd.auth_count()
    listing = list_remote_blocking(settings, threading.Event(), print, lambda: trusting_manager)
    assert listing.runtime_dir == str(remote_dir)
    by_id = {entry.kernel_id: entry for entry in listing.entries}
    assert by_id["6110"].alive is True and by_id["6110"].path == km.connection_file
    assert "not valid JSON" in by_id["bad"].error

    # Picking the listed kernel connects through the same SSH session: no second login.
    settings.connection_file = "6110"
    outcome = connect_blocking(settings, threading.Event(), print, lambda: trusting_manager)
    assert outcome.started is None
    assert outcome.tunnel.remote_info.key == km.session.key.decode()
    assert sshd.auth_count() == logins + 1


@pytest.mark.sshd
def test_missing_spyder_kernels_on_the_host_gives_the_install_hint(
    sshd, trusting_manager, python_without_spyder_kernels
):
    from spyder_kernel_connect.ssh.remote import RemoteSpyderKernelsMissing

    python = python_without_spyder_kernels
    settings = remote_settings(sshd, remote_python=python)
    with pytest.raises(RemoteSpyderKernelsMissing) as info:
        connect_blocking(settings, threading.Event(), print, lambda: trusting_manager, start=True)
    assert f"{python} -m pip install spyder-kernels" in str(info.value)
