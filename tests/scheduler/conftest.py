"""Fixtures for the compute-node tests: the login node's session and its SLURM scheduler."""

from __future__ import annotations

import os
import sys

import pytest

from spyder_kernel_connect.scheduler import SlurmScheduler, session_runner
from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager


@pytest.fixture(autouse=True)
def _private_home(ssh_home):
    """Never read or write the real ~/.ssh (known_hosts, config, keys, agent)."""
    return ssh_home


@pytest.fixture
def manager():
    # Default keepalives: a loaded CI machine must not look like a dead link mid-test.
    mgr = TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT)
    yield mgr
    mgr.close_all()


@pytest.fixture
def login(slurm_jobs, slurm_login, manager):
    """The login node's shared SSH session (SLURM reachable from it); jobs emptied after."""
    return manager.session(slurm_login.target())


@pytest.fixture
def scheduler(login):
    return SlurmScheduler(session_runner(login), login.label)


@pytest.fixture
def job_dir(remote_dir):
    """The cluster's runtime dir (a shared home on real clusters; here the same machine)."""
    return str(remote_dir)


@pytest.fixture
def python() -> str:
    """The remote Python: this venv's, which has spyder-kernels."""
    return sys.executable


def file_mode(path: str) -> int:
    return os.stat(path).st_mode & 0o777
