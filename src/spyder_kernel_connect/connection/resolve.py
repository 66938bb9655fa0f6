"""Turn what a user types (a path, ``1234``, ``kernel-1234``, a prefix, a glob) into one file.

jupyter_client's ``find_connection_file`` is not used for the fuzzy part on purpose: on
several matches it silently returns the most recently *accessed* one, and a user who typed
an ambiguous ID must be told, not connected to a kernel they did not choose.

The matching itself works on plain lists of file names, so the same rules serve a local
directory and a remote runtime directory listed over SFTP.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Iterable, Sequence

from jupyter_core.paths import jupyter_runtime_dir

from spyder_kernel_connect.connection.errors import (
    AmbiguousConnectionSpec,
    ConnectionFileNotFound,
    ConnectionFileUnreadable,
    dangling_link,
)
from spyder_kernel_connect.connection.info import ConnectionInfo, read_connection_file
from spyder_kernel_connect.files import file_kind

GLOB_CHARS = frozenset("*?[")


def default_search_dirs() -> list[str]:
    """Where bare names are looked up: the working directory, then the runtime dir."""
    return [os.getcwd(), jupyter_runtime_dir()]


def candidate_names(spec: str) -> list[str]:
    """Exact file names a bare spec may stand for, most literal first.

    ``1234`` → ``1234``, ``1234.json``, ``kernel-1234.json``; ``kernel-1234`` →
    ``kernel-1234``, ``kernel-1234.json``. A name that already ends in ``.json`` is
    taken as it is: ``remotemachine.json`` must never become
    ``kernel-remotemachine.json`` (spyder#25337).
    """
    names = [spec]
    if spec.endswith(".json"):
        return names
    names.append(f"{spec}.json")
    if not spec.startswith("kernel-"):
        names.append(f"kernel-{spec}.json")
    return names


def exact_match(spec: str, names: Iterable[str]) -> str | None:
    """The first of ``candidate_names(spec)`` present in ``names``."""
    present = set(names)
    return next((name for name in candidate_names(spec) if name in present), None)


def fuzzy_matches(spec: str, names: Iterable[str]) -> list[str]:
    """JSON file names matching ``spec`` as a glob, or containing it as a partial kernel ID.

    A full file name (ending in ``.json``) is taken literally and matches nothing here.
    """
    if GLOB_CHARS & set(spec):
        return sorted(n for n in names if n.endswith(".json") and fnmatch.fnmatchcase(n, spec))
    if spec.endswith(".json"):
        return []
    return sorted(n for n in names if n.endswith(".json") and spec in n)


def pick_one(spec: str, matches: Sequence[str], searched: Sequence[str]) -> str:
    """The single match, or the error that says why there is not exactly one."""
    if not matches:
        raise ConnectionFileNotFound(spec, searched)
    if len(matches) > 1:
        raise AmbiguousConnectionSpec(spec, sorted(matches))
    return matches[0]


def resolve_connection_file(spec: str, search_dirs: Sequence[str] | None = None) -> str:
    """Return the absolute path of the one connection file ``spec`` designates.

    Raises ConnectionFileNotFound (naming the directories searched),
    AmbiguousConnectionSpec (listing the candidates) or, for a path naming a directory,
    FIFO, device or link loop, ConnectionFileUnreadable saying what it is. The file is not
    read: ``load_connection_spec`` also reads and validates it.
    """
    cleaned = spec.strip().strip("\"'")
    if not cleaned:
        raise ConnectionFileNotFound(spec, [])
    expanded = os.path.expanduser(os.path.expandvars(cleaned))
    if os.path.isfile(expanded):
        return os.path.abspath(expanded)
    try:
        return _search(cleaned, expanded, search_dirs)
    except ConnectionFileNotFound:
        _refuse_non_regular(expanded)  # "it is a FIFO" beats "no match"
        raise


def _search(cleaned: str, expanded: str, search_dirs: Sequence[str] | None) -> str:
    if os.sep in expanded or (os.altsep and os.altsep in expanded):
        # A path with a directory part names one place; searching elsewhere would surprise.
        directory, name = os.path.split(os.path.abspath(expanded))
        dirs, spec_name = [directory], name
        if not GLOB_CHARS & set(name):
            raise ConnectionFileNotFound(cleaned, dirs)
    else:
        dirs = list(search_dirs) if search_dirs is not None else default_search_dirs()
        spec_name = expanded

    listings = [(directory, _file_names(directory)) for directory in dirs]
    for directory, names in listings:
        name = exact_match(spec_name, names)
        if name:
            return os.path.join(os.path.abspath(directory), name)
    matches = []
    for directory, names in listings:
        for name in fuzzy_matches(spec_name, names):
            path = os.path.join(os.path.abspath(directory), name)
            if path not in matches:
                matches.append(path)
    return pick_one(cleaned, matches, dirs)


def load_connection_spec(spec: str, search_dirs: Sequence[str] | None = None) -> ConnectionInfo:
    """Resolve ``spec`` and read and validate the file: what "Resolves to" may promise.

    The dialog's live line and ``spyder-kernel-connect resolve`` both use it, so a
    broken file is reported with its reason instead of shown as a good match.
    """
    return read_connection_file(resolve_connection_file(spec, search_dirs))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _refuse_non_regular(path: str) -> None:
    """A path naming a directory, FIFO, device or dangling/looping link: say what it is."""
    try:
        mode = os.stat(path).st_mode
    except ValueError:
        return  # an embedded NUL: no such file
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ConnectionFileUnreadable(
                f"{path} is a symbolic link loop, not a connection file.",
                "Fix or remove the link.",
                path=path,
            ) from None
        if os.path.islink(path):
            raise dangling_link(path) from None
        return  # absent: the name may still be a bare ID or a glob
    raise ConnectionFileUnreadable(
        f"{os.path.abspath(path)} is {file_kind(mode)}, not a connection file.",
        "Give the kernel-<id>.json file the kernel wrote.",
        path=os.path.abspath(path),
    )


def _file_names(directory: str) -> list[str]:
    """Names in ``directory`` except subdirectories: a FIFO or link loop named like the spec
    is then reported for what it is when read, not as "no match"."""
    try:
        return [e.name for e in os.scandir(directory) if not _is_dir(e)]
    except OSError:
        return []  # a missing runtime dir simply holds no kernels
