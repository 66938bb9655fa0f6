"""Qt-free batch-scheduler engine: kernels on cluster compute nodes (SLURM first).

Typical use (from a worker thread): a job is one more kernel source of the connect service
(``scheduler.source``)::

    source = SlurmJobSource(JobResources(partition="gpu", time="2:00:00"))
    connection = service.connect(ConnectRequest(source, login_node), cancel, progress)
    connection.job.job.label                      # "node017 · job 123456"
    service.stop_started(connection)              # scancel, files removed, tunnel closed

Underneath, over the login node's session: ``submit_kernel_job``, ``wait_for_kernel_job``
(queue state, then the kernel's heartbeat through a direct-tcpip channel) and
``cancel_kernel_job``; ``JobWatcher`` follows a connected kernel's job (time left, its end).
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
