"""Spyder's own UMR and IPython's %autoreload: switched off while ours is on, restored after.

Kernel side: standard library only (the shell and its magics are passed in).
"""

from __future__ import annotations

import contextlib
import os


def _autoreload_mode(reloader) -> str:
    """The %autoreload argument that restores the reloader's current mode ("1", "2-", "3"...)."""
    if not getattr(reloader, "check_all", True):
        mode = "1"
    else:
        mode = "3" if getattr(reloader, "autoload_obj", False) else "2"
    deduper = getattr(reloader, "deduper_reloader", None)
    if deduper is not None and not getattr(deduper, "enabled", True):
        mode += "-"  # the user chose the full (non-diffing) algorithm
    return mode


class OtherReloaders:
    """Spyder's own UMR (spyder-kernels 3.x) and IPython's %autoreload: off while ours is on."""

    def __init__(self, shell) -> None:
        self.shell = shell
        self.spyder_disabled = False
        self.autoreload_disabled = False
        self._spyder_saved = None  # (umr object, its enabled flag, SPY_UMR_ENABLED)
        self._autoreload_saved = None  # (magics object, its mode for %autoreload, unhooked)

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
                self._autoreload_saved = (magics, _autoreload_mode(reloader), False)
            # The magic is IPython's public switch (IPython offers no getter for the mode).
            with contextlib.suppress(Exception):
                self.shell.run_line_magic("autoreload", "off")
            reloader.enabled = False  # in case an old IPython's magic did not take "off"
            # Its hook may run before ours: take it out so it cannot act even if re-enabled.
            hook = getattr(magics, "pre_run_cell", None)
            if hook is not None:
                try:
                    self.shell.events.unregister("pre_run_cell", hook)
                    self._autoreload_saved = (*self._autoreload_saved[:2], True)
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
            magics, mode, unregistered = self._autoreload_saved
            with contextlib.suppress(Exception):
                self.shell.run_line_magic("autoreload", mode)
            if unregistered:
                self.shell.events.register("pre_run_cell", magics.pre_run_cell)
            self._autoreload_saved = None
        self.spyder_disabled = self.autoreload_disabled = False
