"""The reloader of one shell: tracks user modules and brings the changed ones up to date.

Kernel side: standard library only (IPython objects are passed in, never imported here), so
``bootstrap.py`` can ship this package as source to a kernel that does not have it installed.
Keep it that way: relative imports within the package only, no dataclasses, Python 3.8+ syntax.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
import types
import weakref

from .inotify import make_watcher
from .interop import OtherReloaders
from .migrate import migrate_instances, update_generic
from .tracker import (
    ModuleRecord,
    default_exclude,
    drop_bytecode,
    is_library_path,
    library_roots,
    parse_imports,
    source_file,
)

API_VERSION = 2
SHELL_ATTR = "_spyder_kernel_connect_umr"  # where the one reloader of a shell lives
# Bright red: readable on Spyder's light and dark console themes alike (plain 31 is a dark
# red that nearly vanishes on the dark background).
RED = "\x1b[91m"
RESET = "\x1b[0m"


class UserModuleReloader:
    """Tracks user modules of one shell and reloads the changed ones before each run."""

    def __init__(self, shell=None) -> None:
        self.shell = shell
        self.enabled = True
        self.verbose = True
        self.exclude = default_exclude()
        self._roots = library_roots()
        self._records: dict = {}  # name -> ModuleRecord, user modules only
        self._watcher = make_watcher()
        self._polled: dict = {}  # name -> ModuleRecord whose directory is not watched
        self._by_path: dict = {}  # file path -> names of watched records
        self._classified: set = set()  # names looked at once (user or not)
        self._fingerprint = None  # cheap summary of sys.modules to notice new entries
        self._old_objects: dict = {}  # module -> {name: [weakref of every old version]}
        self.last_reloaded: list = []
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
                record.snapshot()
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
        migrate_instances(migrated)
        self.last_reloaded = reloaded
        self.last_failed = failed
        return reloaded

    def _deps(self, record: ModuleRecord) -> frozenset:
        if record.deps_sig != record.sig:
            is_package = hasattr(record.module, "__path__")
            record.deps = frozenset(parse_imports(record.path, record.name, is_package))
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

    def _reload(self, record: ModuleRecord, migrated: dict) -> str | None:
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
        drop_bytecode(record.path)
        try:
            importlib.reload(module)
        except BaseException as error:  # SyntaxError, ImportError, anything the module raises
            module.__dict__.clear()
            module.__dict__.update(old_dict)
            record.snapshot()  # do not retry until the file changes again
            record.failed = True
            message = describe_failure(name, record.path, error)
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
                    update_generic(old_obj, new_obj, migrated)
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
            "implementation": __name__.rpartition(".")[0],
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


def describe_failure(name: str, path: str, error: BaseException) -> str:
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
