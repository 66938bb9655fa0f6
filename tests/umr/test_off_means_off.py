"""The plugin's "UMR off" (bootstrap_code(enabled=False)): nothing reloads at all.

Spyder's own UMR and IPython's %autoreload, which Spyder switches on in its kernels, stay off
while ours is off; only ``%umr off`` typed by hand gives them back.
"""

from __future__ import annotations

import os
import sys
import time

import pytest

from spyder_kernel_connect.umr.bootstrap import bootstrap_code

pytest.importorskip("spyder_kernels")

STATE = (
    "_r = get_ipython().magics_manager.registry; "
    "print(_r['SpyderCodeRunner'].umr.enabled, "
    "getattr(_r.get('AutoreloadMagics'), '_reloader', None) is not None "
    "and _r['AutoreloadMagics']._reloader.enabled)"
)


@pytest.fixture
def spyder_kernel_with_autoreload(start_umr_kernel):
    """A spyder-kernels kernel as Spyder configures it: its UMR on and ``%autoreload 2``."""
    env = {"SPY_UMR_ENABLED": "True", "SPY_UMR_VERBOSE": "True", "SPY_UMR_NAMELIST": ""}
    argv = [sys.executable, "-m", "spyder_kernels.console", "-f", "{connection_file}"]
    kernel = start_umr_kernel(argv=argv, env=env)
    kernel.run("%reload_ext autoreload\n%autoreload 2")  # what Spyder's autoreload_magic does
    assert kernel.run(STATE).stdout == "True True\n"
    return kernel


def edit(kernel, value: str) -> None:
    path = kernel.write("offmod.py", f"V = {value!r}\n")
    stamp = time.time() + 2 + len(value)  # newer each time, even on coarse timestamps
    os.utime(path, (stamp, stamp))


def test_plugin_off_keeps_every_reloader_off(spyder_kernel_with_autoreload):
    k = spyder_kernel_with_autoreload
    edit(k, "one")
    script = k.write("offscript.py", "import offmod\nprint('offmod says', offmod.V)\n")
    assert k.run(f"%runfile {script}").stdout.endswith("offmod says one\n")

    k.run(bootstrap_code(enabled=False, verbose=True), silent=True)
    assert k.run(STATE).stdout == "False False\n"
    edit(k, "two")
    ran = k.run(f"%runfile {script}")
    assert ran.stdout.endswith("offmod says one\n"), ran  # nobody reloaded it
    assert "Reloaded modules" not in ran.stdout
    assert k.run("print(offmod.V)").stdout == "one\n"  # %autoreload did not either

    # Spyder re-sends its autoreload setting (e.g. after a preference change): still off.
    k.run("%autoreload 2")
    edit(k, "three")
    assert k.run("print(offmod.V)").stdout == "one\n"

    k.run(bootstrap_code(enabled=True, verbose=True), silent=True)
    edit(k, "four")
    ran = k.run(f"%runfile {script}")
    assert ran.reloaded == ["offmod"] and ran.stdout.endswith("offmod says four\n"), ran
    assert ran.stdout.count("Reloaded modules") == 1

    # By hand, %umr off gives Spyder's reloaders back, as documented.
    k.run("%umr off")
    assert k.run(STATE).stdout == "True True\n"
