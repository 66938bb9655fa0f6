"""Turn what a user types (a path, ``1234``, ``kernel-1234``, a prefix, a glob) into one file.

jupyter_client's ``find_connection_file`` is not used for the fuzzy part on purpose: on
several matches it silently returns the most recently *accessed* one, and a user who typed
an ambiguous ID must be told, not connected to a kernel they did not choose.

The matching itself works on plain lists of file names, so the same rules serve a local
directory and a remote runtime directory listed over SFTP.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence

from jupyter_core.paths import jupyter_runtime_dir

from spyder_kernel_connect.connection.errors import (
    AmbiguousConnectionSpec,
    ConnectionFileNotFound,
)

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

    Raises ConnectionFileNotFound (naming the directories searched) or
    AmbiguousConnectionSpec (listing the candidates).
    """
    cleaned = spec.strip().strip("\"'")
    if not cleaned:
        raise ConnectionFileNotFound(spec, [])
    expanded = os.path.expanduser(os.path.expandvars(cleaned))
    if os.path.isfile(expanded):
        return os.path.abspath(expanded)

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


def _file_names(directory: str) -> list[str]:
    try:
        return [e.name for e in os.scandir(directory) if e.is_file()]
    except OSError:
        return []  # a missing runtime dir simply holds no kernels
