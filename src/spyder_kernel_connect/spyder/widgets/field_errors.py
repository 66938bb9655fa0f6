"""Which form field an error is about, and the cursor put there so the user can fix it.

The connect dialog shows one error at a time. An error about a field unfolds the section
holding that field and selects its text; while an attempt runs the form is locked, so the
field is remembered and focused when the form is unlocked. Editing the field the error is
about (or any field, for an error about none) removes the error: it is stale.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QObject
from qtpy.QtWidgets import QLineEdit, QWidget
from spyder.api.translations import _

from spyder_kernel_connect.connection import ConnectionFileError
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.spyder.widgets.messages import MessageArea


def field_for_error(error: BaseException, remote: bool, password: bool = False) -> str | None:
    """
    The form field a failed attempt asks the user to fix, or None if there is none.

    Parameters
    ----------
    error: BaseException
        The error of the attempt.
    remote: bool
        Whether the attempt went through SSH.
    password: bool, optional
        Whether the user logs in with a password (else with a key).
    """
    from spyder_kernel_connect import ssh
    from spyder_kernel_connect.ssh import remote as remote_commands

    by_type: list[tuple[type, str]] = [
        (ConnectionFileError, "connection_file"),
        (ssh.KeyPassphraseRequired, "passphrase"),
        (ssh.KeyPassphraseWrong, "passphrase"),
        (ssh.KeyFileError, "key_file"),
        (ssh.AuthenticationFailed, "password" if password else "key_file"),
        (ssh.ConnectionRefused, "port"),
        (ssh.HostNotFound, "hostname"),
        (ssh.HostUnreachable, "hostname"),
        (ssh.ConnectTimeout, "hostname"),
        (ssh.HostKeyRejected, "hostname"),
        (ssh.HostKeyChanged, "hostname"),
        (remote_commands.RemotePythonMissing, "remote_python"),
        (remote_commands.RemoteSpyderKernelsMissing, "remote_python"),
    ]
    for error_type, field in by_type:
        if isinstance(error, error_type):
            return field
    return "hostname" if remote else "connection_file"


def failure_text(error: BaseException) -> str:
    """
    What the GUI says about a failed attempt.

    Parameters
    ----------
    error: BaseException
        The error of the attempt (a ``KernelConnectError`` for all a user can cause).
    """
    if isinstance(error, KernelConnectError):
        return error.gui_text()
    return _("Unexpected error while connecting: {}: {}").format(type(error).__name__, error)


class FieldErrors(QObject):
    """The form's error message, the field it is about, and the focus that goes with it."""

    def __init__(self, messages: MessageArea, reveal: Callable[[str], QLineEdit]) -> None:
        """
        Create the tracker, with no error shown.

        Parameters
        ----------
        messages: MessageArea
            Where the error is shown (it is the parent of this object).
        reveal: callable
            Unfolds whatever section holds a ``ConnectionSettings`` field and returns the
            field's line edit, e.g. ``reveal("port")``.
        """
        super().__init__(messages)
        self.messages = messages
        self._reveal = reveal
        self.field: str | None = None
        self._locked = False
        self._focus_after_lock: QWidget | None = None

    # ---- Public API
    def show_error(self, message: str, field: str | None = None) -> None:
        """Show ``message``; with a ``field`` name, reveal that field and select its text."""
        self.messages.show_error(message)
        self.field = field
        if not field:
            return
        widget = self._reveal(field)
        if self._locked:  # ``unlock`` puts the focus back: make it this field
            self._focus_after_lock = widget
        else:
            widget.setFocus()
            widget.selectAll()

    def show_failure(self, error: BaseException, remote: bool, password: bool) -> None:
        """
        Show why an attempt failed and put the cursor in the field to fix.

        Parameters
        ----------
        error: BaseException
            The error of the attempt (a ``KernelConnectError`` for all a user can cause).
        remote: bool
            Whether the attempt went through SSH.
        password: bool
            Whether the user logs in with a password (else with a key).
        """
        self.show_error(failure_text(error), field_for_error(error, remote, password))

    def clear(self) -> None:
        """Remove the error and the notice."""
        self.field = None
        self.messages.clear()

    def on_field_edited(self, field: str) -> None:
        """
        Remove the error if it is about ``field`` or about no field in particular.

        Parameters
        ----------
        field: str
            The ``ConnectionSettings`` field the user just edited.
        """
        if self.field in (None, field):
            self.messages.clear_error()
            self.field = None

    def lock(self, focused: QWidget | None) -> None:
        """
        The form is locked for an attempt: remember where the focus was.

        Parameters
        ----------
        focused: QWidget or None
            The widget with the focus before the lock (kept from the first of several calls).
        """
        if not self._locked:
            self._focus_after_lock = focused
        self._locked = True

    def unlock(self) -> None:
        """The form is unlocked: the focus goes back, or to the field of a new error."""
        self._locked = False
        widget, self._focus_after_lock = self._focus_after_lock, None
        if widget is not None and widget.isEnabled():
            widget.setFocus()
