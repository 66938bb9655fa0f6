"""The dialog's SLURM requests: a kernel in a new (or kept) job, and the list of your jobs.

Each runs as one of the container's attempts (``run_attempt``: a worker thread, the
dialog's progress line and Cancel, host-key and login prompts). The job itself goes
through the connect service like every other kernel source, so a job that connects comes
back as a ``service.Connection`` (its ``job`` set) and opens a console like any other.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from spyder.api.translations import _

from spyder_kernel_connect.scheduler import KernelJob
from spyder_kernel_connect.scheduler.source import job_source, list_kernel_jobs_on
from spyder_kernel_connect.service import Connection, ConnectionCancelled, ConnectRequest
from spyder_kernel_connect.settings import ConnectionSettings
from spyder_kernel_connect.ssh import Cancelled

if TYPE_CHECKING:
    from spyder_kernel_connect.spyder.container import KernelConnectContainer


class JobAttempts:
    """Starts the dialog's SLURM requests as attempts of ``container``."""

    def __init__(self, container: KernelConnectContainer) -> None:
        self.container = container
        self.pending_poll: float | None = None  # tests shorten the queue polls

    def start_job(self, settings: ConnectionSettings, save_as: str, job_id: str = "") -> None:
        """Start a kernel in a SLURM job (or attach to the kept job ``job_id``) and connect.

        The dialog's progress line shows the job's queue state; Cancel cancels the job.
        """
        container = self.container

        def work(cancel: threading.Event) -> Connection:
            # The form's resources are checked here: a typo is reported like any failure.
            source = job_source(settings, job_id, self.pending_poll)
            request = ConnectRequest(source, settings.ssh_target())
            return container.service.connect(request, cancel, container.bridge.report_progress)

        if job_id:
            message = _("Attaching to job {} on {}...").format(job_id, settings.hostname)
        else:
            message = _("Submitting a kernel job on {}...").format(settings.hostname)
        container.run_attempt(message, work, save=(settings, save_as))

    def list_jobs(self, settings: ConnectionSettings) -> None:
        """This user's kernel jobs on the cluster the form names, for the dialog's list."""
        container = self.container
        target = settings.ssh_target()

        def work(cancel: threading.Event) -> list[KernelJob]:
            progress = container.bridge.report_progress
            return container.service.on_host(target, list_kernel_jobs_on, cancel, progress)

        def listed(jobs: list[KernelJob]) -> None:
            cancelled = container.finish_attempt()
            if container.dialog is None:
                return
            if cancelled:
                container.dialog.slurm.show_jobs_failed(cancelled=True)
                container.dialog.show_notice(_("Cancelled."))
                return
            container.dialog.slurm.show_jobs(jobs)

        def failed(error: BaseException) -> None:
            # The jobs list says so; the host's kernel list is not this listing's. Cancel
            # during a prompt (e.g. the host key's) ends in that prompt's error: cancelled.
            cancelled = container.finish_attempt()
            if container.dialog is None:
                return
            cancelled = cancelled or isinstance(error, (ConnectionCancelled, Cancelled))
            container.dialog.slurm.show_jobs_failed(cancelled=cancelled)
            if cancelled:
                container.dialog.show_notice(_("Cancelled."))
            else:
                container.show_attempt_failure(error)

        message = _("Looking for your kernel jobs on {}...").format(settings.hostname)
        container.run_attempt(message, work, listed, on_failed=failed)
