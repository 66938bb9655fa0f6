"""Qt-free batch-scheduler engine: kernels on cluster compute nodes (SLURM first).

Typical use (from a worker thread), over a session of the SSH tunnel manager::

    session = manager.session(target)
    scheduler = SlurmScheduler(session_runner(session), session.label)
    job = submit_kernel_job(session, scheduler, JobResources(partition="gpu", time="2:00:00"))
    info = wait_for_kernel_job(session, scheduler, job, on_status=print, cancel=cancel)
    tunnel = manager.open_tunnel(target, info)   # direct-tcpip from the login node
"""

from spyder_kernel_connect.scheduler.base import (
    CommandRunner,
    JobPhase,
    JobResources,
    JobStatus,
    Scheduler,
)
from spyder_kernel_connect.scheduler.errors import (
    InvalidJobResource,
    JobEnded,
    JobNotFound,
    KernelJobFailed,
    SchedulerError,
    SchedulerMissing,
    ScriptTemplateError,
    SubmitRejected,
)
from spyder_kernel_connect.scheduler.kernel_job import (
    KernelJob,
    cancel_kernel_job,
    describe_job,
    find_kernel_job,
    list_kernel_jobs,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.scheduler.script import DEFAULT_TEMPLATE, render_script
from spyder_kernel_connect.scheduler.shell import session_runner
from spyder_kernel_connect.scheduler.slurm import SlurmScheduler
from spyder_kernel_connect.scheduler.slurm_output import format_duration
from spyder_kernel_connect.scheduler.watch import JobWatcher

SCHEDULERS = {"slurm": SlurmScheduler}

__all__ = [
    "DEFAULT_TEMPLATE",
    "SCHEDULERS",
    "CommandRunner",
    "InvalidJobResource",
    "JobEnded",
    "JobNotFound",
    "JobPhase",
    "JobResources",
    "JobStatus",
    "JobWatcher",
    "KernelJob",
    "KernelJobFailed",
    "Scheduler",
    "SchedulerError",
    "SchedulerMissing",
    "ScriptTemplateError",
    "SlurmScheduler",
    "SubmitRejected",
    "cancel_kernel_job",
    "describe_job",
    "find_kernel_job",
    "format_duration",
    "list_kernel_jobs",
    "render_script",
    "session_runner",
    "submit_kernel_job",
    "wait_for_kernel_job",
]
