"""The CLI's compute-node commands: a kernel job held in the foreground; the kernel jobs list.

``serve_job_tunnel`` submits (or re-attaches to) a kernel job, reports its queue state on
stderr, tunnels to the kernel through the login node once it answers, prints the local
connection file as the first stdout line, and watches the job: one warning ten minutes
before its time limit, and the command ends (exit 2, saying why) when the job ends. Ctrl+C
cancels the job (scancel, files removed) unless it is kept.
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

from spyder_kernel_connect.cli_login import terminal_prompt_handler
from spyder_kernel_connect.cli_tunnel import host_key_decider
from spyder_kernel_connect.scheduler.base import JobPhase, JobResources, JobStatus
from spyder_kernel_connect.scheduler.errors import JobEnded, KernelJobFailed
from spyder_kernel_connect.scheduler.kernel_job import (
    PENDING_POLL,
    KernelJob,
    cancel_kernel_job,
    describe_job,
    find_kernel_job,
    list_kernel_jobs,
    submit_kernel_job,
    wait_for_kernel_job,
)
from spyder_kernel_connect.scheduler.shell import session_runner
from spyder_kernel_connect.scheduler.slurm import SlurmScheduler
from spyder_kernel_connect.scheduler.slurm_output import format_duration
from spyder_kernel_connect.scheduler.watch import POLL_INTERVAL, JobWatcher
from spyder_kernel_connect.ssh import errors as ssh_errors
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.manager import TunnelManager
from spyder_kernel_connect.ssh.session import StateEvent
from spyder_kernel_connect.ssh.target import SSHTarget


@dataclass
class JobSource:
    """A kernel on a compute node: a new job with ``resources``, or the kept job ``job_id``."""

    resources: JobResources = field(default_factory=JobResources)
    job_id: str | None = None
    keep_job: bool = False
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None
    template: str | None = None
    pending_poll: float = PENDING_POLL
    watch_interval: float = POLL_INTERVAL


def serve_job_tunnel(
    target: SSHTarget,
    source: JobSource,
    accept_new_host_key: bool = False,
    local_dir: str | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Print the local connection file (first stdout line), run until Ctrl+C or the job ends."""
    stop = threading.Event()
    serving = threading.Event()
    ended: list[JobStatus] = []

    def say(text: str) -> None:
        print(text, file=stderr, flush=True)

    def report(event: StateEvent) -> None:
        if serving.is_set():
            say(f"{event.host}: {event.state.value}: {event.message}")

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    manager = TunnelManager(
        host_key_decider=host_key_decider(accept_new_host_key, stderr),
        on_state=report,
        prompt_handler=terminal_prompt_handler(stop),  # 2FA on the login node: ask on the tty
    )
    job: KernelJob | None = None
    scheduler = None
    watcher = None
    try:
        session = manager.session(target, cancel=stop)
        scheduler = SlurmScheduler(session_runner(session), session.label)
        if source.job_id:
            job = find_kernel_job(scheduler, source.job_id, session.label)
            say(f"Attaching to kernel job {job.job_id} ({job.connection_file}).")
        else:
            job = submit_kernel_job(
                session,
                scheduler,
                source.resources,
                source.remote_python,
                source.runtime_dir,
                source.template,
            )
            say(f"Submitted kernel job {job.job_id} on {session.label}.")

        def show(status: JobStatus) -> None:
            where = f" on {status.node}" if status.node else ""
            say(f"Job {status.job_id}{where}: {status.description}")

        try:
            info = wait_for_kernel_job(
                session,
                scheduler,
                job,
                on_status=show,
                cancel=stop,
                pending_poll=source.pending_poll,
                cancel_job=not source.keep_job,
            )
        except ssh_errors.Cancelled as err:
            say(str(err))
            job = None  # already cancelled (or deliberately kept)
            return 130
        except KernelJobFailed:
            job = None  # it ended by itself; its output file stays for the user to read
            raise
        tunnel = manager.open_tunnel(target, info, cancel=stop, local_dir=local_dir)
        print(tunnel.local_connection_file, file=stdout, flush=True)
        serving.set()
        left = format_duration(job.status.time_left if job.status else None)
        after = "keeps running" if source.keep_job else "is cancelled"
        say(
            f"Kernel {job.label}, {left} left: forwarding through {session.label}. "
            f"Press Ctrl+C to end; the job then {after}."
        )

        def warn(seconds: float) -> None:
            say(
                f"Warning: job {job.job_id} reaches its time limit in {format_duration(seconds)}; "
                "save your work."
            )

        def on_ended(status: JobStatus) -> None:
            ended.append(status)
            stop.set()

        watcher = JobWatcher(
            scheduler, job.job_id, on_ended, warn, interval=source.watch_interval
        ).start()
        stop.wait()
    finally:
        try:
            if watcher is not None:
                watcher.stop()
            if job is not None and scheduler is not None and not ended:
                _leave_job(manager, target, scheduler, job, source.keep_job, say)
        finally:
            manager.close_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if ended:
        raise JobEnded(
            f"Kernel job {ended[0].job_id} ended: {ended[0].description}.",
            "Start a new kernel job (its output is in the runtime dir on the cluster).",
            host=target.host,
        )
    return 0


def _leave_job(manager, target, scheduler, job: KernelJob, keep: bool, say) -> None:
    if keep:
        say(
            f"Job {job.job_id} keeps running; attach again with: spyder-kernel-connect tunnel "
            f"{target.host} --slurm --job {job.job_id}"
        )
        return
    session = manager.session(target)
    status = cancel_kernel_job(session, scheduler, job)
    if status.phase is not JobPhase.RUNNING:
        say(f"Cancelled job {job.job_id} (scancel); its files were removed.")


def list_kernel_jobs_on(
    target: SSHTarget, accept_new_host_key: bool = False, stderr: TextIO = sys.stderr
) -> list[KernelJob]:
    """This user's kernel jobs on the cluster behind ``target`` (its login node)."""
    with TunnelManager(
        host_key_decider=host_key_decider(accept_new_host_key, stderr),
        prompt_handler=terminal_prompt_handler(),
    ) as manager:
        session = manager.session(target)
        scheduler = SlurmScheduler(session_runner(session), session.label)
        return list_kernel_jobs(scheduler, session.label)


def job_rows(jobs: list[KernelJob]) -> list[tuple[str, ...]]:
    """The ``remote-list --slurm`` table: job ID, node, state, time left, connection file."""
    rows = [("JOB", "NODE", "STATE", "TIME LEFT", "FILE")]
    for job in jobs:
        status = job.status
        state = status.description if status else "?"
        left = format_duration(status.time_left) if status else "?"
        rows.append((job.job_id, job.node or "-", state, left, job.connection_file))
    return rows


def job_json(job: KernelJob) -> dict:
    status = job.status
    return {
        "job_id": job.job_id,
        "node": job.node,
        "state": status.state if status else "",
        "description": describe_job(job),
        "time_left": status.time_left if status else None,
        "time_limit": status.time_limit if status else None,
        "connection_file": job.connection_file,
        "output": job.output_path,
    }
