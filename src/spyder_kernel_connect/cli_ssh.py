"""The options of every command that logs in to an SSH host, and the target they make.

Host, key, jump hosts, config file, secrets read from stdin, known_hosts and timeout are
checked here (a missing file is a plain error before any connection is tried).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from spyder_kernel_connect.cli_checks import (
    add_flags,
    add_timeout,
    check_key_file,
    check_known_hosts,
    secret_line,
)
from spyder_kernel_connect.errors import KernelConnectError

if TYPE_CHECKING:
    from spyder_kernel_connect.ssh import SSHTarget


def add_ssh_options(parser: argparse.ArgumentParser) -> None:
    """Host and authentication options shared by every command that logs in to a host."""
    parser.add_argument(
        "host", metavar="[USER@]HOST[:PORT]", help="SSH host (or ~/.ssh/config alias)"
    )
    parser.add_argument("-i", "--identity", metavar="KEYFILE", help="private key file")
    parser.add_argument(
        "-J",
        "--jump",
        metavar="HOST[,HOST...]",
        help="jump hosts to go through, in order, like ssh -J (each one's user, port and "
        "key come from the SSH config; 'none' ignores the config's ProxyJump)",
    )
    parser.add_argument(
        "-F",
        "--ssh-config",
        metavar="FILE",
        help="SSH config file to read instead of ~/.ssh/config",
    )
    add_flags(
        parser,
        {
            "--password-stdin": "read the password from the first stdin line",
            "--passphrase-stdin": "read the key's passphrase from the next stdin line",
        },
    )
    parser.add_argument(
        "--known-hosts",
        metavar="FILE",
        help="extra known_hosts file (also where new keys are saved)",
    )
    add_flags(parser, {"--accept-new-host-key": "trust and save an unknown host key"})
    add_timeout(parser, 10.0, "connect timeout")


def add_control_option(parser: argparse.ArgumentParser) -> None:
    """Connection sharing between this user's processes (ssh/control.py)."""
    add_flags(
        parser,
        {
            "--no-control": "log in anew: neither use nor offer a connection shared with your "
            "other tunnels to the same destination (shared by default; control socket 0600 "
            "in a 0700 dir under $XDG_RUNTIME_DIR)"
        },
    )


def add_remote_options(parser: argparse.ArgumentParser) -> None:
    """Where the host keeps its kernels: asked from its Python unless given."""
    parser.add_argument(
        "--remote-python",
        metavar="PATH",
        default="python3",
        help="Python on the host, used to find its runtime dir and to start kernels "
        "(default: python3)",
    )
    parser.add_argument(
        "--remote-runtime-dir",
        metavar="DIR",
        help="Jupyter runtime dir on the host (default: ask the host's Jupyter)",
    )


def ssh_target(args: argparse.Namespace) -> SSHTarget:
    """The host to log in to, from the options of ``add_ssh_options`` (files checked first)."""
    from spyder_kernel_connect.ssh import SSHTarget  # paramiko loads only for SSH commands

    if args.known_hosts:
        check_known_hosts(args.known_hosts)
    if args.identity:
        check_key_file(args.identity)
    if args.ssh_config and not os.path.isfile(os.path.expanduser(args.ssh_config)):
        raise KernelConnectError(
            f"SSH config file {args.ssh_config} does not exist or is not a file.",
            "Give the file `ssh -F` would take, or leave -F out to use ~/.ssh/config.",
        )
    password = secret_line("password") if args.password_stdin else None
    passphrase = secret_line("passphrase") if args.passphrase_stdin else None
    return SSHTarget.parse(
        args.host,
        identity_file=args.identity,
        jump=args.jump,
        ssh_config=args.ssh_config,
        password=password,
        passphrase=passphrase,
        known_hosts=args.known_hosts,
        connect_timeout=args.timeout,
    )
