"""Which modules are the user's, and whether their files changed since they were loaded.

Kernel side: standard library only (see ``bootstrap.py``, which ships this package as source).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import os
import site
import sys
import sysconfig
import time

# Like Spyder's defaults, plus the libraries that break when reloaded and ourselves.
DEFAULT_EXCLUDE = (
    "spyder_kernels",
    "spyder_kernel_connect",
    "matplotlib",
    "tkinter",
    "Tkinter",
    "pytorch",
    "torch",
    "pythoncom",
    "tensorflow",
    "IPython",
    "ipykernel",
)
# Two saves within this many seconds can share an mtime on coarse filesystems (FAT: 2 s).
AMBIGUOUS_MTIME_WINDOW = 3.0


def default_exclude() -> set:
    return {*DEFAULT_EXCLUDE, __name__.split(".")[0]}  # the embedded copy has another name


def norm_path(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def library_roots() -> tuple:
    """Directories whose modules are never user modules: stdlib, site dirs, interpreter prefixes."""
    candidates = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts"):
        with contextlib.suppress(Exception):  # a broken sysconfig must not disable the UMR
            candidates.append(sysconfig.get_path(key))
    candidates += [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    candidates.append(os.path.dirname(os.__file__))
    with contextlib.suppress(Exception):  # virtualenv's old site.py lacks it
        candidates += site.getsitepackages()
    with contextlib.suppress(Exception):
        candidates.append(site.getusersitepackages())
    # A prefix of "/" or the home directory would swallow every user file.
    too_wide = {norm_path(os.sep), norm_path(os.path.expanduser("~"))}
    roots = set()
    for path in candidates:
        if not path:
            continue
        for variant in (norm_path(path), norm_path(os.path.realpath(path))):
            if variant not in too_wide:
                roots.add(variant.rstrip(os.sep) + os.sep)
    return tuple(sorted(roots))


def is_library_path(path: str, roots: tuple) -> bool:
    # realpath() (one lstat per path component) only for what the plain path did not settle.
    for variant in (norm_path(path), None):
        variant = variant or norm_path(os.path.realpath(path))
        if variant.startswith(roots):
            return True
        parts = variant.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            return True
    return False


def source_file(module) -> str | None:
    """The .py file a module was loaded from, or None (builtin, extension, namespace, .pyc-only)."""
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return None
    if path.endswith((".pyc", ".pyo")):
        try:
            path = importlib.util.source_from_cache(path)
        except (ValueError, NotImplementedError):
            return None
    return path if path.endswith(".py") else None


def read_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def file_digest(path: str, data: bytes | None = None) -> bytes | None:
    data = read_bytes(path) if data is None else data
    return None if data is None else hashlib.blake2b(data, digest_size=16).digest()


def file_stat(path: str):
    """(mtime_ns, size) of a file, or None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class ModuleRecord:
    """What we know about one user module: its file's state when it was (re)loaded."""

    __slots__ = (
        "ambiguous",
        "codes",
        "deps",
        "deps_sig",
        "digest",
        "failed",
        "module",
        "name",
        "path",
        "sig",
        "source",
    )

    def __init__(self, name: str, module, path: str) -> None:
        self.name = name
        self.module = module
        self.path = path
        self.deps: frozenset = frozenset()
        self.deps_sig = None  # the signature the dependencies were parsed at
        self.failed = False
        self.codes = None  # {path: code object} its functions run, once an update knows them
        # The source of the version that is loaded: what the next edit is compared with.
        self.source = self.snapshot()

    def snapshot(self, data: bytes | None = None) -> bytes | None:
        """Take the file's current state (or ``data``, just read from it) as seen; return the
        bytes the digest was computed from."""
        self.sig = file_stat(self.path)
        if self.sig is not None and data is None:
            data = read_bytes(self.path)
        # The digest tells a real edit from a touch, and catches a second save within the same
        # timestamp tick (same mtime and size) while the mtime is recent ("ambiguous").
        self.digest = file_digest(self.path, data) if data is not None else None
        self.ambiguous = self.sig is not None and mtime_is_recent(self.sig)
        return data

    def changed(self, notified: bool = False) -> bool | None:
        """True if the file differs from the loaded version, None if the file is gone.

        ``notified``: the OS reported an event for the file, so an unchanged (mtime, size)
        proves nothing and the content decides.
        """
        sig = file_stat(self.path)
        if sig is None:
            return None
        if sig == self.sig:
            if not (self.ambiguous or notified):
                return False
            if file_digest(self.path) != self.digest:
                return True
            if not mtime_is_recent(sig):
                self.ambiguous = False  # read after the window closed: later saves move the mtime
            return False
        if file_digest(self.path) == self.digest:
            self.sig = sig  # touched or saved unchanged
            self.ambiguous = mtime_is_recent(sig)
            return False
        return True


def mtime_is_recent(sig) -> bool:
    return time.time() - sig[0] / 1e9 < AMBIGUOUS_MTIME_WINDOW


def parse_imports(path: str, name: str, is_package: bool, source: bytes | None = None) -> set:
    """Absolute names of the modules a source file imports (incl. `from pkg import mod`);
    ``source``: its bytes when already in memory."""
    try:
        tree = ast.parse(read_bytes(path) if source is None else source, path)
    except (TypeError, SyntaxError, ValueError):  # TypeError: the file could not be read
        return set()
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                found.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".") if package else []
                if node.level - 1 > len(base):
                    continue
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target:
                continue
            found.add(target)
            for alias in node.names:
                found.add(target + "." + alias.name)  # kept only if it is a tracked module
    found.discard(name)
    return found


def drop_bytecode(source: str) -> None:
    """Delete a module's cached bytecode before reloading it.

    Python trusts a .pyc whose recorded source mtime (whole seconds) and size match the
    file, so an edit saved within the same second that keeps the size would load the old
    code. The change itself was seen by its digest; this makes the reload read the source.
    """
    try:
        cached = importlib.util.cache_from_source(source)
    except (NotImplementedError, ValueError):
        return  # no bytecode cache for this interpreter or file
    with contextlib.suppress(OSError):
        os.remove(cached)
