"""Running the real ``spyder-kernel-connect`` command in a subprocess, as a user runs it.

Every CLI test goes through these: the command, its environment (``home`` is the user's
HOME, where ``~/.ssh`` is), a timeout so a hang fails the test instead of the suite, and
reading a long-running command's first line or stopping it with a signal; ``spawn`` runs
it on a real pseudo-terminal (pexpect) where it asks its login questions.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys

import pexpect

CLI = [sys.executable, "-m", "spyder_kernel_connect"]


def cli_env(home=None, env: dict | None = None) -> dict | None:
    """``env`` (default: this process's), with HOME set to ``home`` if given."""
    if home is None:
        return env
    return dict(os.environ if env is None else env, HOME=str(home))


def run_cli(
    *args,
    home=None,
    env=None,
    cwd=None,
    timeout: float = 120.0,
    errors: str = "strict",
    no_terminal: bool = False,
) -> subprocess.CompletedProcess:
    """Run the command to its end: exit code, stdout and stderr, as the user sees them.

    ``no_terminal``: in a session of its own, without a controlling terminal (cron, CI).
    """
    return subprocess.run(
        [*CLI, *map(str, args)],
        capture_output=True,
        text=True,
        errors=errors,
        timeout=timeout,
        cwd=cwd,
        env=cli_env(home, env),
        stdin=subprocess.DEVNULL,
        start_new_session=no_terminal,
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


def tunnel_options(server, connection_file, local_dir) -> list:
    """``tunnel``'s arguments for a kernel behind a test sshd, its key and known_hosts given."""
    return [
        server.address,
        connection_file,
        "-i",
        server.user_key,
        "--known-hosts",
        server.known_hosts,
        "--local-dir",
        local_dir,
    ]


def tunnel_args(server, connection_file, local_dir) -> list:
    """The ``tunnel`` command line for a kernel behind a test sshd."""
    return ["tunnel", *tunnel_options(server, connection_file, local_dir)]


def spawn(home, *args) -> pexpect.spawn:
    """The command on a pseudo-terminal, for the user at ``home``: it can ask questions."""
    env = dict(os.environ, HOME=str(home))
    return pexpect.spawn(CLI[0], [*CLI[1:], *map(str, args)], env=env, encoding="utf-8", timeout=90)


def finish(child: pexpect.spawn) -> int:
    """Stop a spawned command with SIGTERM; its exit status."""
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus
