"""SSH user authentication: keys, password, keyboard-interactive, and partial success.

A server may require several methods in turn (``AuthenticationMethods
publickey,keyboard-interactive``): after a method succeeds *partially* the next one is
taken from the list the server sends back, as OpenSSH does. Keyboard-interactive
questions (one-time codes, PAM prompts, Duo) go to the caller's prompt handler; a
password the caller already gave answers a plain "Password:" prompt by itself.

Answers pass straight from the handler to paramiko and are never kept or logged.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.dial import POLL, Deadline
from spyder_kernel_connect.ssh.keys import DEFAULT_KEY_FILES, load_key, try_load_key
from spyder_kernel_connect.ssh.prompts import (
    LoginPrompt,
    LoginRequest,
    PromptHandler,
    is_password_prompt,
)
from spyder_kernel_connect.ssh.target import ResolvedTarget

# Rounds of keyboard-interactive / asked passwords before giving up (OpenSSH: 3 prompts).
MAX_ROUNDS = 3
# Once a person is in the loop, the server may wait on them (a Duo push to approve).
HUMAN_WAIT = 120.0
# Silence this long inside a keyboard-interactive round: tell the user we are waiting.
WAIT_NOTICE_AFTER = 1.5


class _Stop(EOFError):
    """Raised inside paramiko's thread to abort a login round without a logged traceback.

    paramiko logs any other exception from a handler at ERROR level with a traceback;
    an EOFError only at DEBUG. The reason is kept on the round, not in the exception.
    """


def authenticate(
    transport: paramiko.Transport,
    resolved: ResolvedTarget,
    deadline: Deadline,
    prompt_handler: PromptHandler | None = None,
) -> None:
    """Log in with every credential available; raise an SSHError saying what was tried."""
    _Login(transport, resolved, deadline, prompt_handler).run()


class _Login:
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
            self._waited_for_person()  # someone is there: the server may wait on them
        for _ in range(MAX_ROUNDS):
            login_round = _Round(self)
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
            answers = _ask(self.handler, request, self.label)
            self._waited_for_person()
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
        watch: _Round | None = None,
    ) -> bool:
        transport = self.transport
        self.deadline.check("authenticating to")
        # A round with prompts is bounded by our watchdog (which does not count the
        # time a person spends answering), not by paramiko's fixed auth timeout.
        transport.auth_timeout = None if watch else max(self.deadline.remaining(), 0.1)
        self.tried.append(description)
        try:
            if watch:
                with _Watchdog(watch):
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

    def _waited_for_person(self) -> None:
        """A person just answered: the connect timeout restarts from now."""
        self.deadline.end = max(self.deadline.end, time.monotonic() + HUMAN_WAIT)

    def _no_one_to_answer(self) -> None:
        raise errors.InteractiveLoginRequired(
            f"{self.label} needs an interactive login (a one-time code or other questions) "
            "and nothing here can answer it.",
            "Connect from Spyder's dialog or run the command in a terminal, where you can "
            "type the answer.",
            host=self.label,
        )


class _Round:
    """One keyboard-interactive exchange; ``answer`` runs in paramiko's transport thread."""

    def __init__(self, login: _Login) -> None:
        self.login = login
        self.asked = False
        self.busy = threading.Event()  # a person is answering: the watchdog waits
        self.answered = threading.Event()  # the server asked something since the last look
        self.timed_out = False
        self.reason: BaseException | None = None

    def answer(self, title: str, instructions: str, prompt_list) -> list[str]:
        login = self.login
        self.answered.set()
        prompts = tuple(LoginPrompt(str(text), bool(echo)) for text, echo in prompt_list)
        self.asked = self.asked or bool(prompts)
        request = LoginRequest(
            login.asker, title or "", instructions or "", prompts, cancel=login.deadline.cancel
        )
        password = login.resolved.target.password
        if (
            prompts
            and password is not None
            and not login.password_used
            and all(is_password_prompt(p) for p in prompts)
        ):
            login.password_used = True
            return [password] * len(prompts)
        if not prompts and not request.text:
            return []  # OpenSSH ends a PAM conversation with an empty round: nothing to show
        if login.handler is None:
            if not prompts:
                return []
            self.reason = _reason_no_handler(login)
            raise _Stop()
        self.busy.set()
        try:
            answers = _ask(login.handler, request, login.label)
        except errors.SSHError as err:
            self.reason = err
            raise _Stop() from None
        finally:
            self.busy.clear()
        if prompts:
            login._waited_for_person()
        return list(answers)

    def notify_waiting(self) -> None:
        """The server is silent mid-login: it waits on the user (a push to approve)."""
        login = self.login
        request = LoginRequest(
            login.asker,
            "",
            f"Waiting for {login.label} to complete the login - approve the request on "
            "your device if you received one.",
            (),
            waiting=True,
        )
        # A notice that cannot be shown changes nothing in the login.
        with contextlib.suppress(Exception):
            login.handler(request)

    def raise_reason(self) -> None:
        if self.reason is not None:
            raise self.reason
        if self.timed_out:
            raise errors.ConnectTimeout(
                f"{self.login.label} did not finish the login within "
                f"{self.login.deadline.seconds:g} s of the last answer.",
                "Try again; with a push notification, approve it on your device.",
                host=self.login.label,
            )


def _reason_no_handler(login: _Login) -> errors.SSHError:
    if login.password_used:
        return errors.AuthenticationFailed(
            f"{login.label} refused the password.",
            "Check the password.",
            host=login.label,
        )
    try:
        login._no_one_to_answer()
    except errors.SSHError as err:
        return err
    raise AssertionError("unreachable")


def _ask(handler: PromptHandler, request: LoginRequest, label: str) -> Sequence[str]:
    """Call the handler; a cancel or a broken handler becomes an SSHError."""
    try:
        answers = handler(request)
    except errors.SSHError:
        raise
    except Exception as err:  # a broken prompt window must not look like an answer
        raise errors.AuthenticationFailed(
            f"Could not ask the login questions of {label}: {err}.", host=label
        ) from err
    if answers is None:
        raise errors.AuthenticationCancelled(f"Login to {label} cancelled.", host=label)
    answers = [str(a) for a in answers]
    if len(answers) != len(request.prompts):
        raise errors.AuthenticationFailed(
            f"The login questions of {label} got {len(answers)} answers for "
            f"{len(request.prompts)} prompts.",
            host=label,
        )
    return answers


class _Watchdog:
    """Closes the transport when the deadline passes while no person is answering.

    paramiko's auth wait has one fixed timeout, which would run out while the user reads
    a one-time code off a phone; this bound pauses while the handler runs instead.
    """

    def __init__(self, login_round: _Round) -> None:
        self.round = login_round
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="ssh-login-watch", daemon=True)

    def __enter__(self) -> _Watchdog:
        self.thread.start()
        return self

    def _watch(self) -> None:
        login = self.round.login
        notice_at = time.monotonic() + WAIT_NOTICE_AFTER
        while not self.done.wait(POLL):
            if self.round.busy.is_set() or self.round.answered.is_set():
                self.round.answered.clear()
                notice_at = time.monotonic() + WAIT_NOTICE_AFTER
            elif notice_at and time.monotonic() >= notice_at and login.handler is not None:
                notice_at = 0.0  # once per silence
                self.round.notify_waiting()
            cancel = login.deadline.cancel
            if cancel is not None and cancel.is_set():
                login.transport.close()
                return
            if self.round.busy.is_set():
                # The clock of the deadline stops while a person answers.
                login.deadline.end = max(login.deadline.end, time.monotonic() + POLL * 2)
                continue
            if login.deadline.remaining() <= 0:
                self.round.timed_out = True
                login.transport.close()
                return

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()
