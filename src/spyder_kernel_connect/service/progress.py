"""The steps of a connection, reported as values; ``spyder/`` turns them into words."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spyder_kernel_connect.scheduler.base import JobStatus


class Step(enum.Enum):
    """What the connect service is doing now (in the order they happen)."""

    READ_FILE = "read_file"  # reading the local connection file
    PROBE_LOCAL = "probe_local"  # waiting for a local kernel's heartbeat
    LOGIN = "login"  # logging in to the SSH host (or reusing its session)
    FIND_ON_HOST = "find_on_host"  # looking the spec up in the host's runtime dir
    START_ON_HOST = "start_on_host"  # starting a kernel on the host
    LIST_ON_HOST = "list_on_host"  # listing the host's kernels
    OPEN_TUNNEL = "open_tunnel"  # forwarding the kernel's five ports
    PROBE_TUNNEL = "probe_tunnel"  # waiting for the kernel's heartbeat through the tunnel
    # A kernel in a batch job (SLURM), between LOGIN and OPEN_TUNNEL:
    SUBMIT_JOB = "submit_job"  # submitting the kernel's job
    FIND_JOB = "find_job"  # looking up a kept job to attach to (``spec``: its ID)
    JOB_QUEUED = "job_queued"  # the job is known to the scheduler (``spec``: its ID)
    JOB_STATE = "job_state"  # the job's state changed (``job``: its status)


@dataclass(frozen=True)
class Progress:
    """One step, with what a message about it may name (empty when it does not apply)."""

    step: Step
    host: str = ""
    spec: str = ""
    python: str = ""
    job: JobStatus | None = None  # JOB_STATE: the job as the scheduler sees it now


ProgressCallback = Callable[[Progress], None]


def no_progress(_progress: Progress) -> None:
    """The default callback: nobody is watching."""
