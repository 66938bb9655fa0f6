"""Questions a server asks during login (keyboard-interactive: 2FA codes, PAM prompts).

The engine never reads a terminal or opens a window: it hands each question to a
*prompt handler* supplied by the caller (the CLI reads /dev/tty, the GUI shows a dialog)
and sends back the answers. Answers live only for the duration of one request: they are
never stored on the engine's objects and never logged.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoginPrompt:
    """One question; ``echo`` False means the answer is secret (hide what is typed)."""

    text: str
    echo: bool


@dataclass(frozen=True)
class LoginRequest:
    """One keyboard-interactive round from the server, as the server worded it.

    ``host`` is the ``user@host:port`` asking (with jump hosts, the hop asking), after the
    name the user gave it if that differs: ``bastion (ada@10.1.2.3:22)``.
    ``prompts`` may be empty: then it is a message only (e.g. "Duo push sent", or the
    engine's own ``waiting`` notice), the handler should show it and return ``[]`` at
    once; the server then waits for the user to act elsewhere (approve on a phone) and
    the engine keeps waiting with it (the connect timeout is extended by HUMAN_WAIT).
    """

    host: str
    title: str
    instructions: str
    prompts: tuple[LoginPrompt, ...]
    # Not from the server: the engine noticed the server has been silent mid-login (it
    # waits on the user, e.g. for a push to be approved); UIs show it as "waiting…".
    waiting: bool = False
    # Set when the login is abandoned (the caller's Cancel, the session closing): a handler
    # waiting for a person should close its prompt then and return None.
    cancel: threading.Event | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """Title and instructions in one block, for a terminal or a label."""
        return "\n".join(part for part in (self.title.strip(), self.instructions.strip()) if part)


# Return one answer per prompt, or None to cancel the login.
PromptHandler = Callable[[LoginRequest], "Sequence[str] | None"]

# A PAM/sshd password question ("Password:", "user@host's password:"), not a code prompt.
_PASSWORD_PROMPT = re.compile(r"^\s*(\S+'s\s+)?password\s*(for\s+\S+\s*)?:?\s*$", re.I)


def is_password_prompt(prompt: LoginPrompt) -> bool:
    """True for a plain hidden "Password:" prompt, which a given password can answer."""
    return not prompt.echo and bool(_PASSWORD_PROMPT.match(prompt.text))
