"""Scheduler commands over the login node's SSH session (exec channels, script on stdin)."""

from __future__ import annotations

import select
import time

import paramiko

from spyder_kernel_connect.scheduler.base import CommandRunner
from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.session import SSHSession


def session_runner(session: SSHSession, timeout: float = 120.0) -> CommandRunner:
    """A CommandRunner on ``session``: one exec channel per command, no pty."""

    def run(command: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is None:
            return session.run(command, timeout=timeout)
        return run_with_stdin(session, command, stdin, timeout)

    return run


def run_with_stdin(
    session: SSHSession, command: str, data: str, timeout: float = 60.0
) -> tuple[int, str, str]:
    """Run ``command`` with ``data`` on its stdin (then EOF): sbatch reads its script so, and
    no script file is ever written on the cluster."""
    try:
        chan = session.transport.open_session(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as err:
        raise errors.SSHError(
            f"Cannot run a command on {session.label}: {err}.", host=session.label
        ) from None
    out, err_out = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    try:
        chan.exec_command(command)
        chan.sendall(data.encode())
        chan.shutdown_write()
        chan.settimeout(0.0)
        while not (chan.exit_status_ready() and chan.eof_received):
            if time.monotonic() > deadline:
                raise errors.ConnectTimeout(
                    f"{command.split()[0]} on {session.label} did not finish within {timeout:g} s.",
                    "The login node may be overloaded; try again.",
                    host=session.label,
                )
            select.select([chan], [], [], 0.1)
            _drain(chan, out, err_out)
        _drain(chan, out, err_out)
        status = chan.recv_exit_status()
    except (paramiko.SSHException, OSError, EOFError) as err:
        raise errors.SSHError(
            f"Command on {session.label} failed: {err}.", host=session.label
        ) from None
    finally:
        chan.close()
    return status, out.decode("utf-8", "replace"), err_out.decode("utf-8", "replace")


def _drain(chan: paramiko.Channel, out: bytearray, err_out: bytearray) -> None:
    while chan.recv_ready():
        out += chan.recv(65536)
    while chan.recv_stderr_ready():
        err_out += chan.recv_stderr(65536)
