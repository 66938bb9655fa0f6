"""A kernel on a compute node: submit its job, wait for it, cancel it, find it again.

Everything runs over the login node's SSH session: the scheduler's commands in exec
channels, the connection file read over SFTP (the runtime dir is on the shared home), and
the heartbeat probed through a direct-tcpip channel from the login node to the compute
node's address — the tunnel then forwards the five ports the same way, so no SSH login to
the compute node is needed (many clusters forbid it).
"""

from __future__ import annotations

import dataclasses
import logging
import posixpath
import shlex
import threading
import time
import uuid
from collections.abc import Callable

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    ConnectionInfo,
    KernelEntry,
)
from spyder_kernel_connect.scheduler.base import JobPhase, JobResources, JobStatus, Scheduler
from spyder_kernel_connect.scheduler.errors import JobNotFound, KernelJobFailed
from spyder_kernel_connect.scheduler.script import render_script
from spyder_kernel_connect.scheduler.shell import run_command, through_reconnects
from spyder_kernel_connect.scheduler.slurm_output import format_duration
from spyder_kernel_connect.ssh import errors as ssh_errors
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.session import SSHSession

log = logging.getLogger(__name__)

JOB_NAME_PREFIX = "spyder-kernel-"
# Seconds between scheduler queries while the job waits in the queue (squeue is a load on
# the controller; sites ask for no more than a few queries a minute per user).
PENDING_POLL = 5.0
# Seconds a running job's kernel gets to write its file and answer before we give up.
START_TIMEOUT = 180.0
OUTPUT_TAIL_LINES = 20


@dataclasses.dataclass
class KernelJob:
    """A batch job running (or about to run) a kernel for us."""

    job_id: str
    kernel_id: str
    connection_file: str  # on the cluster's shared filesystem
    output_path: str
    host: str  # the login node, as user@host:port
    status: JobStatus | None = None

    @property
    def node(self) -> str:
        return self.status.node if self.status else ""

    @property
    def label(self) -> str:
        """What a console tab shows: ``node017 · job 123456``."""
        return f"{self.node} · job {self.job_id}" if self.node else f"job {self.job_id}"


def job_name(kernel_id: str) -> str:
    return f"{JOB_NAME_PREFIX}{kernel_id}"


def submit_kernel_job(
    session: SSHSession,
    scheduler: Scheduler,
    resources: JobResources,
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON,
    runtime_dir: str | None = None,
    template: str | None = None,
    cancel: threading.Event | None = None,
) -> KernelJob:
    """Submit a job starting ``<remote_python> -m spyder_kernels.console`` on a compute node.

    The script goes to sbatch on stdin; its connection file will be
    ``<runtime dir>/kernel-<id>.json`` (0600), its output ``kernel-<id>-slurm.log`` beside it.
    A drop of the login node's connection meanwhile is waited out (never submitting twice).
    """
    resources.validate()
    directory = through_reconnects(
        session,
        lambda: remote.remote_runtime_dir(session, remote_python, runtime_dir, cancel=cancel),
        cancel,
    )
    kernel_id = uuid.uuid4().hex[:12]
    connection_file = posixpath.join(directory, f"kernel-{kernel_id}.json")
    output = posixpath.join(directory, f"kernel-{kernel_id}-slurm.log")
    name = job_name(kernel_id)
    script = render_script(template, remote_python, connection_file, directory, name)
    # The output file opens before the script runs: its directory must exist (private).
    run_command(session, f"umask 077; mkdir -p {shlex.quote(directory)}", cancel)
    job_id = scheduler.submit(script, resources, name, output, comment=connection_file)
    return KernelJob(job_id, kernel_id, connection_file, output, session.label)


def wait_for_kernel_job(
    session: SSHSession,
    scheduler: Scheduler,
    job: KernelJob,
    on_status: Callable[[JobStatus], None] | None = None,
    cancel: threading.Event | None = None,
    pending_poll: float = PENDING_POLL,
    start_timeout: float = START_TIMEOUT,
    cancel_job: bool = True,
) -> ConnectionInfo:
    """Wait while the job is pending, then until its kernel answers; its connection info.

    ``on_status`` hears every change of state (pending reason, node…). On ``cancel`` the job
    is cancelled and its files removed (unless ``cancel_job`` is false: a kept job one
    re-attached to), then Cancelled is raised. A job that ends first
    raises KernelJobFailed with its state in plain words and the tail of its output.
    """
    last: JobStatus | None = None
    running_since: float | None = None
    while True:
        if cancel is not None and cancel.is_set():
            if not cancel_job:
                raise ssh_errors.Cancelled(
                    f"Stopped waiting; job {job.job_id} was left as it is.", host=session.label
                )
            cancel_kernel_job(session, scheduler, job)
            raise ssh_errors.Cancelled(
                f"Cancelled: job {job.job_id} was cancelled (scancel) and its files removed.",
                host=session.label,
            )
        try:
            status = scheduler.state(job.job_id)
        except ssh_errors.SSHError as err:
            # The login node's connection dropped: it reconnects by itself, and the job
            # waits in the queue meanwhile. Give up only when the session does.
            if session.closed or session.state.name == "DOWN":
                raise
            log.info("job %s: cannot ask the scheduler now: %s", job.job_id, err)
            _wait(cancel, 1.0)
            continue
        job.status = status
        if on_status is not None and (last is None or _shown(last) != _shown(status)):
            on_status(status)
        last = status
        if status.phase is JobPhase.PENDING:
            _wait(cancel, pending_poll)
            continue
        if status.phase is not JobPhase.RUNNING:
            raise job_failure(session, scheduler, job, status)
        running_since = running_since or time.monotonic()
        info = _answering_kernel(session, job, status)
        if info is not None:
            return info
        if time.monotonic() - running_since > start_timeout:
            tail = output_tail(session, job)
            cancel_kernel_job(session, scheduler, job, remove_output=False)
            raise KernelJobFailed(
                f"Job {job.job_id} runs on {status.node}, but its kernel did not answer within "
                f"{start_timeout:g} s, so the job was cancelled. Its output ends with: {tail}",
                f"Check the remote Python and the job script; the whole output is in "
                f"{job.output_path} on the cluster.",
                host=session.label,
            )
        _wait(cancel, 0.5)


def _shown(status: JobStatus) -> tuple:
    return (status.phase, status.state, status.reason, status.node)


def _wait(cancel: threading.Event | None, seconds: float) -> None:
    if cancel is not None:
        cancel.wait(seconds)
    else:
        time.sleep(seconds)


def _answering_kernel(
    session: SSHSession, job: KernelJob, status: JobStatus
) -> ConnectionInfo | None:
    """The job's connection info once its kernel answers a heartbeat; None before."""
    try:
        info = remote.read_remote_connection_file(session, job.connection_file)
    except ConnectionFileError:
        return None  # not written yet, or half written
    except ssh_errors.SSHError:
        if session.closed or session.state.name == "DOWN":
            raise
        return None  # the connection dropped: it reconnects by itself; ask again then
    if info.reachable_ip == "127.0.0.1" and info.ip not in ("127.0.0.1", "localhost"):
        # Bound to every interface: dial the node by the name the scheduler gives it.
        info = dataclasses.replace(info, ip=status.node or info.ip)
    entry = KernelEntry(job.kernel_id, job.connection_file, 0.0, info=info)
    try:
        alive = remote.probe_remote_heartbeats(session, [entry], 1.0)[0]
    except ssh_errors.SSHError:
        alive = False
    return info if alive else None


def job_failure(
    session: SSHSession, scheduler: Scheduler, job: KernelJob, status: JobStatus
) -> KernelJobFailed:
    """The error for a job that ended before its kernel answered: state, reason, output."""
    final = scheduler.final_state(job.job_id)
    described = (final or status).description or status.state
    tail = output_tail(session, job)
    run_command(session, f"rm -f {shlex.quote(job.connection_file)}")
    return KernelJobFailed(
        f"Job {job.job_id} ended before its kernel answered: {described}. "
        f"Its output ends with: {tail}",
        f"Fix what the output shows (remote Python, modules, conda environment in the job "
        f"script); the whole output is in {job.output_path} on the cluster.",
        host=session.label,
    )


def output_tail(session: SSHSession, job: KernelJob, lines: int = OUTPUT_TAIL_LINES) -> str:
    """The last lines of the job's output file, or a note that there is none."""
    status, out, _err = run_command(
        session, f"tail -n {lines} {shlex.quote(job.output_path)} 2>/dev/null"
    )
    text = out.strip()
    if status != 0 or not text:
        return "(no output)"
    return text[-2000:]


def cancel_kernel_job(
    session: SSHSession,
    scheduler: Scheduler,
    job: KernelJob,
    remove_output: bool = True,
    timeout: float = 60.0,
) -> JobStatus:
    """scancel the job, wait until the scheduler no longer runs it, remove its files."""
    scheduler.cancel(job.job_id)
    deadline = time.monotonic() + timeout
    status = scheduler.state(job.job_id)
    # Until SLURM has finished with it (COMPLETING included): then nothing is left in squeue.
    leaving = (JobPhase.PENDING, JobPhase.RUNNING, JobPhase.ENDING)
    while status.phase in leaving and time.monotonic() < deadline:
        time.sleep(0.5)
        status = scheduler.state(job.job_id)
    files = [job.connection_file] + ([job.output_path] if remove_output else [])
    run_command(session, f"rm -f {' '.join(shlex.quote(f) for f in files)}")
    job.status = status
    return status


def list_kernel_jobs(scheduler: Scheduler, host: str = "") -> list[KernelJob]:
    """This user's pending and running kernel jobs (started by this plugin), by job ID."""
    jobs = []
    for status in scheduler.list_jobs(JOB_NAME_PREFIX):
        jobs.append(_job_from_status(status, host))
    return sorted(jobs, key=lambda j: int(j.job_id) if j.job_id.isdigit() else 0)


def find_kernel_job(scheduler: Scheduler, job_id: str, host: str = "") -> KernelJob:
    """A kept kernel job, to attach to again: it must be ours and still pending or running."""
    status = scheduler.state(job_id)
    if not status.name.startswith(JOB_NAME_PREFIX) or not status.comment:
        if status.phase is JobPhase.UNKNOWN:
            raise JobNotFound(
                f"SLURM on {scheduler.label} does not know job {job_id}.",
                "List your kernel jobs with `remote-list HOST --slurm`.",
                host=scheduler.label,
            )
        raise JobNotFound(
            f"Job {job_id} is not a kernel job started by spyder-kernel-connect "
            f"(its name is {status.name or 'unknown'}).",
            "List your kernel jobs with `remote-list HOST --slurm`.",
            host=scheduler.label,
        )
    if not status.active:
        raise JobNotFound(
            f"Kernel job {job_id} is no longer running: {status.description}.",
            "Start a new kernel job.",
            host=scheduler.label,
        )
    return _job_from_status(status, host)


def _job_from_status(status: JobStatus, host: str) -> KernelJob:
    kernel_id = status.name[len(JOB_NAME_PREFIX) :]
    connection_file = status.comment
    output = connection_file[: -len(".json")] + "-slurm.log" if connection_file else ""
    return KernelJob(status.job_id, kernel_id, connection_file, output, host, status)


def describe_job(job: KernelJob) -> str:
    """One line for users: ``job 123 on node017: Running, 1:02:03 left``."""
    status = job.status
    if status is None:
        return f"job {job.job_id}"
    where = f" on {status.node}" if status.node else ""
    left = ""
    if status.phase is JobPhase.RUNNING:
        left = f", {format_duration(status.time_left)} left"
    return f"job {job.job_id}{where}: {status.description}{left}"
