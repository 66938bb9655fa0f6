"""Kernel-side User Module Reloader: ``%load_ext spyder_kernel_connect.umr``.

Everything lives in ``reloader.py`` (standard library only, no IPython import at import time),
so that ``bootstrap.bootstrap_code()`` can send that one file to kernels lacking this package.
"""

from .reloader import (
    API_VERSION,
    DEFAULT_EXCLUDE,
    UserModuleReloader,
    configure,
    load_ipython_extension,
    status,
    unload_ipython_extension,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_EXCLUDE",
    "UserModuleReloader",
    "configure",
    "load_ipython_extension",
    "status",
    "unload_ipython_extension",
]
