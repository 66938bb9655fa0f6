"""``--slurm`` for ``tunnel`` and ``remote-list``: kernels on cluster compute nodes.

The options and their two entry points live here so cli.py only routes to them. The job
goes through the connect service like every other kernel (``scheduler.source``); what is
left here is the terminal's part: the job's queue state on stderr, the local connection
file as the first stdout line, one warning ten minutes before the job's time limit, and the
command's end (exit 2, saying why) when the job ends. Ctrl+C cancels the job (scancel,
files removed) unless --keep-job.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

from spyder_kernel_connect.cli_checks import ArgumentError

if TYPE_CHECKING:
    from spyder_kernel_connect.scheduler import JobStatus, KernelJob
    from spyder_kernel_connect.scheduler.source import SlurmJobSource
    from spyder_kernel_connect.service import Connection, Progress
    from spyder_kernel_connect.ssh import SSHTarget

# The job's resources: (option, metavar, type, help), also the options --job refuses.
RESOURCE_OPTIONS = (
    ("--partition", "P", str, "partition (queue) of the job"),
    ("--time", "T", str, "time limit, e.g. 90 or 2:00:00 or 1-00"),
    ("--cpus", "N", int, "CPU cores (--cpus-per-task)"),
    ("--mem", "M", str, "memory, e.g. 16G"),
    ("--gres", "G", str, "generic resources, e.g. gpu:1"),
    ("--account", "A", str, "account to charge"),
)
FLAGS = (
    ("--slurm", "start the kernel in a SLURM job on a compute node"),
    ("--keep-job", "leave the job running when this command ends (default: cancel it)"),
)


def add_slurm_tunnel_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "kernel on a compute node (SLURM)",
        "With --slurm, HOST is the cluster's login node: a batch job starts the kernel on a "
        "compute node (sbatch, script on stdin), and its ports are forwarded through the "
        "login node's connection. Ctrl+C cancels the job unless --keep-job.",
    )
    for flag, help_text in FLAGS:
        group.add_argument(flag, action="store_true", help=help_text)
    for option, metavar, kind, help_text in RESOURCE_OPTIONS:
        group.add_argument(option, metavar=metavar, type=kind, help=help_text)
    group.add_argument(
        "--sbatch-arg",
        metavar="ARG",
        action="append",
        default=[],
        help="one more sbatch option, e.g. --sbatch-arg=--qos=short (repeatable)",
    )
    group.add_argument(
        "--job-template",
        metavar="FILE",
        help="job script template (module loads, conda activate) with a {{kernel_command}} "
        "line; see the 'Kernels on a cluster' guide",
    )
    group.add_argument(
        "--job", metavar="ID", help="attach to a kernel job kept running earlier instead"
    )


def add_slurm_list_option(parser: argparse.ArgumentParser) -> None:
    help_text = "list your kernel jobs on the cluster (job ID, node, state, time left)"
    parser.add_argument("--slurm", action="store_true", help=help_text)


def check_slurm_tunnel_args(args: argparse.Namespace) -> None:
    if args.spec or args.start or args.remote:
        args.parser.error("--slurm starts its own kernel: give no SPEC, --start or --remote")
    if args.shutdown_on_exit:
        args.parser.error("--slurm: use --keep-job to keep the job; it is cancelled by default")
    resources = [getattr(args, option[2:]) for option, *_ in RESOURCE_OPTIONS]
    if args.job and any(resources + args.sbatch_arg):
        args.parser.error("--job attaches to a running job: resource options do not apply")


def run_slurm_tunnel(args: argparse.Namespace, target: SSHTarget) -> int:
    from spyder_kernel_connect.scheduler import JobResources
    from spyder_kernel_connect.scheduler.source import SlurmJobSource

    check_slurm_tunnel_args(args)
    template = None
    if args.job_template:
        try:
            with open(os.path.expanduser(args.job_template), encoding="utf-8") as handle:
                template = handle.read()
        except OSError as err:
            raise ArgumentError(
                f"Cannot read the job template {args.job_template}: {err.strerror or err}.",
                "Give the path of a shell script with a {{kernel_command}} line.",
            ) from None
    resources = JobResources(
        partition=args.partition or "",
        time=args.time or "",
        cpus=args.cpus,
        memory=args.mem or "",
        gres=args.gres or "",
        account=args.account or "",
        extra_args=tuple(args.sbatch_arg),
    )
    resources.validate()
    source = SlurmJobSource(
        resources=resources,
        job_id=args.job or "",
        remote_python=args.remote_python,
        runtime_dir=args.remote_runtime_dir,
        template=template,
        own_job=not args.keep_job,
    )
    return serve_job(target, source, args.accept_new_host_key, args.local_dir)


def serve_job(
    target: SSHTarget,
    source: SlurmJobSource,
    accept_new_host_key: bool = False,
    local_dir: str | None = None,
) -> int:
    """Print the local connection file (first stdout line), run until Ctrl+C or the job ends."""
    from spyder_kernel_connect.cli_login import terminal_prompt_handler
    from spyder_kernel_connect.cli_tunnel import host_key_decider
    from spyder_kernel_connect.scheduler import JobEnded, JobWatcher, format_duration
    from spyder_kernel_connect.service import ConnectionCancelled, ConnectRequest, ConnectService
    from spyder_kernel_connect.ssh import Cancelled

    stop = threading.Event()
    serving = threading.Event()
    ended: list[JobStatus] = []
    keep = source.own_job is False

    def report(event) -> None:  # the SSH connection's state, once the kernel is served
        if serving.is_set():
            say(f"{event.host}: {event.state.value}: {event.message}")

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    service = ConnectService(
        host_key_decider(accept_new_host_key, sys.stderr),
        on_state=report,
        prompt_handler=terminal_prompt_handler(stop),  # 2FA on the login node: ask on the tty
    )
    connection: Connection | None = None
    watcher = None
    try:
        request = ConnectRequest(source, target, local_dir=local_dir, probe=False)
        try:
            connection = service.connect(request, stop, lambda p: _show_progress(p, source))
        except (Cancelled, ConnectionCancelled) as err:
            say(str(err))
            return 130
        job = connection.job.job
        print(connection.connection_file, flush=True)
        serving.set()
        left = format_duration(job.status.time_left if job.status else None)
        after = "keeps running" if keep else "is cancelled"
        say(
            f"Kernel {job.label}, {left} left: forwarding through "
            f"{connection.tunnel.session.label}. Press Ctrl+C to end; the job then {after}."
        )

        def warn(seconds: float) -> None:
            say(
                f"Warning: job {job.job_id} reaches its time limit in {format_duration(seconds)}; "
                "save your work."
            )

        def on_ended(status: JobStatus) -> None:
            ended.append(status)
            stop.set()

        watcher = JobWatcher(connection.job.scheduler, job.job_id, on_ended, warn).start()
        stop.wait()
    finally:
        try:
            if watcher is not None:
                watcher.stop()
            if connection is not None and not ended:
                _leave_job(connection, keep, target.host)
        finally:
            service.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if ended:
        raise JobEnded(
            f"Kernel job {ended[0].job_id} ended: {ended[0].description}.",
            "Start a new kernel job (its output is in the runtime dir on the cluster).",
            host=target.host,
        )
    return 0


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _show_progress(progress: Progress, source: SlurmJobSource) -> None:
    """The job's steps on stderr: submitted (or attached to), then each change of state."""
    from spyder_kernel_connect.service import Step

    if progress.step is Step.JOB_QUEUED and source.job_id:
        say(f"Attaching to kernel job {progress.spec} ({source.job.connection_file}).")
    elif progress.step is Step.JOB_QUEUED:
        say(f"Submitted kernel job {progress.spec} on {progress.host}.")
    elif progress.step is Step.JOB_STATE:
        where = f" on {progress.job.node}" if progress.job.node else ""
        say(f"Job {progress.spec}{where}: {progress.job.description}")


def _leave_job(connection: Connection, keep: bool, host: str) -> None:
    from spyder_kernel_connect.scheduler import JobPhase

    job = connection.job.job
    if keep:
        say(
            f"Job {job.job_id} keeps running; attach again with: spyder-kernel-connect tunnel "
            f"{host} --slurm --job {job.job_id}"
        )
        return
    status = connection.job.cancel(connection.tunnel.session)  # the tunnel holds the session
    if status.phase is not JobPhase.RUNNING:
        say(f"Cancelled job {job.job_id} (scancel); its files were removed.")


def run_slurm_list(args: argparse.Namespace, target: SSHTarget) -> int:
    from spyder_kernel_connect.cli import print_table
    from spyder_kernel_connect.cli_login import terminal_prompt_handler
    from spyder_kernel_connect.cli_tunnel import host_key_decider
    from spyder_kernel_connect.scheduler.source import list_kernel_jobs_on
    from spyder_kernel_connect.service import ConnectService

    service = ConnectService(
        host_key_decider(args.accept_new_host_key), prompt_handler=terminal_prompt_handler()
    )
    try:
        jobs = service.on_host(target, list_kernel_jobs_on)
    finally:
        service.close()
    if args.json:
        print(json.dumps([job_json(job) for job in jobs], indent=1))
    elif not jobs:
        print(f"No kernel jobs of yours on {args.host}.")
    else:
        print_table(job_rows(jobs))
    return 0


def job_rows(jobs: list[KernelJob]) -> list[tuple[str, ...]]:
    """The ``remote-list --slurm`` table: job ID, node, state, time left, connection file."""
    from spyder_kernel_connect.scheduler import format_duration

    rows = [("JOB", "NODE", "STATE", "TIME LEFT", "FILE")]
    for job in jobs:
        status = job.status
        state = status.description if status else "?"
        left = format_duration(status.time_left) if status else "?"
        rows.append((job.job_id, job.node or "-", state, left, job.connection_file))
    return rows


def job_json(job: KernelJob) -> dict:
    from spyder_kernel_connect.scheduler import describe_job

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
