"""How long the tunnel manager keeps a session, and what "accept once" trusts."""

from __future__ import annotations

import time

import pytest

from spyder_kernel_connect.ssh import HostKeyDecision, SSHError, TunnelManager
from tests.conftest import wait_for

pytestmark = pytest.mark.sshd


def answers(session) -> bool:
    try:
        return session.run("echo ok")[1] == "ok\n"
    except SSHError:  # reconnecting
        return False


def test_a_session_used_only_for_listing_closes_when_idle(sshd, remote_kernel):
    with TunnelManager(idle_timeout=0.5) as manager:
        with manager.lease(sshd.target()) as session:
            assert session.run("echo listed")[1] == "listed\n"
        wait_for(lambda: session.closed, what="the idle listing session to close")
        assert manager.sessions == []
        wait_for(lambda: not sshd.connection_pids())


def test_a_session_a_tunnel_uses_stays_after_the_idle_time(sshd, remote_kernel):
    with TunnelManager(idle_timeout=0.2) as manager:
        with manager.lease(sshd.target()) as session:
            tunnel = manager.open_tunnel(sshd.target(), remote_kernel.connection_file)
        time.sleep(1.0)  # five idle times: the tunnel holds the session
        assert not session.closed and manager.sessions == [session]
        tunnel.close()  # the host's last tunnel ends the session at once, as before
        assert session.closed


def test_an_unpinned_session_closes_when_idle(sshd):
    with TunnelManager(idle_timeout=0.2) as manager:
        session = manager.session(sshd.target(), pin=False)
        wait_for(lambda: session.closed)
        pinned = manager.session(sshd.target())
        time.sleep(1.0)
        assert not pinned.closed


def test_accept_once_trusts_this_connection_only(sshd, tmp_path):
    asked = []
    decide = lambda info: asked.append(info) or HostKeyDecision.ACCEPT_ONCE  # noqa: E731
    target = sshd.target(known_hosts=str(tmp_path / "known_hosts"))
    manager = TunnelManager(
        host_key_decider=decide, idle_timeout=0.2, keepalive_interval=0.5, keepalive_timeout=2
    )
    with manager:
        with manager.lease(target) as session:
            session.kill_connection()  # a reconnect of this connection does not ask again
            wait_for(lambda: answers(session), timeout=60)
        assert len(asked) == 1
        wait_for(lambda: session.closed)
        with manager.lease(target):  # a new connection: asked again
            pass
        assert len(asked) == 2


def test_a_removed_known_hosts_entry_brings_the_question_back(sshd, tmp_path):
    path = tmp_path / "known_hosts"
    asked = []
    decide = lambda info: asked.append(info) or HostKeyDecision.ACCEPT_AND_SAVE  # noqa: E731
    target = sshd.target(known_hosts=str(path))
    with TunnelManager(host_key_decider=decide, idle_timeout=0.2) as manager:
        with manager.lease(target) as session:
            pass
        assert path.read_text() == sshd.host_key_line() and len(asked) == 1
        wait_for(lambda: session.closed)
        path.write_text("")  # the user removed the entry (ssh-keygen -R)
        with manager.lease(target):
            pass
        assert len(asked) == 2
