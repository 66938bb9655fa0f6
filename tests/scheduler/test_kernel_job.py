"""Kernels on a compute node of a real SLURM cluster, reached through the login node's sshd."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from spyder_kernel_connect.scheduler import (
    JobPhase,
    JobResources,
    JobWatcher,
    KernelJobFailed,
    ScriptTemplateError,
    SubmitRejected,
    cancel_kernel_job,
    find_kernel_job,
    list_kernel_jobs,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.ssh import Cancelled, SSHError
from tests.scheduler.conftest import file_mode
from tests.slurm import PARTITION, login_blocker, slurm_active
from tests.ssh.conftest import execute

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]

SMALL = JobResources(time="30", cpus=1, memory="300M")


class WaitInThread:
    """wait_for_kernel_job in a thread, recording every state it reports."""

    def __init__(self, login, scheduler, job, **kwargs):
        self.statuses, self.result, self.error = [], None, None
        self.cancel = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(login, scheduler, job), kwargs=kwargs, daemon=True
        )
        self.thread.start()

    def _run(self, login, scheduler, job, **kwargs):
        try:
            self.result = wait_for_kernel_job(
                login,
                scheduler,
                job,
                on_status=self.statuses.append,
                cancel=self.cancel,
                pending_poll=0.3,
                **kwargs,
            )
        except Exception as err:
            self.error = err

    def wait_for(self, predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(s) for s in self.statuses):
                return
            if not self.thread.is_alive():
                raise AssertionError(f"wait ended early: {self.error!r}")
            time.sleep(0.1)
        raise AssertionError(f"never saw the state; saw {self.statuses}")

    def join(self, timeout=120.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive()
        return self


def pending_on_resources(status):
    return status.phase is JobPhase.PENDING and status.reason == "Resources"


def test_submit_pending_running_tunnel_execute(login, scheduler, manager, slurm_login, job_dir):
    blocker = login_blocker(login)
    resources = JobResources(partition=PARTITION, time="0:30:00", cpus=1, memory="300M")
    job = submit_kernel_job(
        login, scheduler, resources, remote_python=sys.executable, runtime_dir=job_dir
    )
    waiter = WaitInThread(login, scheduler, job)
    waiter.wait_for(pending_on_resources)
    pending = next(s for s in waiter.statuses if pending_on_resources(s))
    assert pending.description.startswith("Pending: Resources")
    # The job shows in squeue with the resources it asked for.
    _status, out, _ = login.run(f"squeue -h -j {job.job_id} -o '%P %C %m %l %j'")
    assert out.split() == [PARTITION, "1", "300M", "30:00", f"spyder-kernel-{job.kernel_id}"]
    login.run(f"scancel {blocker}")
    info = waiter.join().result
    assert info is not None, waiter.error
    assert waiter.statuses[-1].phase is JobPhase.RUNNING and job.node
    assert job.label == f"{job.node} · job {job.job_id}"
    assert file_mode(job.connection_file) == 0o600
    tunnel = manager.open_tunnel(slurm_login.target(), info)
    code = "import os; print(os.environ['SLURM_JOB_ID'], os.environ['SLURMD_NODENAME'])"
    assert execute(tunnel.local_connection_file, code).split() == [job.job_id, job.node]
    tunnel.close()
    ended = cancel_kernel_job(login, scheduler, job)
    assert ended.phase is not JobPhase.RUNNING
    assert job.job_id not in slurm_active(login)
    assert sorted(os.listdir(job_dir)) == []


def test_cancel_while_pending_leaves_nothing(login, scheduler, job_dir):
    blocker = login_blocker(login)
    job = submit_kernel_job(
        login, scheduler, SMALL, remote_python=sys.executable, runtime_dir=job_dir
    )
    waiter = WaitInThread(login, scheduler, job)
    waiter.wait_for(pending_on_resources)
    waiter.cancel.set()
    waiter.join()
    assert isinstance(waiter.error, Cancelled)
    assert "scancel" in str(waiter.error)
    assert job.job_id not in slurm_active(login)
    assert os.listdir(job_dir) == []
    login.run(f"scancel {blocker}")


def test_invalid_partition_gives_sbatchs_message(login, scheduler, job_dir):
    with pytest.raises(SubmitRejected) as caught:
        submit_kernel_job(
            login,
            scheduler,
            JobResources(partition="nosuchpartition"),
            remote_python=sys.executable,
            runtime_dir=job_dir,
        )
    message = str(caught.value)
    assert "invalid partition specified: nosuchpartition" in message.lower()
    assert "sbatch: error" not in message  # sbatch's words, without its prefixes
    assert slurm_active(login) == []


def test_kernel_that_fails_shows_its_output_tail(
    login, scheduler, job_dir, python_without_spyder_kernels
):
    job = submit_kernel_job(
        login, scheduler, SMALL, remote_python=python_without_spyder_kernels, runtime_dir=job_dir
    )
    with pytest.raises(KernelJobFailed) as caught:
        wait_for_kernel_job(login, scheduler, job, pending_poll=0.3)
    message = str(caught.value)
    assert f"Job {job.job_id} ended before its kernel answered" in message
    assert "No module named 'spyder_kernels'" in message, message  # the output's tail
    assert job.output_path in message
    assert not os.path.exists(job.connection_file)


def test_kept_job_is_listed_and_reattached(login, scheduler, manager, slurm_login, job_dir):
    job = submit_kernel_job(
        login, scheduler, SMALL, remote_python=sys.executable, runtime_dir=job_dir
    )
    wait_for_kernel_job(login, scheduler, job, pending_poll=0.3)
    listed = {j.job_id: j for j in list_kernel_jobs(scheduler, login.label)}
    assert listed[job.job_id].node == job.node
    assert listed[job.job_id].connection_file == job.connection_file
    assert listed[job.job_id].status.time_left is not None
    again = find_kernel_job(scheduler, job.job_id, login.label)
    info = wait_for_kernel_job(login, scheduler, again, pending_poll=0.3)
    with manager.open_tunnel(slurm_login.target(), info) as tunnel:
        assert execute(tunnel.local_connection_file, "print(6 * 7)").strip() == "42"
    cancel_kernel_job(login, scheduler, again)


def test_scancel_from_outside_ends_the_watch(login, scheduler, slurm_jobs, job_dir):
    job = submit_kernel_job(
        login, scheduler, JobResources(time="5"), remote_python=sys.executable, runtime_dir=job_dir
    )
    wait_for_kernel_job(login, scheduler, job, pending_poll=0.3)
    ended, warnings = [], []
    watcher = JobWatcher(scheduler, job.job_id, ended.append, warnings.append, interval=0.3).start()
    deadline = time.monotonic() + 30
    while not warnings and time.monotonic() < deadline:
        time.sleep(0.1)
    # A 5-minute job is within the last 10 minutes: one warning, with the time left.
    assert len(warnings) == 1 and 0 < warnings[0] <= 300
    slurm_jobs.run("scancel", job.job_id)  # from outside: another terminal on the cluster
    deadline = time.monotonic() + 60
    while not ended and time.monotonic() < deadline:
        time.sleep(0.1)
    watcher.stop()
    assert len(ended) == 1 and ended[0].state.startswith("CANCELLED")
    assert ended[0].description.startswith("Was cancelled")
    assert len(warnings) == 1


def test_site_template_runs_before_the_kernel(login, scheduler, manager, slurm_login, job_dir):
    template = "#!/bin/sh\nexport SKC_SITE_SETUP=loaded\n{{kernel_command}}\n"
    job = submit_kernel_job(
        login, scheduler, SMALL, sys.executable, runtime_dir=job_dir, template=template
    )
    info = wait_for_kernel_job(login, scheduler, job, pending_poll=0.3)
    with manager.open_tunnel(slurm_login.target(), info) as tunnel:
        out = execute(
            tunnel.local_connection_file, "import os; print(os.environ['SKC_SITE_SETUP'])"
        )
    assert out.strip() == "loaded"
    # Only the kernel's own two files: the script went to sbatch on stdin.
    assert sorted(os.listdir(job_dir)) == [
        f"kernel-{job.kernel_id}-slurm.log",
        f"kernel-{job.kernel_id}.json",
    ]
    cancel_kernel_job(login, scheduler, job)


def test_bad_template_is_refused_before_submitting(login, scheduler, job_dir):
    with pytest.raises(ScriptTemplateError, match=r"no \{\{kernel_command\}\}"):
        submit_kernel_job(
            login, scheduler, SMALL, sys.executable, runtime_dir=job_dir, template="#!/bin/sh\n"
        )
    assert slurm_active(login) == []


def test_ssh_drop_while_pending_keeps_waiting(login, scheduler, manager, slurm_login, job_dir):
    blocker = login_blocker(login)
    job = submit_kernel_job(login, scheduler, SMALL, sys.executable, runtime_dir=job_dir)
    waiter = WaitInThread(login, scheduler, job)
    waiter.wait_for(pending_on_resources)
    slurm_login.kill_connections()  # the login node's connection drops mid-wait
    deadline = time.monotonic() + 60
    while True:  # the session reconnects by itself; until then commands fail
        try:
            login.run(f"scancel {blocker}", timeout=120)
            break
        except SSHError:
            assert time.monotonic() < deadline, "the login session never came back"
            time.sleep(0.2)
    info = waiter.join().result
    assert info is not None, waiter.error
    with manager.open_tunnel(slurm_login.target(), info) as tunnel:
        assert execute(tunnel.local_connection_file, "print(6 * 7)").strip() == "42"
    cancel_kernel_job(login, scheduler, job)
