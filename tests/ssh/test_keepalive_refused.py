"""A server that refuses the keepalive's channel has still answered: the link is alive."""

from __future__ import annotations

import time

import pytest

from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager, TunnelState
from tests.sshd import start_sshd, stop_sshd

pytestmark = pytest.mark.sshd


def test_refused_keepalive_channel_is_not_a_dead_link(tmp_path):
    # MaxSessions 0: sshd refuses every session channel (the keepalive's) but stays alive,
    # as a busy login node at its session limit does.
    server = start_sshd(tmp_path / "sshd", settings={"MaxSessions": "0"})
    events = []
    try:
        with TunnelManager(
            on_state=events.append,
            host_key_decider=lambda info: HostKeyDecision.REJECT,
            keepalive_interval=0.2,
            keepalive_timeout=5,
        ) as mgr:
            session = mgr.session(server.target())
            time.sleep(2.0)  # about ten keepalives
            assert session.state is TunnelState.UP
            assert TunnelState.RECONNECTING not in [e.state for e in events]
    finally:
        stop_sshd(server)
    assert server.log_path.read_text().count("Accepted publickey") == 1
