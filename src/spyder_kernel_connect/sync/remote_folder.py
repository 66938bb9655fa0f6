"""The remote side of a sync: one folder on an SSH host, reached over the session's SFTP and
exec channels (no new login, no scp/rsync process).

Round trips are what cost on a real link, so: state of many files is asked with ONE
``stat`` command; many files go as ONE tar stream into a hidden staging folder, then are
renamed into place (each file appears whole or not at all, and a cancelled stream leaves
nothing); a single saved file goes over SFTP to a temporary name and is renamed. How the
bytes travel (tar stream writer, pipelined SFTP write) is in transfer.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import secrets
import shlex
import stat
import tarfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import paramiko

from spyder_kernel_connect.ssh.errors import SSHError
from spyder_kernel_connect.sync import errors
from spyder_kernel_connect.sync.scan import LocalFile, iter_parents
from spyder_kernel_connect.sync.transfer import ChannelWriter, ExactReader, reason, write_whole

STAGING_PREFIX = ".skc-sync-"
MAX_COMMAND = 60_000  # bytes of file names per command line (far below ARG_MAX and sshd's limit)
CHUNK = 256 * 1024
FEW_FILES = 8  # up to this many, SFTP stats (no shell) beat one command
# Up to this many folders, one SFTP listing each beats starting the user's login shell (which
# on clusters loads modules and conda: often most of a second).
FEW_FOLDERS = 32


# Run on the host inside the staging folder: each file renamed over its place in the project.
MOVE_INTO_PLACE = """
import os
for root, _, files in os.walk("."):
    for name in files:
        source = os.path.join(root, name)
        target = os.path.join("..", source)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
        info = os.stat(target)
        print(info.st_size, int(info.st_mtime), source[2:])
"""


@dataclass(frozen=True)
class RemoteFile:
    size: int
    mtime: int  # whole seconds
    # The digest of the bytes we sent, when we just sent them: the local file may have
    # changed since (an editor still writing it), so it is not hashed again afterwards.
    sent_sha256: str = ""


class RemoteFolder:
    """A folder on the host, given as absolute or ``~/``-relative POSIX path."""

    def __init__(self, session, path: str) -> None:
        self.session = session
        self.given = path.rstrip("/") or "/"
        if not self.given.startswith(("/", "~/")) and self.given != "~":
            raise errors.RemoteFolderInvalid(
                f"The remote folder {path!r} is neither absolute nor under ~.",
                "Give it as /path/on/host or ~/path.",
            )
        # ``~`` is resolved by the host at the first use (``resolve``), not here: creating a
        # mapping must not wait on the network (the GUI builds one on its own thread).
        self.path = posixpath.normpath(self.given) if self.given.startswith("/") else self.given
        self._known_dirs: set[str] = set()

    # -- asking --------------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the folder (and its parents) if needed; it must be a folder. Over SFTP, so
        no login shell runs (rc files on clusters can take seconds)."""
        sftp = self._sftp()
        parts = self.resolve().strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            folder = "/" + "/".join(parts[:depth])
            try:
                mode = sftp.stat(folder).st_mode or 0
            except FileNotFoundError:
                try:
                    sftp.mkdir(folder)
                    continue
                except OSError as err:
                    raise self._unusable(reason(err)) from None
            except OSError as err:
                raise self._unusable(reason(err)) from None
            if not stat.S_ISDIR(mode):
                raise self._unusable(f"{folder} is not a folder")
        self._known_dirs.add("")

    def stat_many(self, rels: Iterable[str]) -> dict[str, RemoteFile]:
        """Size and mtime of each existing file among ``rels`` (absent ones are left out):
        a few files with SFTP stats, many with ONE ``stat`` command."""
        rels = sorted(rels)
        if len(rels) <= FEW_FILES:
            return self._stat_each(rels)
        folders = {posixpath.dirname(rel) for rel in rels}
        if len(folders) <= FEW_FOLDERS:
            return self._list_folders(folders, set(rels))
        found: dict[str, RemoteFile] = {}
        for chunk in _chunks(rels):
            names = " ".join(shlex.quote("./" + rel) for rel in chunk)
            _, out, err = self._run(
                f"cd {shlex.quote(self.path)} 2>/dev/null || exit 0; "
                f"stat -L --printf '%s %Y %n\\n' -- {names}"
            )
            if not out and ("illegal" in err or "unrecognized" in err):
                return self._stat_each(rels)  # not GNU stat (macOS, BSD): one SFTP stat each
            for line in out.splitlines():
                size, mtime, name = line.split(" ", 2)
                found[name[2:]] = RemoteFile(int(size), int(mtime))
        return found

    def _unusable(self, why: str) -> errors.RemoteFolderInvalid:
        return errors.RemoteFolderInvalid(
            f"The folder {self.path} on {self.session.label} cannot be used: {why}.",
            "Pick a folder you own on the host.",
        )

    def sha256_many(self, rels: Iterable[str]) -> dict[str, str]:
        """Content digests of the given remote files (one command; SFTP reads as fallback)."""
        digests: dict[str, str] = {}
        for chunk in _chunks(sorted(rels)):
            names = " ".join(shlex.quote("./" + rel) for rel in chunk)
            status, out, _ = self._run(f"cd {shlex.quote(self.path)} && sha256sum -- {names}")
            for line in out.splitlines():
                digest, _, name = line.partition("  ")
                if name.startswith("./"):
                    digests[name[2:]] = digest
            if status != 0 and not out:
                for rel in chunk:
                    with contextlib.suppress(OSError):
                        digests[rel] = hashlib.sha256(self.read(rel)).hexdigest()
        return digests

    def read(self, rel: str, limit: int = 20 * 1024 * 1024) -> bytes:
        with self._sftp().open(self._remote(rel), "rb") as handle:
            return handle.read(limit)

    # -- changing -----------------------------------------------------------------------

    def put_file(self, rel: str, local_path: str, local: LocalFile) -> RemoteFile:
        """Send one file: temporary name, then rename over the old one (atomic on POSIX).

        Three round trips, not one per step: open; then every write, the times and mode
        (fsetstat) and the close go together and every reply is checked (paramiko's own
        pipelined writes never look at the write replies: a full disk would pass); then
        the rename, only once all of that succeeded."""
        sftp = self._sftp()
        target = self._remote(rel)
        self._make_parents(sftp, rel)
        tmp = posixpath.join(posixpath.dirname(target), f".{posixpath.basename(target)}.skc-tmp")
        seconds = local.mtime_ns // 1_000_000_000
        try:
            with open(local_path, "rb") as source:
                sent = ExactReader(source, local.size)
                size = write_whole(sftp, tmp, sent, seconds, local.mode)
            sftp.posix_rename(tmp, target)
        except (OSError, paramiko.SSHException, EOFError) as err:
            with contextlib.suppress(Exception):
                sftp.remove(tmp)
            self._known_dirs.clear()  # the host's folders may have changed under us: re-check
            raise errors.PushFailed(
                f"Could not copy {rel} to {self.session.label}:{self.path}: {reason(err)}.",
                "Free space or fix permissions on the host; it is retried after the next save.",
            ) from None
        return RemoteFile(size, seconds, sent.sha256.hexdigest())

    def put_batch(
        self,
        items: list[tuple[str, str, LocalFile]],
        cancel: threading.Event | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, RemoteFile]:
        """Send many files as one tar stream into a staging folder, then rename each into
        place; return what landed (empty where the host has no Python to report it).
        Cancelled or failed: the staging folder is removed, the project untouched."""
        stage = posixpath.join(self.path, STAGING_PREFIX + secrets.token_hex(6))
        script = (
            f"stage={shlex.quote(stage)}; trap 'rm -rf \"$stage\"' EXIT; "
            'mkdir -p "$stage" && tar --no-same-owner -xf - -C "$stage" && cd "$stage" || exit 1; '
            # One process renames every file (a Python is where kernels run); else one mv each.
            "if command -v python3 >/dev/null 2>&1; then "
            f"python3 -c {shlex.quote(MOVE_INTO_PLACE)}; "
            "else find . -type f | while IFS= read -r f; do "
            'mkdir -p "../$(dirname "$f")" && mv -f "$f" "../$f" || exit 1; done; fi'
        )
        total = sum(item[2].size for item in items)
        digests: dict[str, str] = {}
        chan = self.session.transport.open_session(timeout=30)
        try:
            chan.exec_command(f"sh -c {shlex.quote(script)}")
            # Large writes: paramiko encrypts and locks per call, tar writes 10 KB records.
            writer = io.BufferedWriter(ChannelWriter(chan, cancel, progress, total), CHUNK)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as archive:
                for rel, local_path, local in items:
                    info = tarfile.TarInfo(rel)
                    info.size, info.mode = local.size, local.mode
                    info.mtime = local.mtime_ns // 1_000_000_000
                    with open(local_path, "rb") as source:
                        sent = ExactReader(source, local.size)
                        archive.addfile(info, sent)
                        digests[rel] = sent.sha256.hexdigest()
            writer.flush()
            chan.shutdown_write()
            out = chan.makefile("rb").read().decode("utf-8", "replace")
            status = chan.recv_exit_status()
            err = chan.makefile_stderr("rb").read().decode("utf-8", "replace")
        except errors.SyncCancelled:
            # End the stream: the host's tar fails on the cut archive and the script's trap
            # removes the staging folder. Wait for that, so "cancelled" means "cleaned up".
            with contextlib.suppress(Exception):
                chan.shutdown_write()
                chan.status_event.wait(30)
            raise
        except (OSError, paramiko.SSHException, EOFError, SSHError) as err:
            raise errors.PushFailed(
                f"Copying {len(items)} files to {self.session.label}:{self.path} failed: "
                f"{reason(err)}.",
                "Nothing was half-written; connect again and the sync resumes.",
            ) from None
        finally:
            chan.close()
        if status != 0:
            raise errors.PushFailed(
                f"Copying {len(items)} files to {self.session.label}:{self.path} failed: "
                f"{_tail(err) or f'exit status {status}'}.",
                "Free space or fix permissions on the host; nothing was half-written.",
            )
        self._known_dirs.update(p for rel, _, _ in items for p in iter_parents(rel))
        landed: dict[str, RemoteFile] = {}
        for line in out.splitlines():
            size, mtime, rel = line.split(" ", 2)
            landed[rel] = RemoteFile(int(size), int(mtime), digests.get(rel, ""))
        return landed

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._sftp().remove(self._remote(rel))

    def keep_aside(self, rel: str) -> str:
        """Rename the host's copy to ``NAME.remote-YYYYmmdd-HHMMSS``; return the new name."""
        aside = f"{rel}.remote-{time.strftime('%Y%m%d-%H%M%S')}"
        self._sftp().posix_rename(self._remote(rel), self._remote(aside))
        return aside

    # -- internals ------------------------------------------------------------------------

    def _remote(self, rel: str) -> str:
        return posixpath.join(self.path, rel)

    def _sftp(self) -> paramiko.SFTPClient:
        return self.session.sftp()

    def _run(self, command: str) -> tuple[int, str, str]:
        return self.session.run(command, timeout=120)

    def resolve(self) -> str:
        """The absolute folder on the host (``~`` asked of the host once)."""
        if self.path.startswith("~"):
            home = self._sftp().normalize(".")
            self.path = posixpath.normpath(posixpath.join(home, self.given[2:]))
        return self.path

    def _make_parents(self, sftp: paramiko.SFTPClient, rel: str) -> None:
        for parent in iter_parents(rel):
            if parent in self._known_dirs:
                continue
            try:
                if not stat.S_ISDIR(sftp.stat(self._remote(parent)).st_mode or 0):
                    raise errors.PushFailed(
                        f"{self.path}/{parent} on {self.session.label} is a file, not a folder.",
                        "Rename it on the host, or exclude the local folder.",
                    )
            except FileNotFoundError:
                sftp.mkdir(self._remote(parent))
            self._known_dirs.add(parent)

    def _list_folders(self, folders: set[str], wanted: set[str]) -> dict[str, RemoteFile]:
        found: dict[str, RemoteFile] = {}
        sftp = self._sftp()
        for folder in sorted(folders):
            try:
                entries = sftp.listdir_attr(self._remote(folder) if folder else self.path)
            except OSError:
                continue  # no such folder yet: none of its files are there
            for attrs in entries:
                rel = posixpath.join(folder, attrs.filename) if folder else attrs.filename
                if rel in wanted and stat.S_ISREG(attrs.st_mode or 0):
                    found[rel] = RemoteFile(attrs.st_size or 0, int(attrs.st_mtime or 0))
        return found

    def _stat_each(self, rels: Iterable[str]) -> dict[str, RemoteFile]:
        found: dict[str, RemoteFile] = {}
        sftp = self._sftp()
        for rel in rels:
            with contextlib.suppress(OSError):
                attrs = sftp.stat(self._remote(rel))
                found[rel] = RemoteFile(attrs.st_size or 0, int(attrs.st_mtime or 0))
        return found


def _chunks(rels: list[str]) -> Iterable[list[str]]:
    chunk: list[str] = []
    size = 0
    for rel in rels:
        if chunk and size + len(rel) > MAX_COMMAND:
            yield chunk
            chunk, size = [], 0
        chunk.append(rel)
        size += len(rel) + 4
    if chunk:
        yield chunk


def _tail(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
