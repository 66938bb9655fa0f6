"""The SLURM job as a kernel source of the connect service, on the real cluster."""

from __future__ import annotations

import os
import sys

import pytest

from spyder_kernel_connect.scheduler import JobPhase, JobResources
from spyder_kernel_connect.scheduler.source import SlurmJobSource
from spyder_kernel_connect.service import ConnectRequest, ConnectService
from spyder_kernel_connect.ssh import HostKeyDecision
from tests.slurm import slurm_active
from tests.ssh.conftest import execute

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]


def test_service_connects_to_a_job_kernel_through_the_login_node(
    login, slurm_login, job_dir, tmp_path
):
    statuses = []
    source = SlurmJobSource(
        JobResources(time="10", cpus=1),
        remote_python=sys.executable,
        runtime_dir=job_dir,
        on_status=statuses.append,
        pending_poll=0.3,
    )
    service = ConnectService(host_key_decider=lambda info: HostKeyDecision.REJECT)
    try:
        request = ConnectRequest(source, slurm_login.target(), local_dir=str(tmp_path))
        connection = service.connect(request)
        job = source.job
        assert statuses[-1].phase is JobPhase.RUNNING and connection.where == job.connection_file
        code = "import os; print(os.environ['SLURM_JOB_ID'])"
        assert execute(connection.connection_file, code).strip() == job.job_id
        source.cancel_job()  # over the session the tunnel still holds
        connection.tunnel.close()
        assert job.job_id not in slurm_active(login)
        assert os.listdir(job_dir) == []
    finally:
        service.close()
