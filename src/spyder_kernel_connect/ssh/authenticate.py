"""SSH user authentication: keys, password, keyboard-interactive, and partial success.

A server may require several methods in turn (``AuthenticationMethods
publickey,keyboard-interactive``): after a method succeeds *partially* the next one is
taken from the list the server sends back, as OpenSSH does. Keyboard-interactive
questions (one-time codes, PAM prompts, Duo) go to the caller's prompt handler; a
password the caller already gave answers a plain "Password:" prompt by itself.

Answers pass straight from the handler to paramiko and are never kept or logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.dial import Deadline
from spyder_kernel_connect.ssh.interactive import (
    LoginRound,
    RoundWatchdog,
    ask,
    interactive_login_required,
)
from spyder_kernel_connect.ssh.keys import DEFAULT_KEY_FILES, load_key, try_load_key
from spyder_kernel_connect.ssh.prompts import LoginPrompt, LoginRequest, PromptHandler
from spyder_kernel_connect.ssh.target import ResolvedTarget

# Rounds of keyboard-interactive / asked passwords before giving up (OpenSSH: 3 prompts).
MAX_ROUNDS = 3
# Once a person is in the loop, the server may wait on them (a Duo push to approve).
HUMAN_WAIT = 120.0


def authenticate(
    transport: paramiko.Transport,
    resolved: ResolvedTarget,
    deadline: Deadline,
    prompt_handler: PromptHandler | None = None,
) -> None:
    """Log in with every credential available; raise an SSHError saying what was tried."""
    _Login(transport, resolved, deadline, prompt_handler).run()


class _Login:
    """One login to one host: the methods in OpenSSH's order, as far as the server allows."""

    def __init__(self, transport, resolved, deadline, handler) -> None:
        self.transport: paramiko.Transport = transport
        self.resolved: ResolvedTarget = resolved
        self.deadline: Deadline = deadline
        self.handler: PromptHandler | None = handler
        self.user = resolved.user
        self.label = resolved.label
        # Who asks, for the user: the name they know the host by (a jump host's alias), too.
        alias = resolved.target.host
        self.asker = self.label if alias == resolved.hostname else f"{alias} ({self.label})"
        self.tried: list[str] = []
        self.allowed: list[str] | None = None  # None: the server has not said yet
        self.password_used = False

    def allows(self, method: str) -> bool:
        return self.allowed is None or method in self.allowed

    def run(self) -> None:
        for step in (self._keys, self._password, self._keyboard_interactive, self._ask_password):
            if step():
                return
        what = ", ".join(dict.fromkeys(self.tried)) or "nothing (no key, agent or password)"
        server = f" The server accepts: {', '.join(self.allowed)}." if self.allowed else ""
        raise errors.AuthenticationFailed(
            f"Authentication as {self.user!r} to {self.resolved.hostname}:{self.resolved.port} "
            f"failed (tried: {what}).{server}",
            "Check the user name, the password or the key file and its passphrase.",
            host=self.label,
        )

    # -- one method each ------------------------------------------------------------

    def _keys(self) -> bool:
        candidates = self._candidate_keys()
        try:
            for description, key in candidates:
                if not self.allows("publickey"):
                    return False
                if self._attempt(
                    description, lambda k=key: self.transport.auth_publickey(self.user, k)
                ):
                    return True
            return False
        finally:
            candidates.close()  # closes the agent connection at once

    def _candidate_keys(self):
        target = self.resolved.target
        if target.identity_file:
            yield (
                f"key {target.identity_file}",
                load_key(target.identity_file, target.passphrase, self.label),
            )
        for path in self.resolved.config_identity_files:
            key = try_load_key(path, target.passphrase)
            if key is not None:
                yield f"key {path}", key
        if target.use_agent and os.environ.get("SSH_AUTH_SOCK"):
            agent = paramiko.Agent()
            try:
                for key in agent.get_keys():
                    yield "ssh-agent key", key
            finally:
                agent.close()
        if target.look_for_keys and not target.identity_file:
            for path in DEFAULT_KEY_FILES:
                key = try_load_key(os.path.expanduser(path), target.passphrase)
                if key is not None:
                    yield f"key {path}", key

    def _password(self) -> bool:
        password = self.resolved.target.password
        if password is None or not self.allows("password"):
            return False
        return self._attempt("password", lambda: self.transport.auth_password(self.user, password))

    def _keyboard_interactive(self) -> bool:
        if not self.allows("keyboard-interactive"):
            return False
        if self.handler is None and self.resolved.target.password is None:
            if self.allowed is not None and not {"publickey", "password"} & set(self.allowed):
                self._no_one_to_answer()  # only questions can get us in: say so plainly
            return False
        if self.handler is not None:
            self.waited_for_person()  # someone is there: the server may wait on them
        for _ in range(MAX_ROUNDS):
            login_round = LoginRound(self)
            done = self._attempt(
                "keyboard-interactive",
                lambda r=login_round: self.transport.auth_interactive(self.user, r.answer),
                on_closed=login_round.raise_reason,
                watch=login_round,
            )
            if done:
                return True
            if not login_round.asked or not self.allows("keyboard-interactive"):
                return False  # the server did not ask anything, or moved on to another method
        return False

    def _ask_password(self) -> bool:
        """A jump host's password: the caller had no field for it, so ask the handler.

        Only for jump hosts: the target's password is given up front (the dialog's field,
        --password-stdin), and a wrong one is an error, not a prompt."""
        target = self.resolved.target
        if self.handler is None or target.password is not None or not target.behind:
            return False
        if not self.allowed or "password" not in self.allowed:
            return False
        for _ in range(MAX_ROUNDS):
            request = LoginRequest(
                self.asker,
                "",
                "",
                (LoginPrompt(f"Password for {self.label}:", False),),
                cancel=self.deadline.cancel,
            )
            answers = ask(self.handler, request, self.label)
            self.waited_for_person()
            if not self._attempt(
                "password (asked)",
                lambda a=answers[0]: self.transport.auth_password(self.user, a),
            ):
                if not self.allows("password"):
                    return False
                continue
            return True
        return False

    # -- plumbing ---------------------------------------------------------------------

    def _attempt(
        self,
        description: str,
        call: Callable[[], object],
        on_closed: Callable[[], None] | None = None,
        watch: LoginRound | None = None,
    ) -> bool:
        transport = self.transport
        self.deadline.check("authenticating to")
        # A round with prompts is bounded by our watchdog (which does not count the
        # time a person spends answering), not by paramiko's fixed auth timeout.
        transport.auth_timeout = None if watch else max(self.deadline.remaining(), 0.1)
        self.tried.append(description)
        try:
            if watch:
                with RoundWatchdog(watch):
                    remaining = call()
            else:
                remaining = call()
        except paramiko.BadAuthenticationType as err:
            self.allowed = list(err.allowed_types)
            return False
        except paramiko.AuthenticationException as err:
            if not transport.is_active():
                if on_closed is not None:
                    on_closed()
                self.deadline.check("authenticating to")
                if "timeout" in str(err).lower():
                    raise errors.ConnectTimeout(
                        f"Authentication to {self.label} timed out.", host=self.label
                    ) from None
                raise errors.AuthenticationFailed(
                    f"{self.label} closed the connection during authentication ({err}).",
                    "The server may allow only a few attempts; give the right key or password.",
                    host=self.label,
                ) from None
            return False
        except paramiko.SSHException as err:
            if on_closed is not None:
                on_closed()
            self.deadline.check("authenticating to")
            raise errors.SSHProtocolError(
                f"Authentication to {self.label} failed: {err}.", host=self.label
            ) from None
        if remaining and not transport.is_authenticated():
            # Partial success: this method counted, the server wants these next.
            self.allowed = list(remaining)
            return False
        return transport.is_authenticated()

    def waited_for_person(self) -> None:
        """A person just answered: the connect timeout restarts from now."""
        self.deadline.end = max(self.deadline.end, time.monotonic() + HUMAN_WAIT)

    def _no_one_to_answer(self) -> None:
        raise interactive_login_required(self.label)
