"""A SLURM job as a kernel source of the connect service (``service.KernelSource``).

``ConnectService.connect(ConnectRequest(SlurmJobSource(...), login_node))`` submits the job
(or takes the kept job ``job_id``) over the login node's leased session, waits for its
kernel and returns the connection; ``source.job`` and ``source.scheduler`` then say which
job it is (for the console's time left, and to cancel it with ``cancel_kernel_job``). The
service stops only kernels it started on the host itself, so a caller whose connect fails
after the kernel answered cancels the job with ``source.cancel_job()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from spyder_kernel_connect.scheduler.base import JobResources, JobStatus
from spyder_kernel_connect.scheduler.kernel_job import (
    PENDING_POLL,
    KernelJob,
    cancel_kernel_job,
    find_kernel_job,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.scheduler.shell import session_runner
from spyder_kernel_connect.scheduler.slurm import SlurmScheduler
from spyder_kernel_connect.ssh import remote


@dataclass
class SlurmJobSource:
    """A kernel in a new SLURM job with ``resources``, or in the kept job ``job_id``."""

    resources: JobResources = field(default_factory=JobResources)
    job_id: str = ""
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None
    template: str | None = None
    on_status: Callable[[JobStatus], None] | None = None  # queue state, node…
    pending_poll: float = PENDING_POLL
    job: KernelJob | None = None  # set by obtain()
    scheduler: SlurmScheduler | None = None
    _session: object = None

    def needs_session(self) -> bool:
        return True

    def obtain(self, session, cancel: threading.Event, progress):
        from spyder_kernel_connect.service.sources import ObtainedKernel

        self.scheduler = SlurmScheduler(session_runner(session), session.label)
        self._session = session
        if self.job_id:
            self.job = find_kernel_job(self.scheduler, self.job_id, session.label)
        else:
            self.job = submit_kernel_job(
                session,
                self.scheduler,
                self.resources,
                self.remote_python,
                self.runtime_dir,
                self.template,
            )
        info = wait_for_kernel_job(
            session,
            self.scheduler,
            self.job,
            on_status=self.on_status,
            cancel=cancel,
            pending_poll=self.pending_poll,
            cancel_job=not self.job_id,
        )
        return ObtainedKernel(info, self.job.connection_file)

    def cancel_job(self) -> JobStatus | None:
        """scancel the job obtained (files removed); None if there is none.

        Call it while the tunnel (or another lease) still holds the login node's session:
        the session ends with the last tunnel on it."""
        if self.job is None or self.scheduler is None:
            return None
        return cancel_kernel_job(self._session, self.scheduler, self.job)
