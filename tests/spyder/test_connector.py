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
