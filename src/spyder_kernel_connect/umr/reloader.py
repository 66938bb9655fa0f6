"""The reloader of one shell: tracks user modules and brings the changed ones up to date.

Kernel side: standard library only (IPython objects are passed in, never imported here), so
``bootstrap.py`` can ship this package as source to a kernel that does not have it installed.
Keep it that way: relative imports within the package only, no dataclasses, Python 3.8+ syntax.
"""

from __future__ import annotations

import os
import sys
import threading
import types

from .inotify import make_watcher
from .interop import OtherReloaders
from .report import describe_failure
from .shell import ShellHooks
from .tracker import (
    ModuleRecord,
    default_exclude,
    drop_bytecode,
    is_library_path,
    library_roots,
    parse_imports,
    read_bytes,
    source_file,
)
from .update import UNCHANGED_KIND, update_module

API_VERSION = 3  # 3: diffing updates; configure(watch=, rebind=)
SHELL_ATTR = "_spyder_kernel_connect_umr"  # where the one reloader of a shell lives


class UserModuleReloader(ShellHooks):
    """Tracks user modules of one shell and updates the changed ones before each run."""

    API_VERSION = API_VERSION

    def __init__(self, shell=None) -> None:
        self.shell = shell
        self.enabled = True
        self.verbose = True
        self.watch = False  # apply edits from a thread as soon as files are saved
        self.rebind = False  # rebind the console's stale `from m import name` names
        self._stale_names: dict = {}  # console name -> (module, the old value it holds)
        self.lock = threading.RLock()  # one check at a time (pre-run hook, watcher thread)
        self._thread = None
        self._stop_event = None
        self.exclude = default_exclude()
        self._roots = library_roots()
        self._records: dict = {}  # name -> ModuleRecord, user modules only
        self._watcher = make_watcher()
        self._polled: dict = {}  # name -> ModuleRecord whose directory is not watched
        self._by_path: dict = {}  # file path -> names of watched records
        self._classified: set = set()  # names looked at once (user or not)
        self._fingerprint = None  # cheap summary of sys.modules to notice new entries
        self.last_reloaded: list = []
        self.last_kinds: dict = {}  # name -> "patched" | "reloaded"
        self.last_notes: list = []  # fallbacks and what could not be reached
        self.last_changed: dict = {}  # name -> {attribute: (old value, new value)}
        self.last_failed: dict = {}  # name -> one-line error
        self._others = OtherReloaders(shell)
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
                record.source, record.codes = record.snapshot(), None
        for name in list(modules.keys() - self._classified):
            self._classify(name)

    def _classify(self, name: str) -> None:
        self._classified.add(name)
        module = sys.modules.get(name)
        if module is None or not self._is_user_module(name, module):
            return
        path = os.path.abspath(source_file(module))
        # Watch first, then snapshot: an edit after the snapshot always raises an event.
        # A symlinked file changes where it points, not in the watched directory: poll it.
        watched = (
            self._watcher is not None
            and not os.path.islink(path)
            and self._watcher.watch(os.path.dirname(path))
        )
        record = ModuleRecord(name, module, path)
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
        path = source_file(module)
        if path is None or self._is_excluded(name):
            return False
        return not is_library_path(path, self._roots)

    def set_exclude(self, names, replace_user_list: bool = False) -> None:
        names = {n.strip() for n in names if n and n.strip()}
        base = default_exclude() if replace_user_list else self.exclude
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
        """Bring what changed (and its dependents) up to date; return the modules that changed
        visibly (a comment or line move changes nothing visible)."""
        with self.lock:
            self.scan_new_modules()
            changed, _gone = self.changed_modules()
            self.last_reloaded, self.last_kinds, self.last_notes = [], {}, []
            self.last_changed = {}
            if not changed:
                return []
            order, changed_set = self._reload_order(changed)
            upstream: dict = {}  # module name -> (names rebound, ids of objects patched)
            failed = {}
            for name in order:
                record = self._records.get(name)
                if record is None:
                    continue
                if name not in changed_set and not any(
                    any(upstream.get(dep, ())) for dep in record.deps
                ):
                    continue  # nothing it imports changed
                outcome, error = self._update(record, upstream, name in changed_set)
                if error is not None:
                    failed[name] = error
                elif outcome.kind != UNCHANGED_KIND:
                    self.last_reloaded.append(name)
                    self.last_kinds[name] = outcome.kind
                    if outcome.reason:
                        self.last_notes.append(f"{name}: ran again in full, as {outcome.reason}")
                    self.last_notes.extend(f"{name}: {note}" for note in outcome.notes)
                    if outcome.changed:
                        self.last_changed[name] = outcome.changed
            self.last_failed = failed
            return list(self.last_reloaded)

    def _update(self, record: ModuleRecord, upstream: dict, edited: bool) -> tuple:
        """Update one module from its own file; on failure the previous version stays."""
        name = record.name
        data = read_bytes(record.path) if edited else record.source
        if data is None:
            return None, "its file cannot be read"
        if edited:
            drop_bytecode(record.path)  # a fresh import later must not load stale bytecode
        try:
            outcome = update_module(
                record.module, record.path, record.source or b"", data, record.codes, upstream
            )
        except BaseException as error:  # SyntaxError, ImportError, anything the module raises
            if edited:
                record.snapshot(data)  # do not retry until the file changes again
            record.failed = True
            message = describe_failure(name, record.path, error)
            print(message, file=sys.stderr)
            if isinstance(error, KeyboardInterrupt):
                raise  # the user interrupted: abort this run, the old version is back
            return None, message
        record.failed = False
        if edited:
            record.snapshot(data)
            record.source = data
        record.codes = outcome.codes
        upstream[name] = (set(outcome.changed), outcome.touched)
        if record.module.__dict__.get("__umr_exclude__") is True:
            self._untrack(name)  # it opted out in this version
        return outcome, None

    def _deps(self, record: ModuleRecord) -> frozenset:
        if record.deps_sig != record.sig:
            is_package = hasattr(record.module, "__path__")
            # The loaded version's source is in memory (after a failed update: read the file).
            source = None if record.failed else record.source
            record.deps = frozenset(parse_imports(record.path, record.name, is_package, source))
            record.deps_sig = record.sig
        return record.deps

    def _reload_order(self, changed: list) -> tuple:
        """Changed modules plus their user dependents, dependencies first (import order on ties)."""
        records = self._records
        for name in changed:  # an edit may add imports (of a module edited in the same save)
            record = records[name]
            is_package = hasattr(record.module, "__path__")
            record.deps = frozenset(parse_imports(record.path, name, is_package))
            record.deps_sig = record.sig  # until the update moves it on
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
