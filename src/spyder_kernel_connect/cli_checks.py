"""Checks of the CLI's arguments, before anything connects: each bad value is one plain line.

Values that would otherwise fail deep inside a library (a timeout of ``inf`` in paramiko,
a directory where a file is expected, a key "file" that is a FIFO) are refused here with
a KernelConnectError, so the command exits 2 with what to fix.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
from collections.abc import Callable

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.files import describe_path

# A password or passphrase line longer than this is not one (stdin is /dev/zero, a file…).
MAX_SECRET_LINE = 4096
# A year: anything longer is a typo, and paramiko's waits overflow on huge values.
MAX_SECONDS = 365 * 24 * 3600.0


class ArgumentError(KernelConnectError):
    """A command-line value that cannot work (a bad timeout, path or file)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line like every other error (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_command(
    commands: argparse._SubParsersAction, run: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """Register ``run_<name>`` as sub-command <name>, described by its docstring.

    The docstring's first line is the command's line in ``--help`` (argparse's style: no
    capital, no full stop), the rest its description; ``args.parser`` is its parser.
    """
    name = run.__name__.removeprefix("run_").replace("_", "-")
    summary, _, description = inspect.getdoc(run).partition("\n\n")
    help_line = summary[0].lower() + summary[1:].rstrip(".")
    parser = commands.add_parser(name, help=help_line, description=description)
    parser.set_defaults(func=run, parser=parser)
    return parser


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, flags: dict) -> None:
    """Add on/off options: ``flags`` maps each one (``--watch``) to its help."""
    for flag, help_text in flags.items():
        parser.add_argument(flag, action="store_true", help=help_text)


def add_timeout(parser: argparse.ArgumentParser, default: float, what: str) -> None:
    """Add ``--timeout SECONDS``: ``what`` it bounds, and its ``default``."""
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=default,
        metavar="SECONDS",
        help=f"{what} (default: {default:g})",
    )


def seconds(text: str) -> float:
    """A ``--timeout`` value: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a usable number of seconds; give a number above 0, e.g. 10"
        )
    return value


def check_key_file(path: str) -> None:
    """``-i``: a missing file is left to the engine's own message; a FIFO, device,
    directory or huge file is refused before anything tries to read it."""
    problem = describe_path(os.path.expanduser(path), must_exist=False)
    if problem:
        raise ArgumentError(f"Key file {path} {problem}.", "Give the path of your private key.")


def check_known_hosts(path: str) -> None:
    """``--known-hosts``: absent is fine (new keys are saved there), else a readable
    known_hosts file (a directory, FIFO or binary file raises KnownHostsError)."""
    from spyder_kernel_connect.ssh.known_hosts import read_known_hosts  # loads paramiko

    read_known_hosts(os.path.abspath(os.path.expanduser(path)))


def check_local_dir(path: str) -> None:
    """``--local-dir``: an existing writable directory, or one that can be created."""
    full = os.path.abspath(os.path.expanduser(path))
    hint = "Give a directory you can write to (it is created if missing)."
    try:
        probe = full
        while not os.path.lexists(probe):
            parent = os.path.dirname(probe)
            if parent == probe:
                break
            probe = parent
        if not os.path.isdir(probe):
            what = "is not a directory" if probe == full else f"is under {probe}, not a directory"
            raise ArgumentError(f"--local-dir {path} {what}.", hint)
        if not os.access(probe, os.W_OK | os.X_OK):
            raise ArgumentError(
                f"--local-dir {path} cannot be written: no permission in {probe}.", hint
            )
        if len(os.fsencode(full)) >= 4000 or any(
            len(os.fsencode(part)) > 255 for part in full.split(os.sep)
        ):
            raise ArgumentError(f"--local-dir {path} is too long a path.", hint)
    except (ValueError, OSError) as err:  # a NUL byte, or an OS refusal of the name
        raise ArgumentError(f"--local-dir {path!r} is not a usable path ({err}).", hint) from None


def secret_line(what: str) -> str:
    """One line of stdin for ``--password-stdin``/``--passphrase-stdin``, read with a cap."""
    line = sys.stdin.readline(MAX_SECRET_LINE + 1)
    if len(line) > MAX_SECRET_LINE:
        raise ArgumentError(
            f"The {what} line on standard input is longer than {MAX_SECRET_LINE} characters.",
            f"Give the {what} alone on the first line (e.g. from a password manager's pipe).",
        )
    return line.rstrip("\r\n")
