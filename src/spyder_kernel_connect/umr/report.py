"""What the user reads: the red line, failures, and what a reload could not reach.

Kernel side: standard library only.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
import types

# Bright red: readable on Spyder's light and dark console themes alike (plain 31 is a dark
# red that nearly vanishes on the dark background).
RED = "\x1b[91m"
RESET = "\x1b[0m"
# The embedded copy (see bootstrap.py) has no __file__; its code is named "<spyder_kernel_...>".
_HERE = os.path.dirname(os.path.abspath(globals().get("__file__") or "<embedded>/x"))


def _is_ours(filename: str) -> bool:
    return filename.startswith("<spyder_kernel_connect.umr") or (
        os.path.dirname(os.path.abspath(filename)) == _HERE
    )


def red_line(names: list, kinds: dict) -> str:
    """``Reloaded modules: a (patched), b``: patched = updated in place, nothing ran again."""
    parts = [f"{name} (patched)" if kinds.get(name) == "patched" else name for name in names]
    return f"{RED}Reloaded modules: {', '.join(parts)}{RESET}"


def describe_failure(name: str, path: str, error: BaseException) -> str:
    """One clear line: which module, which of the user's files and lines, what went wrong."""
    filename, lineno = path, None
    if isinstance(error, SyntaxError) and error.filename:
        filename, lineno = error.filename, error.lineno
    else:
        frames = traceback.extract_tb(error.__traceback__)
        user_frames = [
            f for f in frames if not _is_ours(f.filename) and "importlib" not in f.filename
        ]
        if user_frames:
            filename, lineno = user_frames[-1].filename, user_frames[-1].lineno
    where = f"{filename}, line {lineno}" if lineno else filename
    detail = error.msg if isinstance(error, SyntaxError) else str(error)
    return (
        f"{RED}UMR: could not reload {name} ({where}): {type(error).__name__}: {detail}. "
        f"The previous version stays loaded; fix the file and run again.{RESET}"
    )


def stale_imports(user_ns: dict, changed: dict, missing) -> list:
    """[(name, module, new value)] of names the console bound with ``from m import name`` whose
    value was replaced in ``m`` (a constant, a redefined object): they still hold the old one.

    ``changed``: {module: {name: (old, new)}}. Same name and the very old object: an unrelated
    variable that merely equals it (a small int, say) under another name is not reported.
    """
    found = []
    for module, names in changed.items():
        for name, (old, new) in names.items():
            if old is missing or new is missing or isinstance(old, types.ModuleType):
                continue
            if name in user_ns and user_ns[name] is old:
                found.append((name, module, new))
    return found


def stale_imports_line(stale: list) -> str:
    names = ", ".join(f"{name} (from {module})" for name, module, _new in stale)
    return (
        f"UMR: the console still holds the old value of {names}: import it again, "
        "or let the UMR rebind such names with %umr rebind on."
    )


def live_workers() -> int:
    """Worker processes started before now (multiprocessing, ProcessPoolExecutor) still alive:
    they run the code they were started with."""
    count = 0
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is not None:
        # A broken multiprocessing state must not stop the user's run.
        with contextlib.suppress(Exception):
            count += len(multiprocessing.active_children())
    process = sys.modules.get("concurrent.futures.process")
    if process is not None and not count:
        wakeups = getattr(process, "_threads_wakeups", None)  # live executors' manager threads
        if wakeups:
            count += len(wakeups)
    return count


def workers_line(count: int) -> str:
    return (
        f"UMR: {count} worker process{'es' if count != 1 else ''} started before this reload "
        "keep running the old code; start the pool again to use the new one."
    )
