"""The 2FA prompt: the server's own words, hidden answers, Cancel, a waiting message; and the
GUI prompt handler answering a real sshd's TOTP question from a worker thread."""

from __future__ import annotations

import threading

import pytest
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QApplication, QDialogButtonBox, QLineEdit

from spyder_kernel_connect.spyder.login_prompts import LoginPrompter
from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog
from spyder_kernel_connect.ssh import (
    AuthenticationCancelled,
    LoginPrompt,
    LoginRequest,
    TunnelManager,
)
from tests.sshd_otp import OTP_PROMPT

DUO = LoginRequest(
    "ada@login.example.org:22",
    "Duo two-factor login for ada",
    "Enter a passcode or select one of the following options:\n 1. Duo Push to XXX-XXX-1234",
    (LoginPrompt("Passcode or option (1-1): ", False), LoginPrompt("Your name: ", True)),
)


def test_prompt_shows_the_servers_text_and_hides_secret_answers(qtbot):
    dialog = LoginPromptDialog(None, DUO)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.title.text() == "Duo two-factor login for ada"
    assert "1. Duo Push" in dialog.instructions.text()
    assert [f.echoMode() for f in dialog.fields] == [QLineEdit.Password, QLineEdit.Normal]
    labels = [dialog.findChild(QLineEdit, f"login_answer_{i}") for i in range(2)]
    assert labels == dialog.fields
    dialog.fields[0].setText("1")
    dialog.fields[1].setText("Ada")
    assert dialog.answers() == ["1", "Ada"]
    assert [f.text() for f in dialog.fields] == ["", ""]  # read once, not kept


def test_waiting_message_has_only_cancel(qtbot):
    request = LoginRequest("ada@login:22", "", "Push sent to your phone.", (), waiting=True)
    dialog = LoginPromptDialog(None, request)
    qtbot.addWidget(dialog)
    assert dialog.waiting and dialog.fields == [] and dialog.ok_button is None
    assert dialog.buttons.button(QDialogButtonBox.Cancel) is not None


@pytest.fixture
def answer_prompt():
    """``answer_prompt(act)``: run ``act(dialog)`` on each 2FA prompt as it opens (it is
    modal, so a timer acts); returns the list of prompts seen. Timers stop at teardown."""
    timers: list[QTimer] = []

    def start(act) -> list:
        seen: list = []

        def look():
            dialog = QApplication.activeModalWidget()
            if isinstance(dialog, LoginPromptDialog) and dialog not in seen:
                seen.append(dialog)
                act(dialog)

        timer = QTimer()
        timer.timeout.connect(look)
        timer.start(50)
        timers.append(timer)
        return seen

    yield start
    for timer in timers:
        timer.stop()


def in_thread(function) -> dict:
    result: dict = {}

    def run():
        try:
            result["value"] = function()
        except Exception as err:  # handed to the test thread
            result["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    result["thread"] = thread
    return result


@pytest.mark.sshd
def test_real_2fa_answered_in_the_prompt_once_per_host(qtbot, otp, ssh_home, answer_prompt):
    prompter = LoginPrompter(lambda: None)
    shown = []

    def type_code(dialog):
        texts = [label.text() for label in dialog.findChildren(type(dialog.title))]
        shown.append((dialog.fields[0].echoMode(), texts))
        dialog.fields[0].setText(otp.code())
        dialog.ok_button.click()

    seen = answer_prompt(type_code)
    with TunnelManager(prompt_handler=prompter) as manager:
        target = otp.server.target()
        first = in_thread(lambda: manager.session(target).run("echo one")[1])
        qtbot.waitUntil(lambda: not first["thread"].is_alive(), timeout=60_000)
        assert first.get("value") == "one\n", first.get("error")
        second = in_thread(lambda: manager.session(target).run("echo two")[1])
        qtbot.waitUntil(lambda: not second["thread"].is_alive(), timeout=60_000)
        assert second.get("value") == "two\n"
    dialogs = [d for d in seen if isinstance(d, LoginPromptDialog)]
    assert len(dialogs) == 1  # the second use of the host did not ask again
    [(echo, texts)] = shown
    assert echo == QLineEdit.Password
    assert any(text.startswith(OTP_PROMPT) for text in texts)


@pytest.mark.sshd
def test_cancel_in_the_prompt_cancels_the_login(qtbot, otp, ssh_home, answer_prompt):
    prompter = LoginPrompter(lambda: None)
    answer_prompt(lambda dialog: dialog.cancel_button.click())
    with TunnelManager(prompt_handler=prompter) as manager:
        attempt = in_thread(lambda: manager.session(otp.server.target()))
        qtbot.waitUntil(lambda: not attempt["thread"].is_alive(), timeout=60_000)
        assert isinstance(attempt.get("error"), AuthenticationCancelled)
        assert manager.sessions == []


@pytest.mark.sshd
def test_connect_cancel_closes_an_open_prompt(qtbot, otp, ssh_home, answer_prompt):
    prompter = LoginPrompter(lambda: None)
    prompter.cancel = cancel = threading.Event()
    seen = answer_prompt(lambda dialog: cancel.set())  # the dialog's Cancel button
    with TunnelManager(prompt_handler=prompter) as manager:
        attempt = in_thread(lambda: manager.session(otp.server.target(), cancel=cancel))
        qtbot.waitUntil(lambda: not attempt["thread"].is_alive(), timeout=60_000)
        assert "cancelled" in str(attempt.get("error"))
    [dialog] = [d for d in seen if isinstance(d, LoginPromptDialog)]
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)


@pytest.mark.sshd
def test_engine_cancel_closes_an_open_prompt(qtbot, otp, ssh_home, answer_prompt):
    """No attempt owns the prompt (a reconnect): the login's own cancel still closes it."""
    prompter = LoginPrompter(lambda: None)
    cancel = threading.Event()
    seen = answer_prompt(lambda dialog: cancel.set())  # e.g. the session is being closed
    with TunnelManager(prompt_handler=prompter) as manager:
        attempt = in_thread(lambda: manager.session(otp.server.target(), cancel=cancel))
        qtbot.waitUntil(lambda: not attempt["thread"].is_alive(), timeout=60_000)
        assert "cancelled" in str(attempt.get("error"))
    [dialog] = [d for d in seen if isinstance(d, LoginPromptDialog)]
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)


@pytest.mark.sshd
def test_console_prompt_is_not_modal_and_closing_its_console_abandons_the_login(
    qtbot, otp, ssh_home
):
    """A reconnect's prompt belongs to a console: not modal, with our context line; the
    console closing (its widget deleted) abandons the login instead of hanging it."""
    from qtpy.QtWidgets import QWidget

    from spyder_kernel_connect.spyder.login_prompts import PromptPlace

    console = QWidget()
    answered: list[bool] = []
    prompter = LoginPrompter(lambda: None)
    prompter.place = lambda request: PromptPlace(
        console, "To reconnect the console \u201clab 1/A\u201d", False, answered.append
    )

    def shown() -> list:
        return [w for w in console.findChildren(LoginPromptDialog) if w.isVisible()]

    with TunnelManager(prompt_handler=prompter) as manager:
        attempt = in_thread(lambda: manager.session(otp.server.target()))
        qtbot.waitUntil(lambda: len(shown()) == 1, timeout=60_000)
        [dialog] = shown()
        assert not dialog.isModal() and QApplication.activeModalWidget() is None
        assert dialog.context.text() == "To reconnect the console \u201clab 1/A\u201d"
        console.deleteLater()  # the console's tab was closed while its prompt was open
        qtbot.waitUntil(lambda: not attempt["thread"].is_alive(), timeout=60_000)
        assert isinstance(attempt.get("error"), AuthenticationCancelled)
    assert answered == []  # nobody answered, nothing to tell a console that is gone
