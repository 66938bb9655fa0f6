"""The unknown-host-key prompt: fingerprint shown, accept once / always, or refuse."""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QWidget,
)
from spyder.api.translations import _
from spyder.api.widgets.dialogs import SpyderDialogButtonBox

from spyder_kernel_connect.spyder.widgets.prompt_layout import lay_out_prompt


class HostKeyDialog(QDialog):
    """``decision`` is set from the button pressed; closing the window refuses."""

    def __init__(self, parent: QWidget | None, info: Any, decisions: Any) -> None:
        super().__init__(parent)
        self.info = info
        self._decisions = decisions
        self.decision = decisions.REJECT
        self.setObjectName("host_key_dialog")
        self.setWindowTitle(_("Unknown SSH host key"))
        self.setMinimumWidth(520)

        host = info.hostname if info.port == 22 else f"{info.hostname}:{info.port}"
        text = QLabel(
            _(
                "<p>This computer has never connected to <b>{host}</b> before, so it "
                "cannot tell whether the server is the one you mean.</p>"
                "<p>The server's {key_type} key fingerprint is:</p>"
            ).format(host=host, key_type=info.key_type)
        )
        text.setWordWrap(True)
        self.fingerprint = QLabel(info.fingerprint)
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.fingerprint.setStyleSheet("font-family: monospace; font-size: 11pt; padding: 4px;")
        advice = QLabel(
            _(
                "Compare it with the fingerprint your administrator gives you (on the "
                "server: <tt>ssh-keygen -lf /etc/ssh/ssh_host_{kind}_key.pub</tt>). "
                "Accept only if they are identical."
            ).format(kind=info.key_type.replace("ssh-", "").split("-")[0])
        )
        advice.setWordWrap(True)

        self.buttons = SpyderDialogButtonBox()
        self.save_button = QPushButton(_("Accept and remember"))
        self.save_button.setToolTip(
            _("Trust this key from now on (saved in {})").format(info.known_hosts_path)
        )
        self.once_button = QPushButton(_("Accept once"))
        self.once_button.setToolTip(_("Trust this key until Spyder is closed"))
        self.refuse_button = QPushButton(_("Refuse"))
        self.buttons.addButton(self.save_button, QDialogButtonBox.AcceptRole)
        self.buttons.addButton(self.once_button, QDialogButtonBox.AcceptRole)
        self.buttons.addButton(self.refuse_button, QDialogButtonBox.RejectRole)
        # Enter must not trust a key by accident: only Refuse is a default button.
        for button in (self.save_button, self.once_button):
            button.setAutoDefault(False)
        self.refuse_button.setDefault(True)
        self.refuse_button.setFocus()
        self.save_button.clicked.connect(lambda: self._decide(decisions.ACCEPT_AND_SAVE))
        self.once_button.clicked.connect(lambda: self._decide(decisions.ACCEPT_ONCE))
        self.refuse_button.clicked.connect(lambda: self._decide(decisions.REJECT))

        lay_out_prompt(
            self, "MessageBoxWarning", 48, [text, self.fingerprint, advice], self.buttons
        )

    def _decide(self, decision: Any) -> None:
        self.decision = decision
        if decision is self._decisions.REJECT:
            self.reject()
        else:
            self.accept()

    def reject(self) -> None:
        self.decision = self._decisions.REJECT
        super().reject()
