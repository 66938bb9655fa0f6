"""The base of every error a user can cause; each carries a message in plain words."""

from __future__ import annotations


class KernelConnectError(Exception):
    """An error with a user-facing message: what failed and what to do about it.

    The GUI shows ``str(error)`` in its dialog and the CLI prints it on one line,
    so subclasses must put everything the user needs into ``message`` and ``hint``.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()
