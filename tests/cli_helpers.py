"""Running the real ``spyder-kernel-connect`` command in a subprocess, as a user runs it.

Every CLI test goes through these: the command, its environment (``home`` is the user's
HOME, where ``~/.ssh`` is), a timeout so a hang fails the test instead of the suite, and
reading a long-running command's first line or stopping it with a signal.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys

CLI = [sys.executable, "-m", "spyder_kernel_connect"]


def cli_env(home=None, env: dict | None = None) -> dict | None:
    """``env`` (default: this process's), with HOME set to ``home`` if given."""
    if home is None:
        return env
    return dict(os.environ if env is None else env, HOME=str(home))


def run_cli(
    *args, home=None, env=None, cwd=None, timeout: float = 120.0, errors: str = "strict"
) -> subprocess.CompletedProcess:
    """Run the command to its end: exit code, stdout and stderr, as the user sees them."""
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        errors=errors,
        timeout=timeout,
        cwd=cwd,
        env=cli_env(home, env),
        stdin=subprocess.DEVNULL,
    )


def run_as(home, *args, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """``run_cli`` for the user whose HOME is ``home``."""
    return run_cli(*args, home=home, timeout=timeout)


def start_cli(*args, home=None, env=None, stdin_text: str | None = None) -> subprocess.Popen:
    """Start the command in the background; ``stdin_text`` is all it reads (then EOF)."""
    process = subprocess.Popen(
        [*CLI, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(home, env),
    )
    if stdin_text is not None:
        process.stdin.write(stdin_text)
    process.stdin.close()
    process.stdin = None  # so communicate() does not flush a closed pipe
    return process


def start_tunnel(home, *args, stdin_text: str | None = None) -> subprocess.Popen:
    """``spyder-kernel-connect tunnel ARGS`` in the background, for the user at ``home``."""
    return start_cli("tunnel", *args, home=home, stdin_text=stdin_text)


def first_line(process: subprocess.Popen, timeout: float = 30.0) -> str:
    """The first line the command prints (a tunnel: its local connection file)."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise AssertionError(f"no output within {timeout} s: {process.communicate()}")
    return process.stdout.readline().rstrip("\n")


def stop(process: subprocess.Popen, sig=signal.SIGTERM) -> tuple[int, str, str]:
    """Send ``sig`` (if it still runs) and collect: exit code, stdout, stderr."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, out, err
