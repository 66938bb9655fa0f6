"""ProxyCommand: SSH over a command's stdin/stdout (``ssh -W %h:%p bastion``, a site script).

Built on paramiko's ProxyCommand with what a long-lived tunnel needs on top: the command
runs through the shell like OpenSSH runs it (``exec`` so no shell lingers), end of file
is reported as such (paramiko's version spins on it), reads are buffered (paramiko reads
packets a few bytes at a time), the process is reaped on close, and the tail of its
stderr is kept so a failure can say why ("ProxyCommand exited with 255: ...").
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import select
import socket
import subprocess
import threading

import paramiko

from spyder_kernel_connect.ssh import errors

_TOKEN = re.compile(r"%(.)")
_STDERR_LINES = 5
_READ_SIZE = 256 * 1024


def expand_proxy_command(command: str, hostname: str, port: int, user: str, alias: str) -> str:
    """OpenSSH's tokens: %h host, %p port, %r remote user, %n name as typed, %% a percent."""
    values = {"h": hostname, "p": str(port), "r": user, "n": alias, "%": "%"}

    def substitute(match: re.Match) -> str:
        token = match.group(1)
        if token not in values:
            raise errors.SSHError(
                f"ProxyCommand {command!r} uses the unknown token %{token}.",
                "Use %h, %p, %r, %n or %% (see ssh_config(5)).",
            )
        return values[token]

    expanded = _TOKEN.sub(substitute, command)
    return re.sub(r"(^|\s)~(?=/|\s|$)", lambda m: m.group(1) + os.path.expanduser("~"), expanded)


class ProxyCommandSocket(paramiko.ProxyCommand):
    """The socket-like object paramiko's Transport reads and writes; one process per hop."""

    def __init__(self, command: str, label: str) -> None:
        # Not paramiko's constructor: it splits the command itself and runs it without a
        # shell, while ssh_config(5) says the command runs through the user's shell.
        self.command = command
        self.label = label
        shell = os.environ.get("SHELL") or "/bin/sh"
        self.cmd = [shell, "-c", f"exec {command}"]
        self.timeout: float | None = None
        self._buffer = b""
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self.eof = False
        self.returncode: int | None = None
        try:
            self.process = subprocess.Popen(
                self.cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as err:
            raise errors.ProxyCommandFailed(
                f"Cannot start the ProxyCommand of {label} ({command!r}): {err.strerror}.",
                "Check the ProxyCommand line in your SSH config.",
                host=label,
            ) from None
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, name="ssh-proxycommand-stderr", daemon=True
        )
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        # Drained all the time: a chatty command must never block on a full pipe.
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self._stderr.append(line)

    def send(self, content: bytes) -> int:
        # An OSError (broken pipe) makes paramiko end the transport with EOF, quietly.
        return self.process.stdin.write(content) or 0

    def recv(self, size: int) -> bytes:
        if not self._buffer:
            if self.eof:
                return b""
            ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
            if not ready:
                raise TimeoutError()
            data = os.read(self.process.stdout.fileno(), _READ_SIZE)
            if not data:
                self.eof = True  # paramiko turns an empty read into EOFError
                return b""
            self._buffer = data
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def shutdown(self, how: int = socket.SHUT_RDWR) -> None:
        """Like a socket's: used to simulate a dropped link."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close(self) -> None:
        if self.process.poll() is None and self.eof:
            # The command ended its output on its own: let it exit and keep its status.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(3.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        elif self.returncode is None:
            self.returncode = self.process.returncode
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        self._stderr_thread.join(2.0)
        with contextlib.suppress(OSError):
            self.process.stderr.close()

    @property
    def closed(self) -> bool:
        return self.process.poll() is not None

    def failure(self) -> errors.ProxyCommandFailed | None:
        """If the command ended by itself: why, in its own words (its last stderr lines)."""
        if self.returncode is None and self.eof:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)
            self.returncode = self.process.poll()
        if self.returncode is None:
            return None
        self._stderr_thread.join(1.0)
        tail = " / ".join(self._stderr) or "no error output"
        return errors.ProxyCommandFailed(
            f"ProxyCommand of {self.label} exited with {self.returncode}: {tail}",
            f"The command was: {self.command}",
            host=self.label,
        )
