"""The ``sync`` command: push a local project folder to a folder on an SSH host."""

from __future__ import annotations

import argparse

from spyder_kernel_connect.cli_checks import add_command, add_flags, seconds
from spyder_kernel_connect.cli_ssh import add_ssh_options, ssh_target


def add_sync_command(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, run_sync)
    add_ssh_options(parser)
    parser.add_argument("local_dir", metavar="LOCAL_DIR", help="the project folder here")
    parser.add_argument(
        "remote_dir", metavar="REMOTE_DIR", help="the folder on the host (absolute or ~/…)"
    )
    add_flags(
        parser,
        {
            "--watch": "keep pushing changes until Ctrl+C",
            "--overwrite": "push over files changed on the host (their copy is kept aside first)",
            "--no-delete": "never delete files on the host",
        },
    )
    parser.add_argument(
        "--interval", type=seconds, default=0.5, metavar="SECONDS", help="--watch poll interval"
    )


def run_sync(args: argparse.Namespace) -> int:
    """Push a local project folder to a folder on an SSH host (once, or on every change).

    Copy what differs from LOCAL_DIR to REMOTE_DIR on HOST over one SSH connection
    (version-control and cache folders, virtual environments, large files and .gitignore'd
    paths are left out). A file changed on the host since our last push is never overwritten
    silently: it is reported, or with --overwrite kept aside as NAME.remote-<time> first. A
    file deleted locally is deleted on the host only if the host's copy is still the one
    pushed. With --watch, keep pushing changes until Ctrl+C.
    """
    from spyder_kernel_connect.sync.command import sync_project

    return sync_project(
        ssh_target(args),
        args.local_dir,
        args.remote_dir,
        watch=args.watch,
        overwrite=args.overwrite,
        delete=not args.no_delete,
        interval=args.interval,
        accept_new_host_key=args.accept_new_host_key,
    )
