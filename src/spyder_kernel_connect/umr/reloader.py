"""User Module Reloader (UMR): reload changed user modules before each run, in dependency order.

Runs inside the kernel. This ONE file is the whole kernel side: it imports only the standard
library (IPython objects are passed in, never imported here), so the Spyder plugin can send its
source to a kernel that does not have this package installed and exec it into a fresh module
under another name (see ``bootstrap.py``). Keep it that way: no imports from the package, no
dataclasses (they need ``sys.modules[__module__]``), Python 3.8+ syntax.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import os
import site
import struct
import sys
import sysconfig
import time
import traceback
import types
import weakref

API_VERSION = 1
SHELL_ATTR = "_spyder_kernel_connect_umr"  # where the one reloader of a shell lives

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
# Bright red: readable on Spyder's light and dark console themes alike (plain 31 is a dark
# red that nearly vanishes on the dark background).
RED = "\x1b[91m"
RESET = "\x1b[0m"


def _default_exclude() -> set:
    return {*DEFAULT_EXCLUDE, __name__.split(".")[0]}  # the embedded copy has another name


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _library_roots() -> tuple:
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
    too_wide = {_norm(os.sep), _norm(os.path.expanduser("~"))}
    roots = set()
    for path in candidates:
        if not path:
            continue
        for variant in (_norm(path), _norm(os.path.realpath(path))):
            if variant not in too_wide:
                roots.add(variant.rstrip(os.sep) + os.sep)
    return tuple(sorted(roots))


def _is_library_path(path: str, roots: tuple) -> bool:
    # realpath() (one lstat per path component) only for what the plain path did not settle.
    for variant in (_norm(path), None):
        variant = variant or _norm(os.path.realpath(path))
        if variant.startswith(roots):
            return True
        parts = variant.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts:
            return True
    return False


def _source_file(module) -> str | None:
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


def _digest(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.blake2b(handle.read(), digest_size=16).digest()
    except OSError:
        return None


def _stat(path: str):
    """(mtime_ns, size) of a file, or None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


class _Record:
    """What we know about one user module: its file's state when it was (re)loaded."""

    __slots__ = (
        "ambiguous",
        "deps",
        "deps_sig",
        "digest",
        "failed",
        "module",
        "name",
        "path",
        "sig",
    )

    def __init__(self, name: str, module, path: str) -> None:
        self.name = name
        self.module = module
        self.path = path
        self.deps: frozenset = frozenset()
        self.deps_sig = None  # the signature the dependencies were parsed at
        self.failed = False
        self.snapshot()

    def snapshot(self) -> None:
        """Take the file's current state as the loaded version."""
        self.sig = _stat(self.path)
        # The digest tells a real edit from a touch, and catches a second save within the same
        # timestamp tick (same mtime and size) while the mtime is recent ("ambiguous").
        self.digest = _digest(self.path) if self.sig is not None else None
        self.ambiguous = self.sig is not None and _mtime_is_recent(self.sig)

    def changed(self, notified: bool = False) -> bool | None:
        """True if the file differs from the loaded version, None if the file is gone.

        ``notified``: the OS reported an event for the file, so an unchanged (mtime, size)
        proves nothing and the content decides.
        """
        sig = _stat(self.path)
        if sig is None:
            return None
        if sig == self.sig:
            if not (self.ambiguous or notified):
                return False
            if _digest(self.path) != self.digest:
                return True
            if not _mtime_is_recent(sig):
                self.ambiguous = False  # read after the window closed: later saves move the mtime
            return False
        if _digest(self.path) == self.digest:
            self.sig = sig  # touched or saved unchanged
            self.ambiguous = _mtime_is_recent(sig)
            return False
        return True


def _mtime_is_recent(sig) -> bool:
    return time.time() - sig[0] / 1e9 < AMBIGUOUS_MTIME_WINDOW


def _parse_imports(path: str, name: str, is_package: bool) -> set:
    """Absolute names of the modules a source file imports (incl. `from pkg import mod`)."""
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
    except (OSError, SyntaxError, ValueError):
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


# --- in-place update of old objects (the approach of IPython.extensions.autoreload) ------------

_FUNC_ATTRS = (
    "__code__",
    "__defaults__",
    "__doc__",
    "__closure__",
    "__globals__",
    "__dict__",
    "__kwdefaults__",
    "__annotations__",
    "__type_params__",
)


def _update_function(old, new, depth: int = 0) -> None:
    # functools.wraps decorators: the old wrapper's closure holds the old inner function, so
    # give that one the new code too (read before __dict__, which holds __wrapped__, is replaced).
    old_inner, new_inner = getattr(old, "__wrapped__", None), getattr(new, "__wrapped__", None)
    if (
        depth < 8
        and isinstance(old_inner, types.FunctionType)
        and isinstance(new_inner, types.FunctionType)
        and old_inner is not old
        and new_inner is not old_inner
    ):
        _update_function(old_inner, new_inner, depth + 1)
    for attr in _FUNC_ATTRS:
        # ValueError: a closure of another size; the old object keeps its old code.
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            setattr(old, attr, getattr(new, attr))


def _update_class(old, new, migrated: dict) -> None:
    """Make the old class behave like the new one; its instances are migrated later."""
    if type(old) is not type(new) or any(base.__name__ == "Enum" for base in type(old).__mro__):
        return  # other metaclasses (Enum, ABC registries...) keep their own invariants
    old_dict = old.__dict__
    new_dict = new.__dict__
    for key in list(old_dict):
        if key in ("__dict__", "__weakref__"):
            continue
        if key not in new_dict:
            with contextlib.suppress(AttributeError, TypeError):
                delattr(old, key)
            continue
        old_obj, new_obj = old_dict[key], new_dict[key]
        if old_obj is new_obj or _update_generic(old_obj, new_obj, migrated):
            continue
        with contextlib.suppress(AttributeError, TypeError):
            setattr(old, key, new_obj)
    for key in new_dict:
        if key not in old_dict and key not in ("__dict__", "__weakref__"):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(old, key, new_dict[key])
    migrated[old] = new


def _update_generic(old, new, migrated: dict) -> bool:
    if isinstance(old, type) and isinstance(new, type):
        _update_class(old, new, migrated)
    elif isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        _update_function(old, new)
    elif isinstance(old, property) and isinstance(new, property):
        for attr in ("fget", "fset", "fdel"):
            _update_generic(getattr(old, attr), getattr(new, attr), migrated)
    elif (isinstance(old, classmethod) and isinstance(new, classmethod)) or (
        isinstance(old, staticmethod) and isinstance(new, staticmethod)
    ):
        _update_generic(old.__func__, new.__func__, migrated)
    else:
        return False
    return True


def _migrate_instances(migrated: dict) -> None:
    """Point instances of old classes at the new ones, with ONE scan of the heap."""
    if not migrated:
        return
    for ref in gc.get_referrers(*migrated):
        new = migrated.get(type(ref))
        if new is not None:
            # TypeError: incompatible layout (__slots__ changed): it keeps the old class.
            with contextlib.suppress(TypeError):
                object.__setattr__(ref, "__class__", new)


# --- change notification: Linux inotify through ctypes, so a check reads ONE fd -----------------

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_WATCH_MASK = (
    _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
) | (_IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF)
# Filesystems only this machine writes to. On NFS, SMB, sshfs, 9p (WSL, VMs)... another
# machine may edit the file without any inotify event here, so those directories are polled.
_LOCAL_FILESYSTEMS = frozenset(
    [
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "tmpfs",
        "ramfs",
        "overlay",
        "zfs",
        "f2fs",
        "jfs",
        "reiserfs",
        "bcachefs",
        "nilfs2",
        "vfat",
        "exfat",
        "ntfs3",
        "hfsplus",
    ]
)


def _drop_bytecode(source: str) -> None:
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


def _mount_types() -> list:
    """[(mount point, filesystem type)], longest mount point first; [] if unknown."""
    mounts = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) >= 5 and right:
                    point = fields[4].replace("\\040", " ").replace("\\011", "\t")
                    mounts.append((point, right.split()[0]))
    except OSError:
        return []
    mounts.sort(key=lambda item: len(item[0]), reverse=True)
    return mounts


class _Inotify:
    """Watches the directories of user modules; ``read()`` costs one syscall when idle."""

    def __init__(self) -> None:
        import ctypes  # only here: kernels on other systems never need it

        libc = ctypes.CDLL(None, use_errno=True)
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self._add_watch.restype = ctypes.c_int
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        # Closed with its owner even without unregister() (kernels allow ~128 instances/user).
        self._closer = weakref.finalize(self, os.close, self.fd)
        self._mounts = _mount_types()
        self._dirs: dict = {}  # watch descriptor -> directory
        self._wds: dict = {}  # directory -> watch descriptor

    def _is_local(self, directory: str) -> bool:
        real = os.path.realpath(directory)
        for point, fstype in self._mounts:
            if real == point or real.startswith(point.rstrip("/") + "/"):
                return fstype in _LOCAL_FILESYSTEMS
        return False

    def watch(self, directory: str) -> bool:
        """Start watching; False if it cannot be trusted (remote fs, watch limit reached)."""
        if directory in self._wds:
            return True
        if not self._is_local(directory):
            return False
        wd = self._add_watch(self.fd, os.fsencode(directory), _WATCH_MASK)
        if wd < 0:
            return False
        self._wds[directory] = wd
        self._dirs[wd] = directory
        return True

    def read(self) -> tuple:
        """(paths with events, directories no longer watched, queue overflowed)."""
        paths, lost, overflow = set(), set(), False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                overflow = True
                break
            offset = 0
            while offset + 16 <= len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].split(b"\0", 1)[0]
                offset += 16 + length
                if mask & _IN_Q_OVERFLOW:
                    overflow = True
                directory = self._dirs.get(wd)
                if directory is None:
                    continue
                if mask & (_IN_IGNORED | _IN_DELETE_SELF | _IN_MOVE_SELF):
                    lost.add(directory)  # deleted, moved or unmounted: its modules get polled
                    del self._dirs[wd]
                    self._wds.pop(directory, None)
                elif name:
                    paths.add(os.path.join(directory, os.fsdecode(name)))
        return paths, lost, overflow

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._closer()


def _make_watcher():
    """inotify on Linux unless SKC_UMR_WATCH=poll; None means: stat every user module."""
    if not sys.platform.startswith("linux") or os.environ.get("SKC_UMR_WATCH") == "poll":
        return None
    try:
        return _Inotify()
    except Exception:  # no libc symbol, inotify instance limit...: polling still works
        return None


# --- the reloader ------------------------------------------------------------------------------


class UserModuleReloader:
    """Tracks user modules of one shell and reloads the changed ones before each run."""

    def __init__(self, shell=None) -> None:
        self.shell = shell
        self.enabled = True
        self.verbose = True
        self.exclude = _default_exclude()
        self._roots = _library_roots()
        self._records: dict = {}  # name -> _Record, user modules only
        self._watcher = _make_watcher()
        self._polled: dict = {}  # name -> _Record whose directory is not watched
        self._by_path: dict = {}  # file path -> names of watched records
        self._classified: set = set()  # names looked at once (user or not)
        self._fingerprint = None  # cheap summary of sys.modules to notice new entries
        self._old_objects: dict = {}  # module -> {name: [weakref of every old version]}
        self.last_reloaded: list = []
        self.last_failed: dict = {}  # name -> one-line error
        self._others = _OtherReloaders(shell)
        # Spyder's UMR and %autoreload stay off while ours is off too ("off" = nothing
        # reloads, the plugin's meaning); only `%umr off` typed by hand gives them back.
        self.hold_others = True
        self.scan_new_modules()

    # -- classification: once per module name, only when sys.modules gained entries

    def _sys_modules_fingerprint(self):
        modules = sys.modules
        try:
            last = next(reversed(modules))
        except (StopIteration, TypeError):  # Python < 3.8 dicts are not reversible
            return None
        return (len(modules), last, id(modules.get(last)))

    def scan_new_modules(self) -> None:
        """Classify modules added to sys.modules since the last call; O(1) when none were."""
        fingerprint = self._sys_modules_fingerprint()
        if fingerprint is not None and fingerprint == self._fingerprint:
            return
        self._fingerprint = fingerprint
        modules = sys.modules
        # Entries moved or removed (re-imported, deleted by someone): follow them.
        for name, record in list(self._records.items()):
            module = modules.get(name)
            if module is None:
                self._untrack(name)
                self._classified.discard(name)
            elif module is not record.module:
                record.module = module  # re-imported by someone: that is the new baseline
                record.snapshot()
        for name in list(modules.keys() - self._classified):
            self._classify(name)

    def _classify(self, name: str) -> None:
        self._classified.add(name)
        module = sys.modules.get(name)
        if module is None or not self._is_user_module(name, module):
            return
        path = os.path.abspath(_source_file(module))
        # Watch first, then snapshot: an edit after the snapshot always raises an event.
        # A symlinked file changes where it points, not in the watched directory: poll it.
        watched = (
            self._watcher is not None
            and not os.path.islink(path)
            and self._watcher.watch(os.path.dirname(path))
        )
        record = _Record(name, module, path)
        if record.sig is None:
            return
        self._records[name] = record
        if watched:
            self._by_path.setdefault(path, set()).add(name)
        else:
            self._polled[name] = record

    def _untrack(self, name: str) -> None:
        record = self._records.pop(name, None)
        self._polled.pop(name, None)
        if record is not None and record.path in self._by_path:
            self._by_path[record.path].discard(name)

    def _is_excluded(self, name: str) -> bool:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self.exclude:
                return True
            parent = sys.modules.get(prefix)
            if getattr(parent, "__umr_exclude__", False) is True:
                return True
        return False

    def _is_user_module(self, name: str, module) -> bool:
        if name in ("__main__", "__mp_main__") or name in sys.builtin_module_names:
            return False
        if not isinstance(module, types.ModuleType):
            return False
        path = _source_file(module)
        if path is None or self._is_excluded(name):
            return False
        return not _is_library_path(path, self._roots)

    def set_exclude(self, names, replace_user_list: bool = False) -> None:
        names = {n.strip() for n in names if n and n.strip()}
        base = _default_exclude() if replace_user_list else self.exclude
        self._apply_exclude(base | names)

    def set_include(self, names) -> None:
        names = {n.strip() for n in names if n and n.strip()}
        self._apply_exclude(self.exclude - names)

    def _apply_exclude(self, exclude: set) -> None:
        if exclude == self.exclude:
            return
        self.exclude = exclude
        for name in list(self._records):
            if self._is_excluded(name):
                self._untrack(name)
        # Names rejected before may be allowed now: classify the non-tracked ones again.
        self._classified = set(self._records)
        self._fingerprint = None
        self.scan_new_modules()

    # -- the check before each run

    def changed_modules(self) -> tuple:
        """(changed names, gone names). Stats only polled modules and those with OS events."""
        candidates = dict(self._polled)
        notified = set()
        if self._watcher is not None:
            paths, lost, overflow = self._watcher.read()
            if overflow:
                candidates = dict(self._records)  # events were lost: look at everything once
                notified = set(self._records)
            for path in paths:
                for name in self._by_path.get(path, ()):
                    candidates[name] = self._records[name]
                    notified.add(name)
            if lost:
                for path, names in list(self._by_path.items()):
                    if os.path.dirname(path) in lost:
                        del self._by_path[path]
                        for name in names:
                            self._polled[name] = candidates[name] = self._records[name]
                            notified.add(name)
        changed, gone = [], []
        stat = os.stat
        for name, record in candidates.items():
            if not (record.ambiguous or name in notified):
                # The polling hot path, inlined: one stat() per user module and nothing else.
                try:
                    st = stat(record.path)
                except OSError:
                    gone.append(name)
                    continue
                if (st.st_mtime_ns, st.st_size) == record.sig:
                    continue
            state = record.changed(name in notified)
            if state is None:
                gone.append(name)  # deleted file: nothing to reload; keep watching quietly
            elif state:
                changed.append(name)
        return changed, gone

    def check(self) -> list:
        """Reload what changed (and its dependents); return the names reloaded."""
        self.scan_new_modules()
        changed, _gone = self.changed_modules()
        self.last_reloaded = []
        if not changed:
            return []
        order, changed_set = self._reload_order(changed)
        reloaded, failed = [], {}
        done = set()
        migrated: dict = {}
        for name in order:
            record = self._records.get(name)
            if record is None:
                continue
            if name not in changed_set and not (record.deps & done):
                continue  # its dependencies failed to reload: nothing new to see
            error = self._reload(record, migrated)
            if error is None:
                done.add(name)
                reloaded.append(name)
            else:
                failed[name] = error
        _migrate_instances(migrated)
        self.last_reloaded = reloaded
        self.last_failed = failed
        return reloaded

    def _deps(self, record: _Record) -> frozenset:
        if record.deps_sig != record.sig:
            is_package = hasattr(record.module, "__path__")
            record.deps = frozenset(_parse_imports(record.path, record.name, is_package))
            record.deps_sig = record.sig
        return record.deps

    def _reload_order(self, changed: list) -> tuple:
        """Changed modules plus their user dependents, dependencies first (import order on ties)."""
        records = self._records
        dependents: dict = {}
        for name, record in records.items():
            for dep in self._deps(record):
                if dep in records:
                    dependents.setdefault(dep, []).append(name)
        affected = set(changed)
        stack = list(changed)
        while stack:
            for dependent in dependents.get(stack.pop(), ()):
                if dependent not in affected:
                    affected.add(dependent)
                    stack.append(dependent)
        # Kahn's algorithm over the affected subgraph; cycles fall back to import order.
        rank = {name: i for i, name in enumerate(sys.modules) if name in affected}
        pending = {n: {d for d in records[n].deps if d in affected and d != n} for n in affected}
        order = []
        while pending:
            ready = [n for n, deps in pending.items() if not deps]
            if not ready:  # a cycle: take the earliest imported
                ready = [min(pending, key=lambda n: rank.get(n, 0))]
            ready.sort(key=lambda n: rank.get(n, 0))
            for name in ready:
                del pending[name]
                order.append(name)
            for deps in pending.values():
                deps.difference_update(ready)
        return order, set(changed)

    def _reload(self, record: _Record, migrated: dict) -> str | None:
        """Reload one module in place; on failure keep the old one and return the message."""
        module = record.module
        name = record.name
        old_dict = dict(module.__dict__)
        versions = self._old_objects.setdefault(name, {})
        for key, obj in old_dict.items():
            if getattr(obj, "__module__", None) == name and isinstance(
                obj, (type, types.FunctionType)
            ):
                refs = versions.setdefault(key, [])
                if not any(ref() is obj for ref in refs):
                    with contextlib.suppress(TypeError):
                        refs.append(weakref.ref(obj))
        keep = ("__name__", "__loader__", "__spec__", "__file__", "__path__", "__package__")
        module.__dict__.clear()
        module.__dict__.update({k: old_dict[k] for k in keep if k in old_dict})
        _drop_bytecode(record.path)
        try:
            importlib.reload(module)
        except BaseException as error:  # SyntaxError, ImportError, anything the module raises
            module.__dict__.clear()
            module.__dict__.update(old_dict)
            record.snapshot()  # do not retry until the file changes again
            record.failed = True
            message = _describe_failure(name, record.path, error)
            print(message, file=sys.stderr)
            if isinstance(error, KeyboardInterrupt):
                raise  # the user interrupted: abort this run, the old module is back
            return message
        record.failed = False
        record.snapshot()
        new_dict = module.__dict__
        if new_dict.get("__umr_exclude__") is True:
            self._untrack(name)  # it opted out in this version
        for key, obj in old_dict.items():
            # Submodules bound by the import system, not by the package's code: keep them.
            if key not in new_dict and sys.modules.get(name + "." + key) is obj:
                new_dict[key] = obj
        for key, refs in list(versions.items()):
            alive = [ref for ref in refs if ref() is not None]
            new_obj = new_dict.get(key)
            if new_obj is None or not alive:
                del versions[key]
                continue
            for ref in alive:
                old_obj = ref()
                if old_obj is not new_obj:
                    _update_generic(old_obj, new_obj, migrated)
            versions[key] = alive
        return None

    # -- IPython hooks

    def pre_run_cell(self, info=None) -> None:
        if getattr(info, "silent", False):
            return
        if not self.enabled:
            if self.hold_others:
                with contextlib.suppress(Exception):
                    self._others.keep_disabled()
            return
        try:
            self._others.keep_disabled()
            reloaded = self.check()
        except Exception as error:  # the user's code must run whatever happens here
            print(f"UMR: internal error, nothing reloaded: {error!r}", file=sys.stderr)
            return
        if reloaded and self.verbose:
            print(f"{RED}Reloaded modules: {', '.join(reloaded)}{RESET}", flush=True)

    def post_execute(self) -> None:
        # Record modules imported by the run now, so edits before the next run are seen.
        with contextlib.suppress(Exception):  # never disturb the kernel's execution loop
            self.scan_new_modules()

    def register(self) -> None:
        events = self.shell.events
        events.register("pre_run_cell", self.pre_run_cell)
        events.register("post_execute", self.post_execute)
        self.shell.register_magic_function(self.magic, "line", "umr")

    def unregister(self) -> None:
        events = self.shell.events
        for event, callback in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_execute", self.post_execute),
        ):
            with contextlib.suppress(ValueError):
                events.unregister(event, callback)
        self.shell.magics_manager.magics["line"].pop("umr", None)
        self._others.restore()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    # -- settings

    def configure(self, enabled=None, verbose=None, exclude=None) -> dict:
        if exclude is not None:
            if isinstance(exclude, str):
                exclude = exclude.split(",")
            self.set_exclude(exclude, replace_user_list=True)
        if verbose is not None:
            self.verbose = bool(verbose)
        if enabled is not None:
            self.enabled = bool(enabled)
            self.hold_others = True
        if self.enabled or self.hold_others:
            self._others.disable()
        else:
            self._others.restore()
        return self.status()

    def status(self) -> dict:
        return {
            "loaded": True,
            "enabled": self.enabled,
            "verbose": self.verbose,
            "exclude": sorted(self.exclude),
            "user_modules": sorted(self._records),
            "watching": "inotify" if self._watcher is not None else "poll",
            "polled_modules": sorted(self._polled),
            "failed": sorted(name for name, r in self._records.items() if r.failed),
            "last_reloaded": list(self.last_reloaded),
            "spyder_umr_disabled": self._others.spyder_disabled,
            "autoreload_disabled": self._others.autoreload_disabled,
            "implementation": __name__,
            "api_version": API_VERSION,
        }

    def magic(self, line: str = "") -> None:
        """%umr [on|off] | verbose on|off | exclude NAME[,NAME...] | include NAME[,NAME...]"""
        words = line.replace(",", " ").split()
        command = words[0].lower() if words else "status"
        rest = words[1:]
        if command in ("on", "off") and not rest:
            self.configure(enabled=command == "on")
            if command == "off":  # by hand: the IDE's own reloaders come back
                self.hold_others = False
                self._others.restore()
        elif command == "verbose" and len(rest) == 1 and rest[0].lower() in ("on", "off"):
            self.configure(verbose=rest[0].lower() == "on")
        elif command == "exclude" and rest:
            self.set_exclude(rest)
        elif command == "include" and rest:
            self.set_include(rest)
        elif command != "status" or rest:
            print(
                "Usage: %umr [on|off] | %umr verbose on|off | "
                "%umr exclude NAME[,NAME...] | %umr include NAME[,NAME...]",
                file=sys.stderr,
            )
            return
        print(self.describe())

    def describe(self) -> str:
        status = self.status()
        lines = [
            "User Module Reloader: {}, verbose {}".format(
                "on" if status["enabled"] else "off", "on" if status["verbose"] else "off"
            ),
            "Excluded: " + ", ".join(status["exclude"]),
            f"Tracked user modules: {len(status['user_modules'])}",
        ]
        if status["failed"]:
            lines.append("Failed to reload (fix and run again): " + ", ".join(status["failed"]))
        return "\n".join(lines)


def _describe_failure(name: str, path: str, error: BaseException) -> str:
    """One clear line: which module, which file and line, what went wrong."""
    filename, lineno = path, None
    if isinstance(error, SyntaxError) and error.filename:
        filename, lineno = error.filename, error.lineno
    else:
        frames = traceback.extract_tb(error.__traceback__)
        user_frames = [f for f in frames if "importlib" not in f.filename] or frames
        if user_frames:
            filename, lineno = user_frames[-1].filename, user_frames[-1].lineno
    where = f"{filename}, line {lineno}" if lineno else filename
    detail = error.msg if isinstance(error, SyntaxError) else str(error)
    return (
        f"{RED}UMR: could not reload {name} ({where}): {type(error).__name__}: {detail}. "
        f"The previous version stays loaded; fix the file and run again.{RESET}"
    )


class _OtherReloaders:
    """Spyder's own UMR (spyder-kernels 3.x) and IPython's %autoreload: off while ours is on."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.spyder_disabled = False
        self.autoreload_disabled = False
        self._spyder_saved = None  # (umr object, its enabled flag, SPY_UMR_ENABLED)
        self._autoreload_saved = None  # (magics object, its enabled flag)

    def _registry(self) -> dict:
        manager = getattr(self.shell, "magics_manager", None)
        return getattr(manager, "registry", {}) or {}

    def disable(self) -> None:
        registry = self._registry()
        runner = registry.get("SpyderCodeRunner")
        spyder_umr = getattr(runner, "umr", None)
        if spyder_umr is not None and getattr(spyder_umr, "enabled", False):
            if self._spyder_saved is None or self._spyder_saved[0] is not spyder_umr:
                self._spyder_saved = (spyder_umr, True, os.environ.get("SPY_UMR_ENABLED"))
            spyder_umr.enabled = False  # read by SpyderCodeRunner._exec_file before runfile
            os.environ["SPY_UMR_ENABLED"] = "False"  # a re-created runner stays off too
        self.spyder_disabled = self._spyder_saved is not None

        magics = registry.get("AutoreloadMagics")
        reloader = getattr(magics, "_reloader", None)
        if reloader is not None and getattr(reloader, "enabled", False):
            if self._autoreload_saved is None or self._autoreload_saved[0] is not magics:
                self._autoreload_saved = (magics, True, False)
            reloader.enabled = False
            # Its hook may run before ours: take it out so it cannot act even if re-enabled.
            hook = getattr(magics, "pre_run_cell", None)
            if hook is not None:
                try:
                    self.shell.events.unregister("pre_run_cell", hook)
                    self._autoreload_saved = (magics, True, True)
                except ValueError:
                    pass
        self.autoreload_disabled = self._autoreload_saved is not None

    def keep_disabled(self) -> None:
        """Cheap per-run guard: the IDE may re-enable them (e.g. Spyder's autoreload_magic)."""
        registry = self._registry()
        runner = registry.get("SpyderCodeRunner")
        magics = registry.get("AutoreloadMagics")
        if getattr(getattr(runner, "umr", None), "enabled", False) or getattr(
            getattr(magics, "_reloader", None), "enabled", False
        ):
            self.disable()

    def restore(self) -> None:
        if self._spyder_saved is not None:
            spyder_umr, enabled, env = self._spyder_saved
            spyder_umr.enabled = enabled
            if env is None:
                os.environ.pop("SPY_UMR_ENABLED", None)
            else:
                os.environ["SPY_UMR_ENABLED"] = env
            self._spyder_saved = None
        if self._autoreload_saved is not None:
            magics, enabled, unregistered = self._autoreload_saved
            magics._reloader.enabled = enabled
            if unregistered:
                self.shell.events.register("pre_run_cell", magics.pre_run_cell)
            self._autoreload_saved = None
        self.spyder_disabled = self.autoreload_disabled = False


# --- extension entry points (shared by the installed package and the embedded copy) -----------


def load_ipython_extension(shell) -> UserModuleReloader:
    """Attach one reloader to the shell; loading again returns the existing one."""
    reloader = getattr(shell, SHELL_ATTR, None)
    if reloader is None:
        reloader = UserModuleReloader(shell)
        reloader.register()
        setattr(shell, SHELL_ATTR, reloader)
        reloader.configure()  # switch the other reloaders off
    return reloader


def unload_ipython_extension(shell) -> None:
    reloader = getattr(shell, SHELL_ATTR, None)
    if reloader is not None:
        reloader.unregister()
        delattr(shell, SHELL_ATTR)


def _current_shell():
    try:
        from IPython import get_ipython  # only when called, so importing this file needs no IPython
    except ImportError:
        return None
    return get_ipython()


def configure(enabled=None, verbose=None, exclude=None) -> dict:
    """Apply settings in the current IPython kernel, loading the reloader if needed."""
    shell = _current_shell()
    if shell is None:
        raise RuntimeError("the User Module Reloader needs an IPython kernel")
    return load_ipython_extension(shell).configure(enabled, verbose, exclude)


def status() -> dict:
    shell = _current_shell()
    reloader = getattr(shell, SHELL_ATTR, None) if shell is not None else None
    return reloader.status() if reloader is not None else {"loaded": False}
