"""The ``spyder-kernel-connect`` command.

Each sub-command is one ``add_<name>_command`` function that registers its parser and
points ``func`` at a ``run_<name>`` function; new commands slot in the same way.
Every error a user can cause is a KernelConnectError: printed on one line, exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence

from spyder_kernel_connect import __version__
from spyder_kernel_connect.cli_checks import (
    OneLineParser,
    add_command,
    add_flags,
    add_timeout,
    check_local_dir,
)
from spyder_kernel_connect.cli_slurm import (
    add_slurm_list_option,
    add_slurm_tunnel_options,
    check_slurm_tunnel_args,
    run_slurm_list,
    run_slurm_tunnel,
)
from spyder_kernel_connect.cli_ssh import (
    add_control_option,
    add_remote_options,
    add_ssh_options,
    ssh_target,
)
from spyder_kernel_connect.cli_sync import add_sync_command
from spyder_kernel_connect.connection import KernelEntry, list_kernels, load_connection_spec
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.logs import library_logging

PROG = "spyder-kernel-connect"
JSON_HELP = "print JSON instead of a table"
EXIT_USER_ERROR = 2

EPILOG = """\
examples:
  spyder-kernel-connect list                  running kernels, newest first
  spyder-kernel-connect list --json           the same, for scripts
  spyder-kernel-connect resolve 1234          path of kernel-1234.json
  spyder-kernel-connect resolve ~/k.json      path of a copied file
  spyder-kernel-connect tunnel me@lab ./kernel-1234.json
                                              tunnel to a kernel whose file you copied
  spyder-kernel-connect tunnel me@lab 1234 --remote
                                              look the kernel up on lab, fetch its file
  spyder-kernel-connect tunnel me@lab --start start a kernel on lab and tunnel to it
  spyder-kernel-connect remote-list me@lab    kernels running on lab
  spyder-kernel-connect sync me@lab ~/proj ~/proj --watch
                                              push every save of ~/proj to lab
  spyder-kernel-connect tunnel me@cluster --slurm --partition gpu --time 2:00:00 --gres gpu:1
                                              a kernel in a SLURM job on a compute node
  spyder-kernel-connect remote-list me@cluster --slurm
                                              your kernel jobs: ID, node, state, time left
"""


def add_list_command(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, run_list)
    add_flags(parser, {"--json": JSON_HELP})
    parser.add_argument(
        "--runtime-dir", metavar="DIR", help="directory to list (default: Jupyter's runtime dir)"
    )
    add_timeout(parser, 0.5, "how long to wait for heartbeats, for all kernels together")


def run_list(args: argparse.Namespace) -> int:
    """List the kernels in the Jupyter runtime directory.

    List kernel connection files, newest first, and whether each kernel answers a heartbeat.
    Dead kernels are shown, marked dead.
    """
    if args.runtime_dir and not os.path.isdir(args.runtime_dir):
        raise KernelConnectError(
            f"Runtime directory {args.runtime_dir} does not exist.",
            "Give the directory `jupyter --runtime-dir` prints.",
        )
    print_kernels(list_kernels(args.runtime_dir, timeout=args.timeout), args.json)
    return 0


def print_kernels(entries: Sequence[KernelEntry], as_json: bool, where: str = "") -> None:
    """The kernel table of `list` and `remote-list` (or JSON for scripts)."""
    if as_json:
        print(json.dumps([e.to_json() for e in entries], indent=1))
        return
    if not entries:
        print(f"No kernel connection files found{where}.")
        return
    rows = [("ID", "STARTED", "KERNEL", "STATUS", "FILE")]
    for e in entries:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.mtime))
        if e.error:
            # One row per bad file; the reason names the file, so it takes the last columns.
            rows.append((e.kernel_id, started, "-", f"unreadable: {e.error}"))
            continue
        status = "alive" if e.alive else "dead"
        rows.append((e.kernel_id, started, e.kernel_name or "-", status, e.path))
    print_table(rows)


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns as wide as their widest full-length cell; a shorter row's last cell runs on.

    Control characters and undecodable bytes (a file named ``kernel-a\nb.json``) are shown
    escaped, so one entry is always one line.
    """
    rows = [[printable(cell) for cell in row] for row in rows]
    full = [row for row in rows if len(row) == len(rows[0])]
    widths = [max(len(row[i]) for row in full) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)] + [row[-1]]
        print("  ".join(cells).rstrip())


def add_resolve_command(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, run_resolve)
    parser.add_argument("spec", help="path, kernel ID, file name, prefix or glob")


def run_resolve(args: argparse.Namespace) -> int:
    """Print the connection file a spec designates.

    Resolve a path, a bare kernel ID (1234), kernel-1234, a file name in the runtime
    directory, a unique prefix or a glob to one connection file.
    """
    # Read and validate too: a path is only worth printing if the file is usable.
    print(load_connection_spec(args.spec).path)
    return 0


def add_tunnel_command(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, run_tunnel)
    add_ssh_options(parser)
    parser.add_argument(
        "spec",
        metavar="SPEC",
        nargs="?",
        help="the kernel's connection file (a local copy, or on the host with --remote)",
    )
    add_flags(
        parser,
        {
            "--remote": "resolve SPEC on the host and fetch it over SFTP",
            "--start": "start a new kernel on the host (python -m spyder_kernels.console), "
            "then tunnel",
            "--shutdown-on-exit": "with --start: stop the started kernel when this command "
            "ends (default: keep it)",
        },
    )
    add_remote_options(parser)
    parser.add_argument(
        "--local-dir",
        metavar="DIR",
        help="where to write the local connection file (default: Jupyter's runtime dir)",
    )
    add_control_option(parser)
    add_slurm_tunnel_options(parser)


def run_tunnel(args: argparse.Namespace) -> int:
    """Forward a remote kernel's ports over SSH and write a local connection file.

    Open one SSH connection to HOST, forward the kernel's five ports to 127.0.0.1, print the
    local connection file's path as the first line, and stay in the foreground (reconnecting
    as needed) until Ctrl+C or SIGTERM. Then connect with `jupyter console --existing
    <file>`. SPEC is a local copy of the kernel's connection file; with --remote it is
    looked up on the host (ID, name or path) and fetched over SFTP; with --start a new
    kernel is started on the host. Unknown host keys are refused unless
    --accept-new-host-key; changed host keys are always refused.
    """
    from spyder_kernel_connect.cli_tunnel import serve_tunnel
    from spyder_kernel_connect.service import ConnectRequest, LocalFile, OnHost, StartOnHost

    if args.slurm:
        if args.local_dir:
            check_local_dir(args.local_dir)
        check_slurm_tunnel_args(args)
        return run_slurm_tunnel(args, ssh_target(args))
    if args.start and args.spec:
        args.parser.error("give either SPEC or --start, not both")
    if not args.start and not args.spec:
        args.parser.error("SPEC is required (or --start to start a new kernel on the host)")
    if args.shutdown_on_exit and not args.start:
        args.parser.error("--shutdown-on-exit only applies to a kernel started with --start")
    if args.local_dir:
        check_local_dir(args.local_dir)
    host = {"remote_python": args.remote_python, "runtime_dir": args.remote_runtime_dir}
    if args.start:
        source = StartOnHost(**host)
    elif args.remote:
        source = OnHost(args.spec, **host)
    else:
        source = LocalFile(args.spec)
    request = ConnectRequest(source, ssh_target(args), local_dir=args.local_dir, probe=False)
    return serve_tunnel(
        request, args.accept_new_host_key, args.shutdown_on_exit, share=not args.no_control
    )


def add_remote_list_command(commands: argparse._SubParsersAction) -> None:
    parser = add_command(commands, run_remote_list)
    add_ssh_options(parser)
    add_remote_options(parser)
    add_flags(parser, {"--json": JSON_HELP})
    add_control_option(parser)
    add_slurm_list_option(parser)


def run_remote_list(args: argparse.Namespace) -> int:
    """List the kernels in the runtime directory of an SSH host.

    Log in to HOST, find its Jupyter runtime directory and list the kernel connection files
    there, newest first, with whether each kernel answers (probed through the SSH
    connection). Unreadable files are listed with the reason.
    """
    from spyder_kernel_connect.cli_login import terminal_prompt_handler
    from spyder_kernel_connect.cli_tunnel import host_key_decider
    from spyder_kernel_connect.service import ConnectService, OnHost

    if args.slurm:
        return run_slurm_list(args, ssh_target(args))

    service = ConnectService(
        host_key_decider(args.accept_new_host_key),
        prompt_handler=terminal_prompt_handler(),
        share_connections=not args.no_control,
        offer_connections=False,  # a tunnel started meanwhile would lose it in a moment
    )
    try:
        host = OnHost("", args.remote_python, args.remote_runtime_dir)
        listing = service.list_host(ssh_target(args), host)
    finally:
        service.close()
    print_kernels(listing.entries, args.json, where=f" in {listing.runtime_dir} on {args.host}")
    return 0


COMMANDS = (
    add_list_command,
    add_resolve_command,
    add_tunnel_command,
    add_remote_list_command,
    add_sync_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="Find, tunnel to and connect to Jupyter kernels (for Spyder).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks for unexpected errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for register in COMMANDS:
        register(commands)
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """parse_args, but an optional SPEC may also follow options (``tunnel HOST -i KEY 12``).

    argparse fills every positional at its first chunk, so an optional positional given
    after options is left over as "unrecognized"; adopt it where it belongs.
    """
    args, extras = parser.parse_known_args(argv)
    if len(extras) == 1 and getattr(args, "spec", "") is None and not extras[0].startswith("-"):
        args.spec = extras[0]
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    # File names may hold undecodable bytes (kept as surrogates): print them back as they
    # were on stdout, and escape anything odd in messages rather than crash on it.
    _reconfigure(sys.stdout, "surrogateescape")
    _reconfigure(sys.stderr, "backslashreplace")
    parser = build_parser()
    args = parse_args(parser, argv)
    library_logging(debug=args.debug)
    try:
        return args.func(args)
    except KernelConnectError as err:
        print(f"{PROG}: error: {one_line(str(err))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        if args.debug:
            raise
        print(
            f"{PROG}: unexpected error: {type(err).__name__}: {one_line(str(err))} "
            "(run again with --debug and report it)",
            file=sys.stderr,
        )
        return 1


def printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def one_line(text: str) -> str:
    """The README promises one line per error: fold any line breaks a library put in."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _reconfigure(stream, errors: str) -> None:
    with contextlib.suppress(AttributeError, ValueError):
        stream.reconfigure(errors=errors)
