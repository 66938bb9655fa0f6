"""What this machine last pushed to a remote folder: the memory that makes sync safe.

For every pushed file it keeps the local state that was sent and the remote state that
resulted. A remote file whose size or mtime no longer matches what we left there was
changed by someone else: it is never overwritten or deleted without asking. The record
lives under ``$XDG_STATE_HOME/spyder-kernel-connect/sync`` (0600 file, 0700 folders).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass

FORMAT = 2  # {"format": 2, "files": {rel: [local_size, local_mtime_ns, sha256, ...]}}


@dataclass(frozen=True)
class PushedFile:
    local_size: int
    local_mtime_ns: int
    sha256: str
    remote_size: int
    remote_mtime: int  # whole seconds, as SFTP reports them


def state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "spyder-kernel-connect", "sync")


class Manifest:
    """The pushed-files record of one (host, remote folder, local folder) mapping."""

    def __init__(self, host: str, remote_dir: str, local_dir: str, directory: str | None = None):
        key = "\0".join((host, remote_dir, os.path.realpath(local_dir)))
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        self.path = os.path.join(directory or state_dir(), f"{digest}.json")
        self.files: dict[str, PushedFile] = {}
        self.dirty = False  # changed since the last save
        self._load()

    def get(self, rel: str) -> PushedFile | None:
        return self.files.get(rel)

    def record(self, rel: str, pushed: PushedFile) -> None:
        if self.files.get(rel) != pushed:
            self.files[rel] = pushed
            self.dirty = True

    def forget(self, rel: str) -> None:
        if self.files.pop(rel, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write atomically, 0600 in 0700 folders (the file names a user's hosts and paths).
        Rows as plain lists: a save follows every pushed save, so it must cost little."""
        if not self.dirty and os.path.exists(self.path):
            return
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        for parent in (directory, os.path.dirname(directory)):
            with contextlib.suppress(OSError):
                os.chmod(parent, 0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".manifest-", suffix=".tmp")
        try:
            rows = {rel: _row(p) for rel, p in self.files.items()}
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps({"format": FORMAT, "files": rows}))
            os.replace(tmp, self.path)
            self.dirty = False
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            if data.get("format") == FORMAT:
                self.files = {rel: PushedFile(*row) for rel, row in data["files"].items()}
            else:  # the first format: one object per file
                self.files = {rel: PushedFile(**fields) for rel, fields in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            self.files = {}  # no record (or a damaged one): every remote file counts as unknown


def _row(p: PushedFile) -> list:
    return [p.local_size, p.local_mtime_ns, p.sha256, p.remote_size, p.remote_mtime]
