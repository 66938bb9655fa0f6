"""The server's login questions (2FA code, PAM prompts), shown as the server worded them.

Modal, owned by the connect dialog (or by the console when a reconnect needs a new code).
One line edit per prompt, its text hidden where the server asks for no echo; Cancel
abandons the login. A request without prompts ("push sent", or the engine noticing the
server waits on the user) is shown as a waiting message with only Cancel, and is replaced
by the next question or closed when the login ends. Answers are read once from the line
edits, which are then cleared: nothing is kept.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)
from spyder.api.translations import _
from spyder.api.widgets.dialogs import SpyderDialogButtonBox

from spyder_kernel_connect.spyder.widgets.prompt_layout import lay_out_prompt


class LoginPromptDialog(QDialog):
    """Shows one ``ssh.prompts.LoginRequest``; ``answers()`` after it was accepted."""

    def __init__(self, parent: QWidget | None, request: Any, context: str = "") -> None:
        super().__init__(parent)
        self.request = request
        self.setObjectName("login_prompt_dialog")
        self.setWindowTitle(_("SSH login: {host}").format(host=request.host))
        # Ours, not the server's: what this login is for (the console reconnecting).
        self.context = QLabel(context)
        self.context.setObjectName("login_context")
        self.context.setTextFormat(Qt.PlainText)
        self.context.setWordWrap(True)
        self.context.setVisible(bool(context))
        self.setModal(True)
        self.setMinimumWidth(460)

        heading = QLabel(
            _("<b>{host}</b> asks:").format(host=_escape(request.host))
            if request.prompts
            else _("Waiting for <b>{host}</b>").format(host=_escape(request.host))
        )
        heading.setObjectName("login_heading")
        # The server's own words, as plain text (never interpreted as HTML).
        self.title = QLabel(request.title.strip())
        self.title.setObjectName("login_title")
        self.title.setTextFormat(Qt.PlainText)
        self.title.setStyleSheet("font-weight: bold;")
        self.title.setVisible(bool(request.title.strip()))
        self.instructions = QLabel(request.instructions.strip())
        self.instructions.setObjectName("login_instructions")
        self.instructions.setTextFormat(Qt.PlainText)
        self.instructions.setWordWrap(True)
        self.instructions.setVisible(bool(request.instructions.strip()))

        self.fields: list[QLineEdit] = []
        form = QFormLayout()
        for prompt in request.prompts:
            field = QLineEdit()
            field.setObjectName(f"login_answer_{len(self.fields)}")
            if not prompt.echo:
                field.setEchoMode(QLineEdit.Password)
            label = QLabel(prompt.text.strip())
            label.setTextFormat(Qt.PlainText)
            label.setBuddy(field)
            form.addRow(label, field)
            self.fields.append(field)

        self.buttons = SpyderDialogButtonBox()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Cancel)
        self.ok_button = None
        if request.prompts:
            self.ok_button = self.buttons.addButton(QDialogButtonBox.Ok)
            self.ok_button.setText(_("Log in"))
            self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        icon = "lock" if request.prompts else "wait"
        parts = [self.context, heading, self.title, self.instructions, form]
        lay_out_prompt(self, icon, 40, parts, self.buttons)
        if self.fields:
            self.fields[0].setFocus()

    @property
    def waiting(self) -> bool:
        """A message without questions: only Cancel, closed from outside when done."""
        return not self.request.prompts

    def answers(self) -> list[str]:
        """The typed answers, once: the fields are cleared as they are read."""
        values = [field.text() for field in self.fields]
        for field in self.fields:
            field.clear()
        return values

    def reject(self) -> None:
        for field in self.fields:
            field.clear()
        super().reject()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
