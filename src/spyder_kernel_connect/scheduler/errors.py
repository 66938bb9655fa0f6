"""Errors of the batch-scheduler engine: each says what the scheduler refused and what to do."""

from __future__ import annotations

from spyder_kernel_connect.errors import KernelConnectError


class SchedulerError(KernelConnectError):
    """A batch-scheduler command on the login node failed."""

    def __init__(self, message: str, hint: str = "", host: str | None = None) -> None:
        self.host = host
        super().__init__(message, hint)


class SchedulerMissing(SchedulerError):
    """The scheduler's commands (sbatch, squeue…) are not found on the login node."""


class SubmitRejected(SchedulerError):
    """The scheduler refused the job (bad partition, account, time limit, resources…)."""


class JobNotFound(SchedulerError):
    """The scheduler does not know the job ID (never existed, or purged long ago)."""


class KernelJobFailed(SchedulerError):
    """The job ended before its kernel answered; the message carries its output's tail."""


class JobEnded(SchedulerError):
    """The job of a connected kernel ended (time limit, preemption, scancel elsewhere)."""


class ScriptTemplateError(SchedulerError):
    """A user's job-script template uses an unknown placeholder or lacks the kernel command."""


class InvalidJobResource(SchedulerError):
    """A job resource (time, CPUs, memory…) is not in a form the scheduler accepts."""
