"""Kernel-side User Module Reloader: ``%load_ext spyder_kernel_connect.umr``.

A small package, standard library only (IPython objects are passed in): ``tracker`` (which
modules are the user's, what changed), ``inotify`` (change events), ``diffing`` (what changed,
statement by statement), ``update`` (apply it to the live module), ``codeindex`` and
``classpatch`` (functions patched by code object, classes updated in place), ``report`` (what
the user reads), ``interop`` (Spyder's UMR and %autoreload off while ours is on), ``shell``
(hooks, watcher thread, ``%umr``), ``reloader`` (the check before each run) and ``extension``
(entry points). ``bootstrap.bootstrap_code()`` ships these sources to kernels lacking this
package; ``bootstrap`` itself is plugin-side.
"""

from .extension import configure, load_ipython_extension, status, unload_ipython_extension
from .reloader import API_VERSION, SHELL_ATTR, UserModuleReloader
from .tracker import DEFAULT_EXCLUDE

__all__ = [
    "API_VERSION",
    "DEFAULT_EXCLUDE",
    "SHELL_ATTR",
    "UserModuleReloader",
    "configure",
    "load_ipython_extension",
    "status",
    "unload_ipython_extension",
]
