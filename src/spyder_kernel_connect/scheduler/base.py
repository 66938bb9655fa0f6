"""The batch-scheduler interface: submit, state, cancel, list, time left.

SLURM is the first implementation (``slurm.py``); PBS Pro, LSF or SGE slot in as another
:class:`Scheduler` subclass. A scheduler runs its commands through a :data:`CommandRunner`
(for a cluster: exec channels on the login node's SSH session), so it never opens a
connection of its own and is testable on recorded command outputs.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spyder_kernel_connect.scheduler.errors import InvalidJobResource

# run(command, stdin) -> (exit status, stdout, stderr); the command is POSIX sh.
CommandRunner = Callable[[str, "str | None"], tuple[int, str, str]]


class JobPhase(enum.Enum):
    """Where a job is in its life, across schedulers."""

    PENDING = "pending"  # queued (or held, or being configured): not running yet
    RUNNING = "running"
    ENDING = "ending"  # completing: the job is being torn down
    ENDED = "ended"  # finished, failed, cancelled, timed out, preempted…
    UNKNOWN = "unknown"  # the scheduler no longer (or never) knew it


@dataclass(frozen=True)
class JobStatus:
    """One job as the scheduler sees it now."""

    job_id: str
    phase: JobPhase
    state: str  # the scheduler's own word: PENDING, RUNNING, TIMEOUT…
    reason: str = ""  # why it is pending (Resources, Priority…) or why it ended
    node: str = ""  # the (first) node it runs on
    name: str = ""
    comment: str = ""
    time_left: float | None = None  # seconds; None: unlimited or unknown
    time_limit: float | None = None  # seconds; None: unlimited or unknown
    exit_code: str = ""  # "0:15" (exit status:signal) where the scheduler tells
    output_path: str = ""  # its stdout file, where the scheduler tells
    description: str = ""  # the state in plain words, for users

    @property
    def active(self) -> bool:
        return self.phase in (JobPhase.PENDING, JobPhase.RUNNING)


@dataclass(frozen=True)
class JobResources:
    """What a kernel job asks for; empty fields leave the scheduler's defaults."""

    partition: str = ""
    time: str = ""  # minutes, or [days-]hours:minutes:seconds as sbatch takes it
    cpus: int | None = None
    memory: str = ""  # 4G, 500M…
    gres: str = ""  # gpu:1, gpu:a100:2…
    account: str = ""
    extra_args: Sequence[str] = field(default_factory=tuple)

    def validate(self) -> None:
        """Catch typos before the scheduler does, with a message that names the field."""
        if self.time and not TIME_FORMAT.match(self.time.strip()):
            raise InvalidJobResource(
                f"Time limit {self.time!r} is not a time the scheduler understands.",
                "Use minutes (90), hours:minutes:seconds (1:30:00) or days-hours "
                "(2-12), e.g. 1:00:00 for one hour.",
            )
        if self.cpus is not None and (not isinstance(self.cpus, int) or self.cpus < 1):
            raise InvalidJobResource(
                f"CPUs must be a whole number of at least 1, not {self.cpus!r}.",
                "Give the number of CPU cores the kernel needs, e.g. 4.",
            )
        if self.memory and not MEMORY_FORMAT.match(self.memory.strip()):
            raise InvalidJobResource(
                f"Memory {self.memory!r} is not an amount the scheduler understands.",
                "Use a number with an optional unit K, M, G or T, e.g. 16G.",
            )
        for name, value in (("partition", self.partition), ("account", self.account)):
            if value and not re.fullmatch(r"[\w.,+-]+", value.strip()):
                raise InvalidJobResource(
                    f"The {name} {value!r} contains characters no {name} name has.",
                    f"Give the {name} name as the cluster's documentation spells it.",
                )


# sbatch --time: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
# days-hours:minutes, days-hours:minutes:seconds; or the words some sites allow.
TIME_FORMAT = re.compile(
    r"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}"
    r"|UNLIMITED|INFINITE|unlimited|infinite)$"
)
MEMORY_FORMAT = re.compile(r"^\d+(\.\d+)?[KMGTkmgt]?[Bb]?$")


class Scheduler(abc.ABC):
    """A batch scheduler reached through ``runner``; ``label`` names the cluster in messages."""

    name = "scheduler"

    def __init__(self, runner: CommandRunner, label: str = "the login node") -> None:
        self.runner = runner
        self.label = label

    @abc.abstractmethod
    def submit(
        self, script: str, resources: JobResources, job_name: str, output: str, comment: str = ""
    ) -> str:
        """Submit ``script`` (passed on stdin; no file is written); return the job ID.

        ``output`` is the job's stdout+stderr file; ``comment`` is kept with the job (the
        kernel's connection file, so a kept job can be found again)."""

    @abc.abstractmethod
    def state(self, job_id: str) -> JobStatus:
        """The job's state now; phase UNKNOWN if the scheduler does not know it (any more)."""

    @abc.abstractmethod
    def cancel(self, job_id: str) -> None:
        """Cancel the job (pending or running); no error if it already ended."""

    @abc.abstractmethod
    def list_jobs(self, name_prefix: str = "") -> list[JobStatus]:
        """This user's pending and running jobs whose name starts with ``name_prefix``."""

    def final_state(self, job_id: str) -> JobStatus | None:
        """How an ended job ended, with as much detail as the scheduler keeps."""
        return self.state(job_id)

    def time_left(self, job_id: str) -> float | None:
        """Seconds until the job's time limit; None if unlimited or unknown."""
        return self.state(job_id).time_left
