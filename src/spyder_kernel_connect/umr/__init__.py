"""Kernel-side User Module Reloader: ``%load_ext spyder_kernel_connect.umr``.

A small package, standard library only (IPython objects are passed in): ``tracker`` (which
modules are the user's, what changed), ``inotify`` (change events), ``migrate`` (old objects
run new code), ``interop`` (Spyder's UMR and %autoreload off while ours is on), ``reloader``
(the check before each run) and ``extension`` (entry points). ``bootstrap.bootstrap_code()``
ships these sources to kernels lacking this package; ``bootstrap`` itself is plugin-side.
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
