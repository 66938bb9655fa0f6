"""Errors in what the user typed into the connect dialog or named a preset."""

from __future__ import annotations

from spyder_kernel_connect.errors import KernelConnectError


class InvalidSettings(KernelConnectError):
    """A form value the user must fix; ``field`` names the offending field."""

    def __init__(self, field: str, message: str, hint: str = "") -> None:
        self.field = field
        super().__init__(message, hint)


class InvalidPresetName(KernelConnectError):
    """A saved connection's name is empty, too long, taken, or not there."""
