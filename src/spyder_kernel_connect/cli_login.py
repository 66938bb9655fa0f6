"""The CLI's answer to login questions (2FA codes, PAM prompts): the controlling terminal.

Questions are asked on ``/dev/tty``, never on stdin (``--password-stdin`` reads that) and
answers are read with echo off where the server asks for it. With no controlling
terminal there is no handler at all, and the engine says in one line that the host needs
an interactive login. Reads poll a cancel event, so Ctrl+C during a prompt ends the
command at once instead of waiting for Enter.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from collections.abc import Iterator

try:
    import termios
except ImportError:  # pragma: no cover - Windows has no /dev/tty either
    termios = None

from spyder_kernel_connect.ssh.prompts import LoginRequest, PromptHandler

TTY = "/dev/tty"
_POLL = 0.1


def terminal_prompt_handler(cancel: threading.Event | None = None) -> PromptHandler | None:
    """A handler asking on the controlling terminal, or None if the process has none."""
    if termios is None:
        return None
    try:
        fd = os.open(TTY, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    os.close(fd)
    return TerminalPrompts(cancel)


class TerminalPrompts:
    """Callable prompt handler; one question at a time even if two hosts ask at once."""

    def __init__(self, cancel: threading.Event | None = None) -> None:
        self.cancel = cancel
        self._lock = threading.Lock()

    def __call__(self, request: LoginRequest) -> list[str] | None:
        with self._lock, _open_tty() as fd:
            text = request.text
            if text:
                _write(fd, f"[{request.host}] {text}\n" if request.waiting else f"{text}\n")
            if not request.prompts:
                return []
            if not text:
                _write(fd, f"Login to {request.host}\n")
            answers = []
            for prompt in request.prompts:
                _write(fd, prompt.text)
                answer = _read_line(fd, prompt.echo, self.cancel, request.cancel)
                if answer is None:
                    _write(fd, "\n")
                    return None
                answers.append(answer)
            return answers


@contextlib.contextmanager
def _open_tty() -> Iterator[int]:
    fd = os.open(TTY, os.O_RDWR | os.O_NOCTTY)
    try:
        yield fd
    finally:
        os.close(fd)


def _write(fd: int, text: str) -> None:
    os.write(fd, text.encode("utf-8", "replace"))


def _read_line(fd: int, echo: bool, *cancels: threading.Event | None) -> str | None:
    """One line from the terminal (None on Ctrl+D or cancel), echo off unless ``echo``."""
    old = termios.tcgetattr(fd)
    if not echo:
        new = termios.tcgetattr(fd)
        new[3] &= ~termios.ECHO  # lflags: keep ICANON, so the kernel edits the line
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
    try:
        data = b""
        while not data.endswith(b"\n"):
            if any(c is not None and c.is_set() for c in cancels):
                return None
            ready, _, _ = select.select([fd], [], [], _POLL)
            if not ready:
                continue
            chunk = os.read(fd, 1024)
            if not chunk:
                return None  # Ctrl+D on an empty line
            data += chunk
        return data.decode("utf-8", "replace").rstrip("\r\n")
    finally:
        if not echo:
            termios.tcsetattr(fd, termios.TCSAFLUSH, old)
            _write(fd, "\n")  # the user's Enter was not echoed
