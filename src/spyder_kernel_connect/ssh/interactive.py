"""Keyboard-interactive login rounds: the server's questions, the user's answers, the wait.

A round runs inside paramiko's transport thread (``LoginRound.answer``); the watchdog
bounds it by the connect deadline, which stops while a person answers, and tells the user
when the server goes silent mid-login (a push to approve on a phone).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.dial import POLL
from spyder_kernel_connect.ssh.prompts import (
    LoginPrompt,
    LoginRequest,
    PromptHandler,
    is_password_prompt,
)

if TYPE_CHECKING:
    from spyder_kernel_connect.ssh.authenticate import _Login

# Silence this long inside a keyboard-interactive round: tell the user we are waiting.
WAIT_NOTICE_AFTER = 1.5


def interactive_login_required(label: str) -> errors.InteractiveLoginRequired:
    """The error for a login only questions can open, with nothing here to answer them."""
    return errors.InteractiveLoginRequired(
        f"{label} needs an interactive login (a one-time code or other questions) "
        "and nothing here can answer it.",
        "Connect from Spyder's dialog or run the command in a terminal, where you can "
        "type the answer.",
        host=label,
    )


class StopRound(EOFError):
    """Raised inside paramiko's thread to abort a login round without a logged traceback.

    paramiko logs any other exception from a handler at ERROR level with a traceback;
    an EOFError only at DEBUG. The reason is kept on the round, not in the exception.
    """


class LoginRound:
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
            raise StopRound()
        self.busy.set()
        try:
            answers = ask(login.handler, request, login.label)
        except errors.SSHError as err:
            self.reason = err
            raise StopRound() from None
        finally:
            self.busy.clear()
        if prompts:
            login.waited_for_person()
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
    return interactive_login_required(login.label)


def ask(handler: PromptHandler, request: LoginRequest, label: str) -> Sequence[str]:
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


class RoundWatchdog:
    """Closes the transport when the deadline passes while no person is answering.

    paramiko's auth wait has one fixed timeout, which would run out while the user reads
    a one-time code off a phone; this bound pauses while the handler runs instead.
    """

    def __init__(self, login_round: LoginRound) -> None:
        self.round = login_round
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="ssh-login-watch", daemon=True)

    def __enter__(self) -> RoundWatchdog:
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
