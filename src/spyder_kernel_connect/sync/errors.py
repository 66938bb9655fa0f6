"""Errors of project sync: one type per thing a user can get wrong or must decide."""

from __future__ import annotations

from spyder_kernel_connect.errors import KernelConnectError


class SyncError(KernelConnectError):
    """Any failure while keeping a local folder in sync with a folder on an SSH host."""


class LocalFolderInvalid(SyncError):
    """The local project folder does not exist or is not a folder."""


class RemoteFolderInvalid(SyncError):
    """The remote folder cannot be used (not a folder, not writable, outside the home)."""


class PushFailed(SyncError):
    """Copying a file to the host failed (disk full, permission); nothing half-written is left."""


class SyncCancelled(SyncError):
    """The user cancelled a push; files already moved into place are whole, the rest untouched."""
