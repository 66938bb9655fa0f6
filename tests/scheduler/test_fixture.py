"""The SLURM fixture itself: a job submitted through the login node runs on the node."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]


def test_job_submitted_over_ssh_runs_on_the_node(slurm_jobs, slurm_login, tmp_path):
    import paramiko

    out = tmp_path / "job.out"
    client = paramiko.SSHClient()
    client.load_host_keys(str(slurm_login.known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        slurm_login.host,
        slurm_login.port,
        slurm_login.user,
        key_filename=str(slurm_login.user_key),
        allow_agent=False,
        look_for_keys=False,
    )
    try:
        stdin, stdout, _stderr = client.exec_command(f"sbatch --parsable -o {out}")
        stdin.write("#!/bin/sh\necho on $SLURMD_NODENAME\n")
        stdin.channel.shutdown_write()
        job_id = stdout.read().decode().strip()
    finally:
        client.close()
    assert job_id.isdigit()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and slurm_jobs.job_field(job_id, "%T") != "COMPLETED":
        time.sleep(0.2)
    assert out.read_text().strip() == f"on {slurm_jobs.node}"
