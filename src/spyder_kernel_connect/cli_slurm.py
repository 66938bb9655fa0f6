"""``--slurm`` for ``tunnel`` and ``remote-list``: kernels on cluster compute nodes.

The options and their two entry points live here so cli.py only routes to them.
"""

from __future__ import annotations

import argparse
import json
import os

from spyder_kernel_connect.cli_checks import ArgumentError


def add_slurm_tunnel_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "kernel on a compute node (SLURM)",
        "With --slurm, HOST is the cluster's login node: a batch job starts the kernel on a "
        "compute node (sbatch, script on stdin), and its ports are forwarded through the "
        "login node's connection. Ctrl+C cancels the job unless --keep-job.",
    )
    group.add_argument(
        "--slurm", action="store_true", help="start the kernel in a SLURM job on a compute node"
    )
    group.add_argument("--partition", metavar="P", help="partition (queue) of the job")
    group.add_argument("--time", metavar="T", help="time limit, e.g. 90 or 2:00:00 or 1-00")
    group.add_argument("--cpus", metavar="N", type=int, help="CPU cores (--cpus-per-task)")
    group.add_argument("--mem", metavar="M", help="memory, e.g. 16G")
    group.add_argument("--gres", metavar="G", help="generic resources, e.g. gpu:1")
    group.add_argument("--account", metavar="A", help="account to charge")
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
    group.add_argument(
        "--keep-job",
        action="store_true",
        help="leave the job running when this command ends (default: cancel it)",
    )


def add_slurm_list_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--slurm",
        action="store_true",
        help="list your kernel jobs on the cluster (job ID, node, state, time left)",
    )


def check_slurm_tunnel_args(args: argparse.Namespace) -> None:
    if args.spec or args.start or args.remote:
        args.parser.error("--slurm starts its own kernel: give no SPEC, --start or --remote")
    if args.shutdown_on_exit:
        args.parser.error("--slurm: use --keep-job to keep the job; it is cancelled by default")
    if args.job and any(
        (args.partition, args.time, args.cpus, args.mem, args.gres, args.account, args.sbatch_arg)
    ):
        args.parser.error("--job attaches to a running job: resource options do not apply")


def run_slurm_tunnel(args: argparse.Namespace, target) -> int:
    from spyder_kernel_connect.scheduler import JobResources
    from spyder_kernel_connect.scheduler.foreground import JobSource, serve_job_tunnel

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
    source = JobSource(
        resources=resources,
        job_id=args.job,
        keep_job=args.keep_job,
        remote_python=args.remote_python,
        runtime_dir=args.remote_runtime_dir,
        template=template,
    )
    return serve_job_tunnel(target, source, args.accept_new_host_key, args.local_dir)


def run_slurm_list(args: argparse.Namespace, target) -> int:
    from spyder_kernel_connect.cli import print_table
    from spyder_kernel_connect.scheduler.foreground import (
        job_json,
        job_rows,
        list_kernel_jobs_on,
    )

    jobs = list_kernel_jobs_on(target, args.accept_new_host_key)
    if args.json:
        print(json.dumps([job_json(job) for job in jobs], indent=1))
    elif not jobs:
        print(f"No kernel jobs of yours on {args.host}.")
    else:
        print_table(job_rows(jobs))
    return 0
