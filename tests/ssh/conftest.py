"""Fixtures for the tunnel tests: a private $HOME, one real kernel per module, a manager."""

from __future__ import annotations

import threading

import pytest
from jupyter_client import BlockingKernelClient

from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager
from tests.cli_helpers import tunnel_options
from tests.conftest import start_kernel, stop_kernel


@pytest.fixture(autouse=True)
def _private_home(ssh_home):
    """Never read or write the real ~/.ssh (known_hosts, config, keys, agent)."""
    return ssh_home


@pytest.fixture(scope="module")
def remote_kernel(tmp_path_factory):
    """A real ipykernel; sshd reaches it on 127.0.0.1 as a remote host would see it."""
    km = start_kernel(str(tmp_path_factory.mktemp("remote") / "kernel-4242.json"))
    yield km
    stop_kernel(km)


@pytest.fixture
def sshd_tunnel_args(sshd, remote_kernel, tmp_path):
    """``tunnel``'s arguments for the remote kernel behind the test sshd (file into tmp_path)."""
    return tunnel_options(sshd, remote_kernel.connection_file, tmp_path)


@pytest.fixture
def manager():
    decisions: list = []
    mgr = TunnelManager(
        host_key_decider=lambda info: decisions.append(info) or HostKeyDecision.REJECT,
        keepalive_interval=1.0,
        keepalive_timeout=3.0,
    )
    mgr.decisions = decisions
    yield mgr
    mgr.close_all()


def execute(connection_file: str, code: str, timeout: float = 60.0) -> str:
    """Run ``code`` through a real jupyter_client client; return its stdout text."""
    client = BlockingKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        out: list[str] = []

        def collect(msg):
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])

        reply = client.execute_interactive(code, timeout=timeout, output_hook=collect)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        client.stop_channels()


def thread_names() -> list[str]:
    return sorted(t.name for t in threading.enumerate())
