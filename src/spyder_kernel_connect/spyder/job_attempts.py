"""What the container's SLURM attempts run off the GUI thread, and the words shown meanwhile.

Each function returns ``(busy message, work)``: the container shows the message, runs
``work(cancel)`` on a worker thread with its usual Cancel, host-key and login prompts, and
hands the result on (a ``service.Connection`` whose ``job`` is set, or the list of jobs).
The job itself goes through the connect service like every other kernel source.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from spyder.api.translations import _

from spyder_kernel_connect.scheduler import KernelJob
from spyder_kernel_connect.scheduler.source import job_source, list_kernel_jobs_on
from spyder_kernel_connect.service import Connection, ConnectRequest, ConnectService
from spyder_kernel_connect.service.progress import ProgressCallback
from spyder_kernel_connect.settings import ConnectionSettings


def connect_job(
    service: ConnectService,
    settings: ConnectionSettings,
    job_id: str,
    progress: ProgressCallback,
    pending_poll: float | None = None,
) -> tuple[str, Callable[[threading.Event], Connection]]:
    """A new kernel job with the form's resources (or the kept job ``job_id``), connected."""

    def work(cancel: threading.Event) -> Connection:
        # The form's resources are checked here: a typo is reported like any failure.
        source = job_source(settings, job_id, pending_poll)
        return service.connect(ConnectRequest(source, settings.ssh_target()), cancel, progress)

    if job_id:
        message = _("Attaching to job {} on {}...").format(job_id, settings.hostname)
    else:
        message = _("Submitting a kernel job on {}...").format(settings.hostname)
    return message, work


def list_jobs(
    service: ConnectService, settings: ConnectionSettings, progress: ProgressCallback
) -> tuple[str, Callable[[threading.Event], list[KernelJob]]]:
    """This user's kernel jobs on the cluster the form names (its login node)."""
    target = settings.ssh_target()

    def work(cancel: threading.Event) -> list[KernelJob]:
        return service.on_host(target, list_kernel_jobs_on, cancel, progress)

    return _("Looking for your kernel jobs on {}...").format(settings.hostname), work
