"""Plugin side: the code that installs or reconfigures the UMR in any kernel with ONE execute.

Standard library only and no IPython import: this runs in Spyder's process. The generated code
prefers the kernel's installed ``spyder_kernel_connect.umr`` (same API version) and otherwise
execs the embedded sources of the package's kernel-side modules, in dependency order, into a
package of its own (``_spyder_kernel_connect_umr``), so kernels on servers without this package
get the same reloader. This module is the only one of the package that is not shipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from .reloader import API_VERSION

# The kernel-side modules, each after the modules it imports; the package __init__ last.
KERNEL_MODULES = (
    "tracker",
    "inotify",
    "codeindex",
    "classpatch",
    "diffing",
    "update",
    "report",
    "interop",
    "shell",
    "reloader",
    "extension",
    "__init__",
)

EMBEDDED_MODULE_NAME = "_spyder_kernel_connect_umr"

# Conservative syntax on purpose (parses even on Python 2), so that an unsuitable kernel prints
# one line instead of a SyntaxError traceback. __skc_... names are deleted after the call.
_TEMPLATE = """\
def __skc_umr_bootstrap(settings, sources, digest, api_version, package_name):
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
            import spyder_kernel_connect.umr as module
            if getattr(module, "API_VERSION", 0) != api_version:
                module = None
        except Exception:
            module = None
        if module is None:
            module = sys.modules.get(package_name)
            if module is None or getattr(module, "SOURCE_DIGEST", None) != digest:
                import linecache
                import types
                module = types.ModuleType(package_name)
                module.__path__ = []
                module.__package__ = package_name
                sys.modules[package_name] = module
                for name, source in sources:
                    filename = "<spyder_kernel_connect.umr/%s.py>" % name
                    # Readable tracebacks for the embedded copy, should one ever show.
                    linecache.cache[filename] = (len(source), None, source.splitlines(True),
                                                 filename)
                    if name == "__init__":
                        part = module
                    else:
                        part = types.ModuleType(package_name + "." + name)
                        part.__package__ = package_name
                        sys.modules[part.__name__] = part
                        setattr(module, name, part)
                    exec(compile(source, filename, "exec"), part.__dict__)
                module.SOURCE_DIGEST = digest
        existing = getattr(shell, module.SHELL_ATTR, None)
        if existing is not None and type(existing) is not module.UserModuleReloader:
            existing.unregister()  # an older copy: hand over to this one
            delattr(shell, module.SHELL_ATTR)
        module.load_ipython_extension(shell).configure(**settings)
    except Exception as error:
        print(prefix + "could not start the User Module Reloader: %r" % (error,))


__skc_umr_bootstrap(__SETTINGS__, __SOURCES__, __DIGEST__, __API__, __NAME__)
del __skc_umr_bootstrap
"""


def kernel_sources() -> list[tuple[str, str]]:
    """[(module name, source)] of the kernel-side modules, in the order they are executed."""
    here = Path(__file__).parent
    return [(name, (here / f"{name}.py").read_text(encoding="utf-8")) for name in KERNEL_MODULES]


def bootstrap_code(
    enabled: bool = True,
    verbose: bool = True,
    exclude: Iterable[str] | None = None,
    **options: bool,
) -> str:
    """Python source that loads (once) and configures the UMR in the kernel that executes it.

    Send it as one silent execute request; sending it again only applies the new settings.
    ``exclude`` is the user's list of module names (the defaults are always excluded).
    ``options``: further settings of ``UserModuleReloader.configure`` (e.g. ``watch=True``).
    """
    settings = {"enabled": bool(enabled), "verbose": bool(verbose)}
    if exclude is not None:
        settings["exclude"] = [str(name) for name in exclude]
    settings.update({key: bool(value) for key, value in options.items()})
    sources = kernel_sources()
    digest = hashlib.sha256(repr(sources).encode("utf-8")).hexdigest()
    code = _TEMPLATE
    for token, value in (
        ("__SETTINGS__", settings),
        ("__DIGEST__", digest),
        ("__API__", API_VERSION),
        ("__NAME__", EMBEDDED_MODULE_NAME),
    ):
        code = code.replace(token, repr(value), 1)
    # The sources go in last so that tokens inside them are never replaced.
    return code.replace("__SOURCES__", repr(sources), 1)
