"""A console's kernel from a compute-node job, for the GUI (Qt-free, runs on a worker thread).

``connect_job_blocking`` logs in to the login node (or reuses its session), submits the
kernel job (or takes a kept one), reports its queue state through ``progress``, and opens
the tunnel through the login node once the kernel answers. Cancelling at any point before
the console opens cancels the job (scancel) and removes its files.
"""

from __future__ import annotations

import logging
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spyder_kernel_connect.scheduler.base import JobResources, JobStatus
from spyder_kernel_connect.scheduler.errors import InvalidJobResource, KernelJobFailed
from spyder_kernel_connect.scheduler.kernel_job import (
    KernelJob,
    cancel_kernel_job,
    find_kernel_job,
    list_kernel_jobs,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.scheduler.shell import session_runner
from spyder_kernel_connect.scheduler.slurm import SlurmScheduler
from spyder_kernel_connect.ssh import errors as ssh_errors

log = logging.getLogger(__name__)


@dataclass
class JobConnection:
    """A tunnel to a job's kernel: what the console needs, and what its job is."""

    connection_file: str
    tunnel: Any
    label: str  # "node017 · job 123456"
    job: KernelJob
    scheduler: SlurmScheduler
    started: Any = None  # no kernel started on the login node itself


def job_resources(settings: Any) -> JobResources:
    """The job's resources from the dialog's settings (``slurm_*`` fields)."""
    cpus_text = settings.slurm_cpus.strip()
    if cpus_text and not cpus_text.isdigit():
        raise InvalidJobResource(
            f"CPUs must be a whole number, not {cpus_text!r}.",
            "Give the number of CPU cores the kernel needs, e.g. 4, or leave it empty.",
        )
    try:
        extra = tuple(shlex.split(settings.slurm_extra))
    except ValueError as err:
        raise InvalidJobResource(
            f"The extra sbatch options cannot be read: {err}.",
            "Write them as on the sbatch command line, e.g. --qos=short --constraint=avx2.",
        ) from None
    resources = JobResources(
        partition=settings.slurm_partition.strip(),
        time=settings.slurm_time.strip(),
        cpus=int(cpus_text) if cpus_text else None,
        memory=settings.slurm_memory.strip(),
        gres=settings.slurm_gres.strip(),
        account=settings.slurm_account.strip(),
        extra_args=extra,
    )
    resources.validate()
    return resources


def connect_job_blocking(
    settings: Any,
    cancel: threading.Event,
    progress: Callable[[str], None],
    manager: Any,
    job_id: str = "",
    pending_poll: float | None = None,
) -> JobConnection:
    """Submit (or re-attach to ``job_id``), wait for the kernel, tunnel to it."""
    resources = job_resources(settings) if not job_id else JobResources()
    target = settings.ssh_target()
    host = settings.host()
    options = {"remote_python": host.remote_python, "runtime_dir": host.runtime_dir}
    progress(f"Connecting to {target.host} through SSH...")
    # Held through the wait in the queue; the tunnel then keeps it (one login).
    with manager.lease(target, cancel) as session:
        scheduler = SlurmScheduler(session_runner(session), session.label)
        if job_id:
            job = find_kernel_job(scheduler, job_id, session.label)
        else:
            progress(f"Submitting a kernel job on {target.host}...")
            job = submit_kernel_job(
                session,
                scheduler,
                resources,
                options["remote_python"],
                options["runtime_dir"],
                settings.slurm_template or None,
            )

        def show(status: JobStatus) -> None:
            where = f" on {status.node}" if status.node else ""
            progress(f"Job {status.job_id}{where}: {status.description}")

        kwargs = {} if pending_poll is None else {"pending_poll": pending_poll}
        try:
            info = wait_for_kernel_job(
                session,
                scheduler,
                job,
                on_status=show,
                cancel=cancel,
                cancel_job=not job_id,
                **kwargs,
            )
        except (KernelJobFailed, ssh_errors.Cancelled):
            raise  # the job ended, or was cancelled (or, re-attached, left) as asked
        except BaseException:
            if not job_id:  # our new job must not outlive a failed attempt
                _cancel_quietly(session, scheduler, job)
            raise
        try:
            if cancel.is_set():
                raise_cancelled(session, job)
            progress(f"Tunnelling to {job.label} through {target.host}...")
            tunnel = manager.open_tunnel(target, info, cancel=cancel)
        except BaseException:
            if not job_id:
                _cancel_quietly(session, scheduler, job)
            raise
        return JobConnection(tunnel.local_connection_file, tunnel, job.label, job, scheduler)


def _cancel_quietly(session: Any, scheduler: SlurmScheduler, job: KernelJob) -> None:
    try:
        cancel_kernel_job(session, scheduler, job)
    except Exception:
        log.warning("Could not cancel job %s on %s", job.job_id, session.label, exc_info=True)


def raise_cancelled(session: Any, job: KernelJob) -> None:
    from spyder_kernel_connect.ssh import Cancelled

    raise Cancelled(f"Cancelled: job {job.job_id} was cancelled.", host=session.label)


def list_jobs_blocking(settings: Any, cancel: threading.Event, manager: Any) -> list[KernelJob]:
    """This user's kernel jobs on the cluster (for the dialog's job list)."""
    with manager.lease(settings.ssh_target(), cancel) as session:
        scheduler = SlurmScheduler(session_runner(session), session.label)
        return list_kernel_jobs(scheduler, session.label)


def end_job_blocking(connection: JobConnection, cancel_job: bool) -> None:
    """The console closed: cancel its job (or keep it), then close the tunnel."""
    try:
        if cancel_job:
            cancel_kernel_job(connection.tunnel.session, connection.scheduler, connection.job)
    finally:
        connection.tunnel.close()
