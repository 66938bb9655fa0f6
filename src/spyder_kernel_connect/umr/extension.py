"""Extension entry points, shared by the installed package and the embedded copy.

Kernel side: standard library only; IPython is imported only when a function needs the shell.
"""

from __future__ import annotations

from .reloader import SHELL_ATTR, UserModuleReloader


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
