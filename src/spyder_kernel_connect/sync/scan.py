"""What of a local project folder is synced: every regular file, minus the excluded ones.

Excluded: version-control and cache folders, virtual environments (a folder holding
``pyvenv.cfg`` or ``conda-meta``), Jupyter checkpoints, files over a size limit, and what
the project's ``.gitignore`` files (and ``.git/info/exclude``) ignore. The gitignore rules
are pathspec's, the matcher git's own semantics are tested against, not a hand-made one.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

import pathspec

EXCLUDED_DIR_NAMES = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".spyproject"}
)  # fmt: skip
VENV_MARKERS = ("pyvenv.cfg", "conda-meta")
DEFAULT_MAX_FILE_SIZE = 20 * 1024 * 1024


@dataclass(frozen=True)
class LocalFile:
    """One file to sync: its size, modification time (ns) and permission bits."""

    size: int
    mtime_ns: int
    mode: int


@dataclass
class ScanResult:
    files: dict[str, LocalFile]  # POSIX relative path -> file
    skipped: list[tuple[str, str]]  # (relative path, why) for files a user may miss


class ExclusionRules:
    """Decides what is synced below ``root``; built once per scan, nested .gitignores added
    as the walk meets them (their patterns are relative to their own folder, as in git)."""

    def __init__(self, root: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> None:
        self.root = root
        self.max_file_size = max_file_size
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
        exclude = os.path.join(root, ".git", "info", "exclude")
        self._add_ignore_file("", exclude)

    def enter_folder(self, rel_dir: str) -> None:
        """Read ``rel_dir/.gitignore`` if there is one (call for each folder, top down)."""
        self._add_ignore_file(rel_dir, os.path.join(self.root, rel_dir, ".gitignore"))

    def folder_excluded(self, rel_dir: str, name: str, path: str) -> bool:
        if name in EXCLUDED_DIR_NAMES:
            return True
        if any(os.path.exists(os.path.join(path, marker)) for marker in VENV_MARKERS):
            return True
        return self._ignored(_join(rel_dir, name) + "/")

    def file_excluded(self, rel_path: str) -> bool:
        return self._ignored(rel_path)

    def _ignored(self, rel_path: str) -> bool:
        ignored = False
        for prefix, spec in self._specs:
            if prefix and not rel_path.startswith(prefix + "/"):
                continue
            sub = rel_path[len(prefix) + 1 :] if prefix else rel_path
            # Later (deeper) files override earlier ones, negations included, as in git.
            result = spec.check_file(sub)
            if result.include is not None:
                ignored = result.include
        return ignored

    def _add_ignore_file(self, rel_dir: str, path: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            return
        self._specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))


def scan_project(root: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> ScanResult:
    """Walk ``root`` and return the files to sync (symlinked folders are not followed)."""
    files: dict[str, LocalFile] = {}
    skipped: list[tuple[str, str]] = []
    for rel, info in _walk(root, ExclusionRules(root, max_file_size)):
        if isinstance(info, str):
            skipped.append((rel, info))
        elif not stat.S_ISREG(info.st_mode):
            continue  # FIFOs, sockets, devices are never read
        elif info.st_size > max_file_size:
            skipped.append((rel, f"larger than the size limit ({_human(max_file_size)})"))
        else:
            files[rel] = LocalFile(info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode))
    return ScanResult(dict(sorted(files.items())), skipped)


def fingerprint(root: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> dict[str, tuple]:
    """(size, mtime_ns) of every file ``scan_project`` would sync: the cheap look a run
    takes before it starts, to catch a save not pushed yet."""
    return {
        rel: (info.st_size, info.st_mtime_ns)
        for rel, info in _walk(root, ExclusionRules(root, max_file_size))
        if not isinstance(info, str)
        and stat.S_ISREG(info.st_mode)
        and info.st_size <= max_file_size
    }


def _walk(root: str, rules: ExclusionRules, rel_dir: str = ""):
    """(relative path, stat result, or why the name cannot be synced) of the files below
    ``root`` that the rules keep; folders top down, symlinked folders not followed."""
    rules.enter_folder(rel_dir)
    folders = []
    try:
        entries = list(os.scandir(os.path.join(root, rel_dir) if rel_dir else root))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        rel = f"{rel_dir}/{name}" if rel_dir else name
        try:
            if entry.is_dir(follow_symlinks=False):
                if not rules.folder_excluded(rel_dir, name, entry.path):
                    folders.append(rel)
                continue
        except OSError:
            continue
        if rules.file_excluded(rel):
            continue
        if "\n" in name or "\r" in name:
            yield rel, "its name holds a line break"
            continue
        try:
            yield rel, entry.stat()  # follows a symlink to a file, as a copy would
        except OSError:
            continue  # vanished, or a broken symlink: nothing to send
    for folder in sorted(folders):
        yield from _walk(root, rules, folder)


def local_file(path: str, max_file_size: int = DEFAULT_MAX_FILE_SIZE) -> LocalFile | None:
    """The LocalFile for one path, or None if it is gone or not syncable."""
    result = _unsyncable(path, os.path.basename(path), max_file_size)
    return result if isinstance(result, LocalFile) else None


def _unsyncable(path: str, name: str, max_file_size: int) -> LocalFile | str | None:
    if "\n" in name or "\r" in name:
        return "its name holds a line break"
    try:
        info = os.stat(path)
    except OSError:
        return None  # vanished, or a broken symlink: nothing to send
    if not stat.S_ISREG(info.st_mode):
        return None  # FIFOs, sockets, devices are never read
    if info.st_size > max_file_size:
        return f"larger than the size limit ({_human(max_file_size)})"
    return LocalFile(info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode))


def _human(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:g} {unit}" if unit == "bytes" else f"{size:.3g} {unit}"
        size /= 1024
    return f"{size} MiB"


def _join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def iter_parents(rel_path: str) -> Iterable[str]:
    """``a/b/c.py`` -> ``a``, ``a/b``: the folders a file needs on the host."""
    parts = rel_path.split("/")[:-1]
    for index in range(1, len(parts) + 1):
        yield "/".join(parts[:index])
