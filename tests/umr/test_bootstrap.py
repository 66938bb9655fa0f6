"""bootstrap_code(): one silent execute that installs or reconfigures the UMR in any kernel."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spyder_kernel_connect.umr.bootstrap import (
    EMBEDDED_MODULE_NAME,
    KERNEL_MODULES,
    bootstrap_code,
)

# A kernel whose Python cannot import this package, as on a server where it is not installed.
BLOCKED_KERNEL = """\
import sys

class BlockThisPackage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "spyder_kernel_connect":
            raise ModuleNotFoundError("No module named %r (blocked by the test)" % name)
        return None

sys.meta_path.insert(0, BlockThisPackage())
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""

COUNT_OUR_HOOKS = (
    "print(sum(type(getattr(cb, '__self__', None)).__name__ == 'UserModuleReloader'"
    " for cb in get_ipython().events.callbacks['pre_run_cell']))"
)


def test_embedded_source_works_where_the_package_is_missing(start_umr_kernel):
    k = start_umr_kernel(argv=[sys.executable, "-c", BLOCKED_KERNEL, "-f", "{connection_file}"])
    blocked = k.run("import spyder_kernel_connect")
    assert blocked.errors and "blocked by the test" in blocked.errors[0]

    k.run(bootstrap_code(enabled=True, verbose=True, exclude=["secret_lib"]), silent=True)
    status = k.run(
        f"umr = sys.modules[{EMBEDDED_MODULE_NAME!r}]; s = umr.status()\n"
        "print(s['implementation'], s['enabled'], 'secret_lib' in s['exclude'],"
        " any(n.startswith('spyder_kernel_connect') for n in sys.modules))"
    )
    assert status.stdout == f"{EMBEDDED_MODULE_NAME} True True False\n"
    # The whole package was shipped: every kernel-side module, under the embedded name.
    shipped = k.run(
        f"print(sorted(m for m in sys.modules if m.startswith({EMBEDDED_MODULE_NAME!r})))"
    )
    expected = sorted(
        EMBEDDED_MODULE_NAME + ("" if name == "__init__" else "." + name) for name in KERNEL_MODULES
    )
    assert shipped.stdout == f"{expected}\n"

    k.write("tool.py", "def f():\n    return 'v1'\n")
    k.run("from tool import f")
    k.write("tool.py", "def f():\n    return 'v2'\n")
    result = k.run("print(f())")
    assert result.reloaded == ["tool"] and result.stdout.endswith("v2\n")
    # The whole reloader, not a subset: a class keeps its identity, a statement re-runs.
    k.write("kind.py", "N = 1\nclass K:\n    def v(self):\n        return 1\n")
    k.run("from kind import K; obj = K()")
    k.write("kind.py", "N = 2\nclass K:\n    def v(self):\n        return 2\n")
    result = k.run("import kind; print(obj.v(), kind.K is K, kind.N)")
    assert result.stdout.endswith("2 True 2\n"), result

    # Preferences changed: the plugin sends the code again; it only reconfigures.
    k.run(bootstrap_code(enabled=True, verbose=False, exclude=[], watch=True), silent=True)
    assert k.run(COUNT_OUR_HOOKS).stdout == "1\n"
    assert "watch on" in k.run("%umr").stdout  # the Preferences' "apply edits at once"
    k.run(bootstrap_code(enabled=True, verbose=False, exclude=[], watch=False), silent=True)
    k.write("tool.py", "def f():\n    return 'v3'\n")
    assert k.run("print(f())").stdout == "v3\n"  # reloaded, message off
    assert "verbose off" in k.run("%umr").stdout


def test_installed_package_is_preferred(umr_kernel):
    k = umr_kernel  # already loaded with %load_ext: the bootstrap must reuse that reloader
    k.run(bootstrap_code(verbose=False), silent=True)
    result = k.run("import spyder_kernel_connect.umr as u; print(u.status()['implementation'])")
    assert result.stdout == "spyder_kernel_connect.umr\n"
    assert k.run(COUNT_OUR_HOOKS).stdout == "1\n"
    assert EMBEDDED_MODULE_NAME not in k.run("print(list(sys.modules))").stdout


def test_not_an_ipython_kernel_prints_one_line():
    proc = subprocess.run(
        [sys.executable, "-I", "-c", bootstrap_code()], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and "not an IPython kernel" in lines[0]


def test_plugin_side_needs_no_ipython():
    code = (
        "import sys\n"
        "from spyder_kernel_connect.umr.bootstrap import bootstrap_code\n"
        "assert len(bootstrap_code(exclude=['a'])) > 10000\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('IPython', 'ipykernel')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout == "[]\n", proc.stderr


@pytest.mark.skipif(
    not os.environ.get("UMR_TEST_PYTHON"),
    reason="set UMR_TEST_PYTHON to another interpreter with ipykernel (e.g. IPython 8.x)",
)
def test_embedded_source_in_another_interpreter(start_umr_kernel):
    """E.g. a Python 3.10 + IPython 8 venv without this package, as on a remote server."""
    python = os.environ["UMR_TEST_PYTHON"]
    k = start_umr_kernel(argv=[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert k.run("import spyder_kernel_connect").errors  # really not installed there
    k.write("ar.py", "class K:\n    def m(self):\n        return 1\n")
    k.run("%load_ext autoreload\n%autoreload 2\nimport ar\nobj = ar.K()")
    k.run(bootstrap_code(enabled=True, verbose=True), silent=True)
    k.write("ar.py", "class K:\n    def m(self):\n        return 2\n")
    result = k.run(
        "am = get_ipython().magics_manager.registry['AutoreloadMagics']\n"
        "print(obj.m(), isinstance(obj, ar.K), am._reloader.enabled)"
    )
    assert result.reloaded == ["ar"] and result.stdout.endswith("2 True False\n"), result
    assert k.run(COUNT_OUR_HOOKS).stdout == "1\n"


def test_every_kernel_side_module_is_shipped_and_self_contained():
    """A new module in umr/ must be listed; at import time it needs only the stdlib and siblings
    (IPython is imported inside functions, when a shell exists)."""
    import ast
    from pathlib import Path

    import spyder_kernel_connect.umr as package

    here = Path(package.__file__).parent
    on_disk = {p.stem for p in here.glob("*.py")} - {"bootstrap"}
    assert on_disk == set(KERNEL_MODULES)
    for name in KERNEL_MODULES:
        # Kernels on Python 3.8 get the same sources.
        tree = ast.parse((here / f"{name}.py").read_text(), feature_version=(3, 8))
        for node in tree.body:  # module level: what executing the shipped source imports
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                top = (node.module or "").split(".")[0]
            elif isinstance(node, ast.Import):
                top = node.names[0].name.split(".")[0]
            else:
                continue
            assert top in sys.stdlib_module_names or top == "__future__", (name, top)
