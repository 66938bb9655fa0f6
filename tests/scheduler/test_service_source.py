"""The SLURM job as a kernel source of the connect service, on the real cluster."""

from __future__ import annotations

import os
import sys

import pytest

from spyder_kernel_connect.scheduler import JobPhase, JobResources
from spyder_kernel_connect.scheduler.source import SlurmJobSource
from spyder_kernel_connect.service import ConnectRequest, ConnectService, Step
from spyder_kernel_connect.ssh import HostKeyDecision, TunnelState
from tests.slurm import slurm_active
from tests.ssh.conftest import execute

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]


def test_service_connects_to_a_job_kernel_through_the_login_node(
    login, slurm_login, job_dir, tmp_path
):
    steps = []
    source = SlurmJobSource(
        JobResources(time="10", cpus=1),
        remote_python=sys.executable,
        runtime_dir=job_dir,
        pending_poll=0.3,
    )
    service = ConnectService(host_key_decider=lambda info: HostKeyDecision.REJECT)
    try:
        request = ConnectRequest(source, slurm_login.target(), local_dir=str(tmp_path))
        connection = service.connect(request, progress=steps.append)
        job = connection.job.job
        assert job is source.job and connection.where == job.connection_file
        assert connection.label == job.label and job.node in job.label
        states = [p.job for p in steps if p.step is Step.JOB_STATE]
        assert states[-1].phase is JobPhase.RUNNING and states[-1].job_id == job.job_id
        order = [p.step for p in steps if p.step is not Step.JOB_STATE]
        expected = [
            Step.LOGIN,
            Step.SUBMIT_JOB,
            Step.JOB_QUEUED,
            Step.OPEN_TUNNEL,
            Step.PROBE_TUNNEL,
        ]
        assert order == expected
        code = "import os; print(os.environ['SLURM_JOB_ID'])"
        assert execute(connection.connection_file, code).strip() == job.job_id
        service.stop_started(connection)  # scancel over the tunnel's session, then close it
        assert connection.tunnel.closed
        assert job.job_id not in slurm_active(login)
        assert os.listdir(job_dir) == []
    finally:
        service.close()


def test_a_drop_while_submitting_is_waited_out_and_submits_once(
    slurm_jobs, slurm_login, job_dir, tmp_path
):
    dropped, states = [], []

    def progress(step):
        if step.step is Step.SUBMIT_JOB and not dropped:
            # The login node's connection drops just as the job is submitted.
            dropped.extend(slurm_login.kill_connections())

    source = SlurmJobSource(
        JobResources(time="10", cpus=1),
        remote_python=sys.executable,
        runtime_dir=job_dir,
        pending_poll=0.3,
    )
    service = ConnectService(
        host_key_decider=lambda info: HostKeyDecision.REJECT,
        on_state=lambda event: states.append(event.state),
    )
    try:
        request = ConnectRequest(source, slurm_login.target(), local_dir=str(tmp_path))
        connection = service.connect(request, progress=progress)
        assert dropped and TunnelState.RECONNECTING in states
        job = connection.job.job
        assert slurm_jobs.jobs() == [job.job_id]  # submitted once, not again after the drop
        code = "import os; print(os.environ['SLURM_JOB_ID'])"
        assert execute(connection.connection_file, code).strip() == job.job_id
        service.stop_started(connection)
        assert slurm_jobs.jobs() == [] and os.listdir(job_dir) == []
    finally:
        service.close()
