"""The base of every error a user can cause; each carries a message in plain words."""

from __future__ import annotations


class KernelConnectError(Exception):
    """An error with a user-facing message: what failed and what to do about it.

    The CLI prints ``str(error)`` on one line and the GUI shows ``gui_text()`` in its
    dialog, so subclasses must put everything the user needs into ``message`` and
    ``hint``. A hint that names a command-line option gets a ``gui_hint`` saying where
    the same thing is in the dialog (the GUI never shows CLI flags).
    """

    def __init__(self, message: str, hint: str = "", gui_hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.gui_hint = hint if gui_hint is None else gui_hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def gui_text(self) -> str:
        """The message and the hint meant for the dialog."""
        return f"{self.message} {self.gui_hint}".strip()
