"""Plugin side: the code that installs or reconfigures the UMR in any kernel with ONE execute.

Standard library only and no IPython import: this runs in Spyder's process. The generated code
prefers the kernel's installed ``spyder_kernel_connect.umr.reloader`` (same API version) and
otherwise execs the embedded source of ``reloader.py`` into a module of its own, so kernels on
servers without this package get the same reloader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from .reloader import API_VERSION

EMBEDDED_MODULE_NAME = "_spyder_kernel_connect_umr"

# Conservative syntax on purpose (parses even on Python 2), so that an unsuitable kernel prints
# one line instead of a SyntaxError traceback. __skc_... names are deleted after the call.
_TEMPLATE = """\
def __skc_umr_bootstrap(settings, source, digest, api_version, module_name):
    import sys
    prefix = "spyder-kernel-connect: "
    if sys.version_info < (3, 8):
        print(prefix + "the User Module Reloader needs Python 3.8 or newer, this kernel runs "
              + sys.version.split()[0] + "; it stays off.")
        return
    try:
        shell = get_ipython()
    except NameError:
        shell = None
    if shell is None or not hasattr(shell, "events") or not hasattr(shell, "magics_manager"):
        print(prefix + "this console is not an IPython kernel; the User Module Reloader "
              "is not available here.")
        return
    try:
        import IPython
        ipython_major = int(IPython.__version__.split(".")[0])
    except Exception:
        ipython_major = 0
    if ipython_major < 7:
        print(prefix + "the User Module Reloader needs IPython 7 or newer; it stays off.")
        return
    try:
        module = None
        try:
            from spyder_kernel_connect.umr import reloader as module
            if getattr(module, "API_VERSION", 0) != api_version:
                module = None
        except Exception:
            module = None
        if module is None:
            module = sys.modules.get(module_name)
            if module is None or getattr(module, "SOURCE_DIGEST", None) != digest:
                import types
                module = types.ModuleType(module_name)
                sys.modules[module_name] = module
                code = compile(source, "<spyder_kernel_connect.umr.reloader>", "exec")
                exec(code, module.__dict__)
                module.SOURCE_DIGEST = digest
        existing = getattr(shell, module.SHELL_ATTR, None)
        if existing is not None and type(existing) is not module.UserModuleReloader:
            existing.unregister()  # an older copy: hand over to this one
            delattr(shell, module.SHELL_ATTR)
        module.load_ipython_extension(shell).configure(**settings)
    except Exception as error:
        print(prefix + "could not start the User Module Reloader: %r" % (error,))


__skc_umr_bootstrap(__SETTINGS__, __SOURCE__, __DIGEST__, __API__, __NAME__)
del __skc_umr_bootstrap
"""


def reloader_source() -> str:
    """The source of the kernel-side module, as sent to kernels."""
    return (Path(__file__).with_name("reloader.py")).read_text(encoding="utf-8")


def bootstrap_code(
    enabled: bool = True, verbose: bool = True, exclude: Iterable[str] | None = None
) -> str:
    """Python source that loads (once) and configures the UMR in the kernel that executes it.

    Send it as one silent execute request; sending it again only applies the new settings.
    ``exclude`` is the user's list of module names (the defaults are always excluded).
    """
    settings = {"enabled": bool(enabled), "verbose": bool(verbose)}
    if exclude is not None:
        settings["exclude"] = [str(name) for name in exclude]
    source = reloader_source()
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    replacements = {
        "__SETTINGS__": repr(settings),
        "__SOURCE__": repr(source),
        "__DIGEST__": repr(digest),
        "__API__": repr(API_VERSION),
        "__NAME__": repr(EMBEDDED_MODULE_NAME),
    }
    code = _TEMPLATE
    for token, value in replacements.items():
        code = code.replace(token, value, 1) if token != "__SOURCE__" else code
    # The source goes in last so that tokens inside it are never replaced.
    return code.replace("__SOURCE__", replacements["__SOURCE__"], 1)
