"""A kernel in a SLURM job as a kernel source of the connect service (``service.KernelSource``).

``ConnectService.connect(ConnectRequest(SlurmJobSource(...), login_node))`` submits the job
(or takes the kept job ``job_id``) over the login node's leased session, reports its queue
state as ``Step.JOB_STATE`` progress, waits for its kernel and tunnels to it through the
login node. The ``Connection`` it returns carries the job (``connection.job``, a
``RunningJob``): to watch it, and to cancel it (``ConnectService.stop_started``). A job
this attempt submitted is cancelled (scancel, files removed) if the attempt fails or is
cancelled at any point; a kept job attached to is left as it is (unless ``own_job``).
"""

from __future__ import annotations

import logging
import shlex
import threading
from dataclasses import dataclass, field
from typing import Any

from spyder_kernel_connect.scheduler.base import JobResources, JobStatus, Scheduler
from spyder_kernel_connect.scheduler.errors import InvalidJobResource, KernelJobFailed
from spyder_kernel_connect.scheduler.kernel_job import (
    PENDING_POLL,
    KernelJob,
    cancel_kernel_job,
    find_kernel_job,
    list_kernel_jobs,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.scheduler.shell import session_runner
from spyder_kernel_connect.scheduler.slurm import SlurmScheduler
from spyder_kernel_connect.service.progress import Progress, ProgressCallback, Step
from spyder_kernel_connect.service.sources import ObtainedKernel
from spyder_kernel_connect.ssh import errors as ssh_errors
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.session import SSHSession

log = logging.getLogger(__name__)


@dataclass
class RunningJob:
    """The batch job a connected kernel runs in, and the scheduler that runs it."""

    job: KernelJob
    scheduler: Scheduler
    owned: bool  # cancelled if the attempt fails or is cancelled (a job it submitted)

    def cancel(self, session: SSHSession) -> JobStatus:
        """scancel the job, wait until it is gone, remove its files; its last status."""
        return cancel_kernel_job(session, self.scheduler, self.job)


@dataclass
class SlurmJobSource:
    """A kernel in a new SLURM job with ``resources``, or in the kept job ``job_id``."""

    resources: JobResources = field(default_factory=JobResources)
    job_id: str = ""
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None
    template: str | None = None
    pending_poll: float = PENDING_POLL
    # Cancel the job if the attempt fails or is cancelled; None: only a job it submitted
    # (the CLI also cancels a kept job it attached to, unless told --keep-job).
    own_job: bool | None = None
    job: KernelJob | None = None  # set by obtain() as soon as the job is known

    def needs_session(self) -> bool:
        return True

    def obtain(
        self, session: SSHSession, cancel: threading.Event, progress: ProgressCallback
    ) -> ObtainedKernel:
        # Waits for a reconnect stop on cancel during the attempt; the job's own scheduler
        # (to watch it, to cancel it later) does not stop with the attempt.
        scheduler = SlurmScheduler(session_runner(session, cancel=cancel), session.label)
        if self.job_id:
            progress(Progress(Step.FIND_JOB, host=session.label, spec=self.job_id))
            job = find_kernel_job(scheduler, self.job_id, session.label)
        else:
            progress(Progress(Step.SUBMIT_JOB, host=session.label))
            job = submit_kernel_job(
                session,
                scheduler,
                self.resources,
                self.remote_python,
                self.runtime_dir,
                self.template,
                cancel,
            )
        self.job = job
        owned = not self.job_id if self.own_job is None else self.own_job
        running = RunningJob(job, SlurmScheduler(session_runner(session), session.label), owned)
        progress(Progress(Step.JOB_QUEUED, host=session.label, spec=job.job_id))

        def show(status: JobStatus) -> None:
            progress(Progress(Step.JOB_STATE, host=session.label, spec=job.job_id, job=status))

        try:
            info = wait_for_kernel_job(
                session,
                scheduler,
                job,
                on_status=show,
                cancel=cancel,
                pending_poll=self.pending_poll,
                cancel_job=running.owned,
            )
        except (KernelJobFailed, ssh_errors.Cancelled):
            raise  # the job ended, or was cancelled (or, attached to, left) as asked
        except BaseException:
            if running.owned:  # our new job must not outlive a failed attempt
                _cancel_quietly(session, running)
            raise
        return ObtainedKernel(info, job.connection_file, job=running, label=job.label)


def _cancel_quietly(session: SSHSession, running: RunningJob) -> None:
    try:
        running.cancel(session)
    except Exception:
        log.warning(
            "Could not cancel job %s on %s", running.job.job_id, session.label, exc_info=True
        )


def job_source(
    settings: Any, job_id: str = "", pending_poll: float | None = None
) -> SlurmJobSource:
    """The job source for the dialog's settings (``slurm_*`` fields, the host's Python and
    runtime dir); ``job_id``: attach to that kept job instead of submitting one."""
    host = settings.host()
    source = SlurmJobSource(
        resources=job_resources(settings) if not job_id else JobResources(),
        job_id=job_id,
        remote_python=host.remote_python,
        runtime_dir=host.runtime_dir,
        template=settings.slurm_template or None,
    )
    if pending_poll is not None:
        source.pending_poll = pending_poll
    return source


def job_resources(settings: Any) -> JobResources:
    """The job's resources from the dialog's settings (``slurm_*`` fields, as typed)."""
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


def list_kernel_jobs_on(
    session: SSHSession, _cancel: threading.Event | None = None
) -> list[KernelJob]:
    """This user's kernel jobs on the cluster behind ``session`` (its login node); a
    ``ConnectService.on_host`` work function."""
    scheduler = SlurmScheduler(session_runner(session), session.label)
    return list_kernel_jobs(scheduler, session.label)
