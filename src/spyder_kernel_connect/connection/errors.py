"""Errors raised while resolving, reading or validating a connection file."""

from __future__ import annotations

from collections.abc import Sequence

from spyder_kernel_connect.errors import KernelConnectError


class ConnectionFileError(KernelConnectError):
    """Any problem with a connection file; ``path`` is the file concerned, if known."""

    def __init__(
        self, message: str, hint: str = "", path: str | None = None, gui_hint: str | None = None
    ) -> None:
        self.path = path
        super().__init__(message, hint, gui_hint)


class ConnectionFileNotFound(ConnectionFileError):
    def __init__(self, spec: str, searched: Sequence[str]) -> None:
        self.spec = spec
        self.searched = list(searched)
        where = ", ".join(self.searched) if self.searched else "(nowhere)"
        super().__init__(
            f"No connection file matches {spec!r} (searched: {where}).",
            "Check the kernel ID or path; spyder-kernel-connect list shows the running kernels.",
            gui_hint="Check the kernel ID or path, or pick the kernel from the list.",
        )


class AmbiguousConnectionSpec(ConnectionFileError):
    def __init__(self, spec: str, candidates: Sequence[str]) -> None:
        self.spec = spec
        self.candidates = list(candidates)
        shown = ", ".join(self.candidates[:10])
        more = f" and {len(self.candidates) - 10} more" if len(self.candidates) > 10 else ""
        super().__init__(
            f"{spec!r} matches {len(self.candidates)} connection files: {shown}{more}.",
            "Type more of the kernel ID or the full path.",
        )


class ConnectionFileUnreadable(ConnectionFileError):
    """The file exists but cannot be read (permissions, a directory, I/O error, too large)."""


def dangling_link(path: str) -> ConnectionFileUnreadable:
    """The error for ``path``, a symbolic link to a file that does not exist."""
    return ConnectionFileUnreadable(
        f"{path} is a symbolic link to a file that does not exist.",
        "Remove the link, or give the file it should point to.",
        path=path,
    )


class ConnectionFileInvalid(ConnectionFileError):
    """The file was read but is not a valid connection file (not JSON, wrong fields)."""

    def __init__(
        self, message: str, hint: str = "", path: str | None = None, field: str | None = None
    ) -> None:
        self.field = field
        super().__init__(message, hint, path)
