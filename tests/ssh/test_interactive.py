"""Keyboard-interactive (2FA) logins against a real sshd asking PAM (pam_oath) for a TOTP code."""

from __future__ import annotations

import threading
import time

import pytest

from spyder_kernel_connect.ssh import (
    AuthenticationCancelled,
    Cancelled,
    InteractiveLoginRequired,
    LoginRequest,
    TunnelManager,
    TunnelState,
)
from tests.conftest import wait_for
from tests.ssh.conftest import execute
from tests.sshd_otp import OTP_PROMPT, OTPServer, pam_sshd

pytestmark = pytest.mark.sshd


class Answers:
    """A prompt handler answering from a list (None = cancel), recording every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[LoginRequest] = []

    def __call__(self, request: LoginRequest):
        self.requests.append(request)
        answer = self.answers.pop(0)
        return answer() if callable(answer) else answer

    @property
    def prompted(self) -> list[LoginRequest]:
        return [r for r in self.requests if r.prompts]


def otp_manager(handler, **kwargs) -> TunnelManager:
    return TunnelManager(
        prompt_handler=handler, keepalive_interval=1.0, keepalive_timeout=3.0, **kwargs
    )


def test_key_then_right_code_logs_in(otp):
    handler = Answers(lambda: [otp.code()])
    with otp_manager(handler) as manager:
        session = manager.session(otp.server.target())
        assert session.run("echo in")[1] == "in\n"
    [request] = handler.prompted
    [prompt] = request.prompts
    assert prompt.text.startswith(OTP_PROMPT) and not prompt.echo
    assert request.host == otp.server.address
    log = otp.log_text()
    assert "Partial publickey" in log and "Accepted keyboard-interactive/pam" in log


def test_wrong_code_then_right_code(otp):
    handler = Answers(lambda: [otp.wrong_code()], lambda: [otp.code()])
    with otp_manager(handler) as manager:
        session = manager.session(otp.server.target())
        assert session.run("echo in")[1] == "in\n"
    assert len(handler.prompted) == 2


def test_wrong_code_three_times_fails_plainly(otp):
    handler = Answers(*[lambda: [otp.wrong_code()]] * 3)
    with otp_manager(handler) as manager, pytest.raises(Exception) as caught:
        manager.session(otp.server.target())
    assert "Authentication as" in str(caught.value) and "keyboard-interactive" in str(caught.value)
    assert len(handler.prompted) == 3 and manager.sessions == []


def test_cancel_at_the_prompt(otp):
    handler = Answers(None)
    with otp_manager(handler) as manager:
        with pytest.raises(AuthenticationCancelled, match="cancelled"):
            manager.session(otp.server.target())
        assert manager.sessions == []
    assert "ssh-login-watch" not in [t.name for t in threading.enumerate()]


def test_cancel_while_the_prompt_is_open(otp):
    """The dialog's Cancel (the cancel event) ends a login whose prompt nobody answers."""
    cancel, asked = threading.Event(), threading.Event()

    def handler(request):
        asked.set()
        cancel.wait(30)  # a prompt that ignores the cancel and answers late
        return [otp.wrong_code()] * len(request.prompts)

    # The user presses Cancel in the connect dialog while the prompt is open.
    threading.Thread(target=lambda: asked.wait(30) and cancel.set()).start()
    with otp_manager(handler) as manager, pytest.raises(Cancelled):
        manager.session(otp.server.target(), cancel=cancel)
    assert manager.sessions == []


def test_no_one_to_answer(otp):
    with otp_manager(None) as manager, pytest.raises(InteractiveLoginRequired, match="needs an"):
        manager.session(otp.server.target())


def test_asked_once_per_host_then_again_on_reconnect(otp, remote_kernel, tmp_path):
    """Tunnels, commands and SFTP share the one login; a dropped link asks for a new code."""
    handler = Answers(lambda: [otp.code()], lambda: [otp.code(1)])
    states = []
    with otp_manager(handler, on_state=states.append) as manager:
        target = otp.server.target()
        first = manager.open_tunnel(target, remote_kernel.connection_file, local_dir=tmp_path)
        second = manager.open_tunnel(target, remote_kernel.connection_file, local_dir=tmp_path)
        manager.session(target).sftp().listdir(str(otp.server.directory))
        assert execute(first.local_connection_file, "print(6 * 7)") == "42\n"
        assert len(handler.prompted) == 1
        otp.server.kill_connections()
        wait_for(lambda: len(handler.prompted) == 2 and first.state is TunnelState.UP, timeout=60)
        assert execute(second.local_connection_file, "print('again')") == "again\n"
    assert all(r.prompts[0].text.startswith(OTP_PROMPT) for r in handler.prompted)


def test_cancelled_reconnect_stays_down_until_retried(otp, remote_kernel, tmp_path):
    """Cancel at a reconnect's prompt: the session is DOWN (no retry loop asking again and
    again), the local ports stay; retry() (the console's Reconnect) asks again and is UP."""
    handler = Answers(lambda: [otp.code()], None, lambda: [otp.code(1)])
    states = []
    with otp_manager(handler, on_state=states.append) as manager:
        tunnel = manager.open_tunnel(
            otp.server.target(), remote_kernel.connection_file, local_dir=tmp_path
        )
        ports = dict(tunnel.local_ports)
        otp.server.kill_connections()
        wait_for(lambda: tunnel.state is TunnelState.DOWN, timeout=60)
        assert len(handler.prompted) == 2
        assert "cancel" in states[-1].message.lower()
        time.sleep(1.0)  # given the time to, a retry loop would have asked again
        assert len(handler.prompted) == 2
        assert manager.retry(tunnel.session)
        wait_for(lambda: tunnel.state is TunnelState.UP, timeout=60)
        assert len(handler.prompted) == 3 and tunnel.local_ports == ports
        assert execute(tunnel.local_connection_file, "print('back')") == "back\n"
        assert not manager.retry(tunnel.session)  # UP: nothing to retry


def test_server_that_waits_on_the_user(tmp_path):
    """Duo-style: the server says nothing for longer than the connect timeout (a push being
    approved), then asks; the user is told it is waiting, and the login goes through."""
    users = tmp_path / "users.oath"
    pam = (
        "auth required pam_exec.so type=auth quiet /bin/sleep 3\n"
        f"auth required pam_oath.so usersfile={users} window=2 digits=6\n"
    )
    requests = []

    def handler(request):
        requests.append(request)
        return [otp.code()] * len(request.prompts)

    methods = "publickey,keyboard-interactive"
    with pam_sshd(tmp_path / "duo", "duo", pam, methods) as server, otp_manager(handler) as manager:
        otp = OTPServer(server, users)
        otp.new_secret()
        session = manager.session(server.target(connect_timeout=2.0))
        assert session.run("echo in")[1] == "in\n"
    # Told it is waiting before the question came; then asked exactly once.
    assert requests[0].waiting and "approve" in requests[0].instructions
    assert all(not r.prompts for r in requests if r.waiting)
    assert len([r for r in requests if not r.waiting]) == 1


def test_given_password_answers_the_pam_password_prompt(tmp_path, sshd_password_user):
    """PAM asks "Password:" then a code: the password typed in the dialog answers the first,
    so the user sees one prompt, not two."""
    name, password = sshd_password_user
    users = tmp_path / "users.oath"
    pam = (
        "auth required pam_unix.so\n"
        f"auth required pam_oath.so usersfile={users} window=2 digits=6\n"
    )
    with pam_sshd(tmp_path / "pw", "pw", pam, "keyboard-interactive") as server:
        otp = OTPServer(server, users)
        otp.new_secret(users=(name,))
        handler = Answers(lambda: [otp.code()])
        target = server.target(user=name, identity_file=None, password=password)
        with otp_manager(handler) as manager:
            assert manager.session(target).run("id -un")[1] == f"{name}\n"
    [request] = handler.prompted
    [prompt] = request.prompts
    assert prompt.text.startswith(OTP_PROMPT)
