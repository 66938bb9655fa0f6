"""Scheduler commands over the login node's SSH session, through its reconnects.

A kernel job waits in the queue for minutes to hours, and the login node's connection may
drop and reconnect meanwhile (a network glitch, a laptop waking up, keepalives that time
out on a loaded machine). A command caught by that waits for the reconnect and runs then,
so a submit or a wait does not fail for it. Submitting is not idempotent: a command with
input (sbatch reads its script on stdin) is run again only if it never started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from spyder_kernel_connect.scheduler.base import CommandRunner
from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.session import SSHSession, TunnelState

log = logging.getLogger(__name__)
T = TypeVar("T")

# Login nodes can be slow to start a shell (busy, heavy rc files): generous, not endless.
COMMAND_TIMEOUT = 120.0
# How long a command waits for the login node's connection to come back.
RECONNECT_WAIT = 120.0
NOT_STARTED = (errors.SessionNotConnected, errors.CommandNotStarted)


def session_runner(
    session: SSHSession, timeout: float = COMMAND_TIMEOUT, cancel: threading.Event | None = None
) -> CommandRunner:
    """A CommandRunner on ``session``: one exec channel per command, no pty, script on
    stdin (no script file is ever written on the cluster), through reconnects.

    ``cancel`` ends a wait for the reconnect (the command then fails); a command once
    started runs to its end. A job's scheduler outlives the attempt that submitted it (its
    watch, its scancel when the console closes): give that one no cancel.
    """

    def run(command: str, stdin: str | None = None) -> tuple[int, str, str]:
        return through_reconnects(
            session,
            lambda: session.run(command, timeout, stdin=None if stdin is None else stdin.encode()),
            cancel,
            rerun=stdin is None,
        )

    return run


def run_command(
    session: SSHSession, command: str, cancel: threading.Event | None = None
) -> tuple[int, str, str]:
    """``session.run`` of a command that is safe to repeat (mkdir -p, rm -f, tail)."""
    return through_reconnects(
        session, lambda: session.run(command, timeout=COMMAND_TIMEOUT, cancel=cancel), cancel
    )


def through_reconnects(
    session: SSHSession,
    work: Callable[[], T],
    cancel: threading.Event | None = None,
    rerun: bool = True,
) -> T:
    """``work()`` (commands or SFTP on ``session``), again once the connection is back if
    the connection dropped under it: whether or not it had started if ``rerun`` (it is
    safe to repeat), else only if it never started. Gives up when the session does (down
    for good, or closed), after ``RECONNECT_WAIT`` s, or when ``cancel`` is set."""
    deadline = time.monotonic() + RECONNECT_WAIT
    pause = 0.2
    while True:
        try:
            return work()
        except errors.SSHError as err:
            # Broken off by the drop, a command or SFTP call raises a plain SSHError; its
            # subclasses say something else (cancelled, timed out, the host's own answer).
            broken_off = rerun and type(err) is errors.SSHError
            retry = broken_off or isinstance(err, NOT_STARTED)
            gone = session.closed or session.state is TunnelState.DOWN
            cancelled = cancel is not None and cancel.is_set()
            if not retry or gone or cancelled or time.monotonic() > deadline:
                raise
            log.info("%s: waiting for the connection to come back: %s", session.label, err)
        if cancel is not None:
            cancel.wait(pause)
        else:
            time.sleep(pause)
        pause = min(pause * 2, 2.0)
