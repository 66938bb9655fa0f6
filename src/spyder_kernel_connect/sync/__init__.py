"""Qt-free project sync: keep a local folder and a folder on an SSH host the same.

Typical use (from a worker thread), over a session the tunnel manager already holds::

    project = ProjectSync(manager.session(target), "~/proj", "~/proj", on_conflict=ask)
    report = project.push_all(cancel=event, progress=show)      # the initial push
    live = LiveSync(project, on_event=show_event)
    live.notify_saved("/home/me/proj/mod.py")                   # from the editor's save
    live.flush()                                                # before a run
"""

from spyder_kernel_connect.sync.engine import (
    Conflict,
    ConflictKind,
    ProjectSync,
    PushReport,
    Resolution,
)
from spyder_kernel_connect.sync.errors import (
    LocalFolderInvalid,
    PushFailed,
    RemoteFolderInvalid,
    SyncCancelled,
    SyncError,
)
from spyder_kernel_connect.sync.live import LiveSync, SyncEvent

__all__ = [
    "Conflict",
    "ConflictKind",
    "LiveSync",
    "LocalFolderInvalid",
    "ProjectSync",
    "PushFailed",
    "PushReport",
    "RemoteFolderInvalid",
    "Resolution",
    "SyncCancelled",
    "SyncError",
    "SyncEvent",
]
