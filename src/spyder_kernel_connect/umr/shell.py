"""The reloader's side facing IPython: hooks, the optional watcher thread, settings, ``%umr``.

Kernel side: standard library only (the shell is passed in).
"""

from __future__ import annotations

import contextlib
import select
import sys
import threading

from . import report
from .update import MISSING

USAGE = (
    "Usage: %umr [on|off] | %umr verbose on|off | %umr watch on|off | %umr rebind on|off | "
    "%umr exclude NAME[,NAME...] | %umr include NAME[,NAME...]"
)
WATCH_POLL_SECONDS = 0.5  # the watcher thread's pace where no change events exist
_SWITCHES = ("verbose", "watch", "rebind")


class ShellHooks:
    """Mixed into ``UserModuleReloader``: everything that talks to the shell or the user."""

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
            self._tell(reloaded)
        except Exception as error:  # the user's code must run whatever happens here
            print(f"UMR: internal error, nothing reloaded: {error!r}", file=sys.stderr)

    def _tell(self, reloaded: list) -> None:
        """The red line, then what the reload could not reach (one line each)."""
        if not reloaded:
            return
        if self.verbose:
            print(report.red_line(reloaded, self.last_kinds), flush=True)
            for note in self.last_notes:
                print(f"UMR: {note}", flush=True)
        stale = self._stale_imports()
        if stale and self.rebind:
            self._rebind(stale)
        elif stale:
            print(report.stale_imports_line(stale), file=sys.stderr, flush=True)
        workers = report.live_workers()
        if workers:
            print(report.workers_line(workers), file=sys.stderr, flush=True)

    def _stale_imports(self) -> list:
        """[(name, module, new value)]: console names still bound to a replaced value, from
        this reload or an earlier one (remembered until rebound or reassigned by the user)."""
        user_ns = getattr(self.shell, "user_ns", None)
        if not user_ns:
            return []
        stale = report.stale_imports(user_ns, self.last_changed, MISSING)
        for name, module, _new in stale:
            self._stale_names[name] = (module, user_ns[name])
        listed = {name for name, _module, _new in stale}
        for name, (module, old) in list(self._stale_names.items()):
            current = getattr(sys.modules.get(module), name, MISSING)
            if user_ns.get(name, MISSING) is not old or current is MISSING or current is old:
                del self._stale_names[name]  # reassigned by the user, or back to that value
            elif name not in listed:
                stale.append((name, module, current))
        return stale

    def _rebind(self, stale: list) -> None:
        user_ns = self.shell.user_ns
        for name, _module, new in stale:
            user_ns[name] = new
            self._stale_names.pop(name, None)

    def post_execute(self) -> None:
        # Record modules imported by the run now, so edits before the next run are seen.
        with contextlib.suppress(Exception), self.lock:  # never disturb the kernel's loop
            self.scan_new_modules()

    def register(self) -> None:
        events = self.shell.events
        events.register("pre_run_cell", self.pre_run_cell)
        events.register("post_execute", self.post_execute)
        self.shell.register_magic_function(self.magic, "line", "umr")

    def unregister(self) -> None:
        self._stop_watching()
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

    # -- edits while code runs: a thread applies them as soon as the file is saved

    def _start_watching(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop_event = threading.Event()
        self._thread = threading.Thread(
            target=self._watch_loop, args=(self._stop_event,), name="umr-watch", daemon=True
        )
        self._thread.start()

    def _stop_watching(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop_event.set()
            if thread is not threading.current_thread():
                thread.join(timeout=2 * WATCH_POLL_SECONDS)

    def _watch_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            watcher = self._watcher
            try:
                if watcher is not None:  # sleep until the OS reports a change (or a poll tick)
                    select.select([watcher.fd], [], [], WATCH_POLL_SECONDS)
                else:
                    stop.wait(WATCH_POLL_SECONDS)
                if stop.is_set() or not self.enabled:
                    continue
                self._tell(self.check())
            except Exception as error:  # a thread of ours never dies with a traceback
                if not stop.is_set():
                    print(f"UMR: the watcher stopped: {error!r}", file=sys.stderr)
                return

    # -- settings

    def configure(self, enabled=None, verbose=None, exclude=None, watch=None, rebind=None):
        """Apply the given settings (None: unchanged); returns the status."""
        if exclude is not None:
            if isinstance(exclude, str):
                exclude = exclude.split(",")
            self.set_exclude(exclude, replace_user_list=True)
        for name, value in (("verbose", verbose), ("rebind", rebind), ("watch", watch)):
            if value is not None:
                setattr(self, name, bool(value))
        if enabled is not None:
            self.enabled = bool(enabled)
            self.hold_others = True
        if self.enabled or self.hold_others:
            self._others.disable()
        else:
            self._others.restore()
        if rebind:  # names reported as stale before are rebound at once
            self._rebind(self._stale_imports())
        if self.enabled and self.watch and self.shell is not None:
            self._start_watching()
        else:
            self._stop_watching()
        return self.status()

    def status(self) -> dict:
        return {
            "loaded": True,
            "enabled": self.enabled,
            "verbose": self.verbose,
            "watch": self.watch,
            "rebind": self.rebind,
            "exclude": sorted(self.exclude),
            "user_modules": sorted(self._records),
            "watching": "inotify" if self._watcher is not None else "poll",
            "polled_modules": sorted(self._polled),
            "failed": sorted(name for name, r in self._records.items() if r.failed),
            "last_reloaded": list(self.last_reloaded),
            "last_kinds": dict(self.last_kinds),
            "spyder_umr_disabled": self._others.spyder_disabled,
            "autoreload_disabled": self._others.autoreload_disabled,
            "implementation": __name__.rpartition(".")[0],
            "api_version": self.API_VERSION,
        }

    def magic(self, line: str = "") -> None:
        """%umr [on|off] | verbose|watch|rebind on|off | exclude NAME,... | include NAME,..."""
        words = line.replace(",", " ").split()
        command = words[0].lower() if words else "status"
        rest = words[1:]
        if command in ("on", "off") and not rest:
            self.configure(enabled=command == "on")
            if command == "off":  # by hand: the IDE's own reloaders come back
                self.hold_others = False
                self._others.restore()
        elif command in _SWITCHES and len(rest) == 1 and rest[0].lower() in ("on", "off"):
            self.configure(**{command: rest[0].lower() == "on"})
        elif command == "exclude" and rest:
            self.set_exclude(rest)
        elif command == "include" and rest:
            self.set_include(rest)
        elif command != "status" or rest:
            print(USAGE, file=sys.stderr)
            return
        print(self.describe())

    def describe(self) -> str:
        status = self.status()

        def on(flag: bool) -> str:
            return "on" if flag else "off"

        lines = [
            "User Module Reloader: {}, verbose {}, watch {}, rebind {}".format(
                on(status["enabled"]), on(status["verbose"]), on(status["watch"]), on(self.rebind)
            ),
            "Excluded: " + ", ".join(status["exclude"]),
            f"Tracked user modules: {len(status['user_modules'])}",
        ]
        if status["failed"]:
            lines.append("Failed to reload (fix and run again): " + ", ".join(status["failed"]))
        return "\n".join(lines)
