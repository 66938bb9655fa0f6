"""Keep a local project folder and a folder on an SSH host the same, without losing data.

``ProjectSync`` decides file by file, from the local scan, the host's state (one ``stat``
command) and the record of our own last push (``Manifest``):

- unchanged on both sides since our last push: nothing to do;
- changed locally, and the host's copy is still the one we left there: pushed;
- on the host but not as we left it (edited there, or never pushed by us with other
  content): a *conflict* — the caller decides (keep the host's copy, or overwrite it after
  keeping it aside as ``NAME.remote-YYYYmmdd-HHMMSS``); nothing is overwritten silently;
- deleted locally: deleted on the host only if the host's copy is still the one we pushed.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from spyder_kernel_connect.sync import errors
from spyder_kernel_connect.sync.manifest import Manifest, PushedFile
from spyder_kernel_connect.sync.remote_folder import RemoteFile, RemoteFolder
from spyder_kernel_connect.sync.scan import (
    DEFAULT_MAX_FILE_SIZE,
    ExclusionRules,
    LocalFile,
    local_file,
    scan_project,
)

BATCH_THRESHOLD = 8  # more files than this go as one tar stream


class ConflictKind(enum.Enum):
    CHANGED_ON_HOST = "was changed on the host since it was last pushed"
    OTHER_ON_HOST = "exists on the host with other content"


class Resolution(enum.Enum):
    KEEP_HOST = "keep"  # leave the host's copy; this file is not pushed now
    OVERWRITE = "overwrite"  # keep the host's copy aside, then push ours


@dataclass(frozen=True)
class Conflict:
    rel: str
    kind: ConflictKind
    local: LocalFile
    remote: RemoteFile

    def describe(self, host: str) -> str:
        return f"{self.rel} {self.kind.value} ({host})"


ConflictHandler = Callable[[Conflict], Resolution]


@dataclass
class PushReport:
    pushed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    conflicts_kept: list[str] = field(default_factory=list)  # host copy left as it was
    kept_aside: list[str] = field(default_factory=list)  # host copies renamed before overwrite
    not_deleted: list[str] = field(default_factory=list)  # changed on the host: left there
    skipped: list[tuple[str, str]] = field(default_factory=list)  # too large, odd names

    def summary(self) -> str:
        parts = [f"{len(self.pushed)} pushed", f"{self.unchanged} unchanged"]
        for label, items in (
            ("deleted", self.deleted),
            ("conflicts left on the host", self.conflicts_kept),
            ("host copies kept aside", self.kept_aside),
            ("not deleted (changed on the host)", self.not_deleted),
            ("skipped", self.skipped),
        ):
            if items:
                parts.append(f"{len(items)} {label}")
        return ", ".join(parts)


class ProjectSync:
    """One mapping ``local_dir`` -> ``remote_dir`` over an authenticated SSH session.

    Blocking; run it on a worker thread. ``on_conflict`` is asked from that thread (a GUI
    marshals it to its own); without one, conflicts are left on the host and reported.
    """

    def __init__(
        self,
        session,
        local_dir: str,
        remote_dir: str,
        on_conflict: ConflictHandler | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        manifest_dir: str | None = None,
    ) -> None:
        self.local_dir = os.path.realpath(os.path.expanduser(local_dir))
        if not os.path.isdir(self.local_dir):
            raise errors.LocalFolderInvalid(
                f"The local project folder {local_dir} does not exist or is not a folder.",
                "Pick an existing folder.",
            )
        self.session = session
        self.on_conflict = on_conflict
        self.max_file_size = max_file_size
        self.remote = RemoteFolder(session, remote_dir)
        self.manifest = Manifest(session.label, self.remote.given, self.local_dir, manifest_dir)
        self._lock = threading.Lock()  # one push at a time per mapping
        self._prepared = False

    @property
    def remote_dir(self) -> str:
        """The folder on the host: absolute once the first push has asked the host for ``~``."""
        return self.remote.path

    # -- path mapping ----------------------------------------------------------------------

    def rel_path(self, local_path: str) -> str | None:
        """The project-relative POSIX path of a local file, or None if outside the project."""
        path = os.path.realpath(os.path.expanduser(local_path))
        if path != self.local_dir and not path.startswith(self.local_dir + os.sep):
            return None
        return os.path.relpath(path, self.local_dir).replace(os.sep, "/")

    def to_remote(self, local_path: str) -> str | None:
        rel = self.rel_path(local_path)
        if rel is None:
            return None
        return self.remote_dir if rel == "." else f"{self.remote_dir}/{rel}"

    def to_local(self, remote_path: str) -> str | None:
        if remote_path == self.remote_dir:
            return self.local_dir
        if not remote_path.startswith(self.remote_dir + "/"):
            return None
        rel = remote_path[len(self.remote_dir) + 1 :]
        return os.path.join(self.local_dir, *rel.split("/"))

    def is_synced(self, local_path: str) -> bool:
        """Would a save of this file be pushed (inside the project, not excluded)?"""
        rel = self.rel_path(local_path)
        if rel is None or rel == ".":
            return False
        rules = ExclusionRules(self.local_dir, self.max_file_size)
        parts = rel.split("/")
        for depth in range(len(parts) - 1):
            rules.enter_folder("/".join(parts[:depth]))
            folder = os.path.join(self.local_dir, *parts[: depth + 1])
            if rules.folder_excluded("/".join(parts[:depth]), parts[depth], folder):
                return False
        rules.enter_folder("/".join(parts[:-1]))
        return not rules.file_excluded(rel)

    # -- pushing -------------------------------------------------------------------------

    def push_all(
        self,
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
        delete: bool = True,
    ) -> PushReport:
        """Bring the host up to date with the whole project (the initial push)."""
        with self._lock:
            scan = scan_project(self.local_dir, self.max_file_size)
            report = PushReport(skipped=scan.skipped)
            gone = set(self.manifest.files) - set(scan.files) if delete else set()
            self._push(scan.files, gone, report, cancel, progress)
            return report

    def push_paths(
        self,
        local_paths: list[str],
        save_record: bool = True,
        cancel: threading.Event | None = None,
    ) -> PushReport:
        """Push these saved (or deleted) files; paths outside the project are ignored.
        ``save_record=False``: the caller writes the record later (``save_record``), after
        it has told a waiting run that the files are there."""
        with self._lock:
            report = PushReport()
            present: dict[str, LocalFile] = {}
            gone: set[str] = set()
            for path in local_paths:
                rel = self.rel_path(path)
                if rel is None or rel == "." or not self.is_synced(path):
                    continue
                found = local_file(os.path.join(self.local_dir, rel), self.max_file_size)
                if found is not None:
                    present[rel] = found
                elif rel in self.manifest.files:
                    gone.add(rel)
            if present or gone:
                self._push(present, gone, report, cancel, None, save_record)
            return report

    def save_record(self) -> None:
        """Write the record of what was pushed (if it changed)."""
        with self._lock:
            self.manifest.save()

    def host_text_diff(self, rel: str) -> str:
        """A unified diff from the host's copy to the local one (for "show diff")."""
        theirs = self.remote.read(rel).decode("utf-8", "replace").splitlines(keepends=True)
        with open(os.path.join(self.local_dir, rel), "rb") as handle:
            ours = handle.read().decode("utf-8", "replace").splitlines(keepends=True)
        return "".join(difflib.unified_diff(theirs, ours, f"host:{rel}", f"local:{rel}"))

    # -- internals ------------------------------------------------------------------------

    def _push(self, files, gone, report, cancel, progress, save_record=True) -> None:
        if not self._prepared:
            self.remote.prepare()
            self._prepared = True
        remote = self.remote.stat_many(set(files) | gone)
        to_push, to_compare = self._classify(files, remote, report)
        if to_compare:
            self._compare(to_compare, files, remote, to_push, report)
        self._delete(gone, remote, report)
        try:
            self._send(sorted(to_push), files, cancel, progress, report)
        finally:
            if save_record:
                self.manifest.save()

    def _classify(self, files, remote, report):
        to_push: list[str] = []
        to_compare: list[str] = []
        for rel, local in files.items():
            host = remote.get(rel)
            record = self.manifest.get(rel)
            if host is None:
                to_push.append(rel)
            elif record and (host.size, host.mtime) == (record.remote_size, record.remote_mtime):
                if (local.size, local.mtime_ns) == (record.local_size, record.local_mtime_ns):
                    report.unchanged += 1
                elif _sha256(self.local_path(rel)) == record.sha256:
                    self._record(rel, local, record.sha256, host)  # touched, not changed
                    report.unchanged += 1
                else:
                    to_push.append(rel)
            else:
                to_compare.append(rel)  # not as we left it: same content, or a conflict
        return to_push, to_compare

    def _compare(self, rels, files, remote, to_push, report) -> None:
        same_size = [rel for rel in rels if remote[rel].size == files[rel].size]
        host_digests = self.remote.sha256_many(same_size) if same_size else {}
        for rel in rels:
            local, host = files[rel], remote[rel]
            digest = _sha256(self.local_path(rel))
            if host_digests.get(rel) == digest:
                self._record(rel, local, digest, host)  # same content: adopt it, no push
                report.unchanged += 1
                continue
            kind = (
                ConflictKind.CHANGED_ON_HOST
                if self.manifest.get(rel)
                else ConflictKind.OTHER_ON_HOST
            )
            conflict = Conflict(rel, kind, local, host)
            decision = self.on_conflict(conflict) if self.on_conflict else Resolution.KEEP_HOST
            if decision is Resolution.OVERWRITE:
                report.kept_aside.append(self.remote.keep_aside(rel))
                to_push.append(rel)
            else:
                report.conflicts_kept.append(rel)

    def _delete(self, gone, remote, report) -> None:
        for rel in sorted(gone):
            host = remote.get(rel)
            record = self.manifest.get(rel)
            if host is not None and record is not None:
                if (host.size, host.mtime) == (record.remote_size, record.remote_mtime):
                    self.remote.remove(rel)
                    report.deleted.append(rel)
                else:
                    report.not_deleted.append(rel)
            self.manifest.forget(rel)

    def _send(self, rels, files, cancel, progress, report) -> None:
        if not rels:
            return
        if len(rels) > BATCH_THRESHOLD:
            items = [(rel, self.local_path(rel), files[rel]) for rel in rels]
            landed = self.remote.put_batch(items, cancel, progress) or self.remote.stat_many(rels)
            for rel in rels:
                if rel in landed:
                    host = landed[rel]
                    digest = host.sent_sha256 or _sha256(self.local_path(rel))
                    self._record(rel, files[rel], digest, host)
                    report.pushed.append(rel)
            return
        for done, rel in enumerate(rels, 1):
            if cancel is not None and cancel.is_set():
                raise errors.SyncCancelled("Sync cancelled.", "No file was half-written.")
            host = self.remote.put_file(rel, self.local_path(rel), files[rel])
            self._record(rel, files[rel], host.sent_sha256, host)
            report.pushed.append(rel)
            if progress is not None:
                progress(done, len(rels))

    def _record(self, rel: str, local: LocalFile, digest: str, host: RemoteFile) -> None:
        self.manifest.record(
            rel, PushedFile(local.size, local.mtime_ns, digest, host.size, host.mtime)
        )

    def local_path(self, rel: str) -> str:
        """The local file of a project-relative POSIX path."""
        return os.path.join(self.local_dir, *rel.split("/"))


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
