"""Running one command on a host over an open SSH connection (an exec channel, no pty).

The session's services (session.py) delegate here; the supervisor and reconnect logic
stay there. Every wait is bounded and can be cancelled; every failure is an SSHError.
"""

from __future__ import annotations

import select
import threading
import time

import paramiko

from spyder_kernel_connect.ssh import errors


def run_command(
    transport: paramiko.Transport,
    label: str,
    command: str,
    timeout: float = 30.0,
    cancel: threading.Event | None = None,
    stdin: bytes | None = None,
) -> tuple[int, str, str]:
    """Run ``command``; ``stdin`` (if any) is written, then EOF. Returns (status, out, err).

    ``cancel`` (Cancel in the dialog, Ctrl+C/SIGTERM in the CLI) ends the wait at once.
    """
    try:
        chan = transport.open_session(timeout=timeout)
    except (paramiko.SSHException, OSError, EOFError) as err:
        # Nothing ran: the caller may run it again once the connection is back.
        raise errors.CommandNotStarted(
            f"Cannot run a command on {label}: {err}.", host=label
        ) from None
    deadline = time.monotonic() + timeout
    out, err_out = bytearray(), bytearray()
    try:
        chan.exec_command(command)
        if stdin:
            chan.settimeout(max(deadline - time.monotonic(), 0.1))
            chan.sendall(stdin)
        chan.shutdown_write()
        chan.settimeout(0.0)
        while True:
            drained = _drain(chan, out, err_out)
            if chan.exit_status_ready() and not drained and chan.eof_received:
                break
            if cancel is not None and cancel.is_set():
                raise errors.Cancelled(f"Cancelled while {label} ran {command[:60]!r}.", host=label)
            if time.monotonic() > deadline:
                raise errors.ConnectTimeout(
                    f"Command on {label} did not finish within {timeout:g} s: {command[:60]!r}.",
                    host=label,
                )
            if not drained:
                select.select([chan], [], [], 0.05)
        status = chan.recv_exit_status()
    except (paramiko.SSHException, OSError, EOFError) as err:
        raise errors.SSHError(f"Command on {label} failed: {err}.", host=label) from None
    finally:
        chan.close()
    return status, out.decode("utf-8", "replace"), err_out.decode("utf-8", "replace")


def _drain(chan: paramiko.Channel, out: bytearray, err_out: bytearray) -> bool:
    got = False
    for receive, buffer in ((chan.recv, out), (chan.recv_stderr, err_out)):
        while True:
            try:
                data = receive(65536)
            except TimeoutError:
                break
            if not data:
                break
            buffer += data
            got = True
    return got
