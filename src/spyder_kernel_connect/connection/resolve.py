"""Turn what a user types (a path, ``1234``, ``kernel-1234``, a prefix, a glob) into one file.

jupyter_client's ``find_connection_file`` is not used for the fuzzy part on purpose: on
several matches it silently returns the most recently *accessed* one, and a user who typed
an ambiguous ID must be told, not connected to a kernel they did not choose.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence

from jupyter_core.paths import jupyter_runtime_dir

from spyder_kernel_connect.connection.errors import (
    AmbiguousConnectionSpec,
    ConnectionFileNotFound,
)

GLOB_CHARS = set("*?[")


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

    dirs = list(search_dirs) if search_dirs is not None else default_search_dirs()
    if os.sep in expanded or (os.altsep and os.altsep in expanded):
        # A path with a directory part names one place; searching elsewhere would surprise.
        directory = os.path.dirname(os.path.abspath(expanded))
        if not GLOB_CHARS & set(expanded):
            raise ConnectionFileNotFound(cleaned, [directory])
        return _unique_match(cleaned, sorted(glob.glob(expanded)), [directory])

    for name in candidate_names(expanded):
        for directory in dirs:
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                return os.path.abspath(path)

    if GLOB_CHARS & set(expanded):
        pattern = expanded
    elif expanded.endswith(".json"):
        raise ConnectionFileNotFound(cleaned, dirs)  # a full file name is taken literally
    else:
        pattern = f"*{expanded}*"  # a partial kernel ID
    matches: list[str] = []
    for directory in dirs:
        for path in glob.glob(os.path.join(glob.escape(directory), pattern)):
            path = os.path.abspath(path)
            if path.endswith(".json") and os.path.isfile(path) and path not in matches:
                matches.append(path)
    return _unique_match(cleaned, matches, dirs)


def _unique_match(spec: str, matches: list[str], searched: Sequence[str]) -> str:
    files = [os.path.abspath(m) for m in matches if os.path.isfile(m)]
    if not files:
        raise ConnectionFileNotFound(spec, searched)
    if len(files) > 1:
        raise AmbiguousConnectionSpec(spec, sorted(files))
    return files[0]
