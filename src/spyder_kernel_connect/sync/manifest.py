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
from dataclasses import asdict, dataclass


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
        self._load()

    def get(self, rel: str) -> PushedFile | None:
        return self.files.get(rel)

    def record(self, rel: str, pushed: PushedFile) -> None:
        self.files[rel] = pushed

    def forget(self, rel: str) -> None:
        self.files.pop(rel, None)

    def save(self) -> None:
        """Write atomically, 0600 in 0700 folders (the file names a user's hosts and paths)."""
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        for parent in (directory, os.path.dirname(directory)):
            with contextlib.suppress(OSError):
                os.chmod(parent, 0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".manifest-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({rel: asdict(p) for rel, p in sorted(self.files.items())}, handle)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            self.files = {rel: PushedFile(**fields) for rel, fields in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            self.files = {}  # no record (or a damaged one): every remote file counts as unknown
