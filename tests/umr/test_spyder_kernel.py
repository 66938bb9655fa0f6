"""spyder-kernels 3.x kernel: %runfile reloads through our UMR only, Spyder's UMR stays off."""

from __future__ import annotations

import sys

import pytest

from spyder_kernel_connect.umr.bootstrap import bootstrap_code

pytest.importorskip("spyder_kernels")

SPYDER_UMR_ENABLED = (
    "print(get_ipython().magics_manager.registry['SpyderCodeRunner'].umr.enabled,"
    " os.environ.get('SPY_UMR_ENABLED'))"
)


@pytest.fixture
def spyder_kernel(start_umr_kernel):
    # What Spyder puts into the kernel's environment when its UMR preference is on.
    env = {"SPY_UMR_ENABLED": "True", "SPY_UMR_VERBOSE": "True", "SPY_UMR_NAMELIST": ""}
    argv = [sys.executable, "-m", "spyder_kernels.console", "-f", "{connection_file}"]
    return start_umr_kernel(argv=argv, env=env)


def test_runfile_reloads_once_and_spyder_umr_is_switched_off(spyder_kernel):
    k = spyder_kernel
    assert k.run(SPYDER_UMR_ENABLED).stdout == "True True\n"
    k.write("helper.py", "V = 'one'\n")
    script = k.write("script.py", "import helper\nprint('helper says', helper.V)\n")
    first = k.run(f"%runfile {script}")
    assert first.stdout.endswith("helper says one\n")

    k.run(bootstrap_code(enabled=True, verbose=True), silent=True)
    assert k.run(SPYDER_UMR_ENABLED).stdout == "False False\n"

    k.write("helper.py", "V = 'two'\n")
    result = k.run(f"%runfile {script}")
    assert result.stdout.count("Reloaded modules") == 1, result  # ours, and only ours
    assert result.reloaded == ["helper"]
    assert "\x1b[4;" not in result.stdout  # Spyder's underlined "Reloaded modules" line
    assert result.stdout.endswith("helper says two\n")

    k.write("helper.py", "V = 'three'\n")
    ran = k.run(f"%run {script}")
    assert ran.reloaded == ["helper"] and ran.stdout.endswith("helper says three\n")

    k.write("helper.py", "V = 'four'\n")
    # %runcell asks Spyder's editor for the cell (no editor here, so the cell itself fails);
    # the reload before it is what this checks.
    cell = k.run(f"%runcell -i 0 {script}")
    assert cell.stdout.count("Reloaded modules") == 1 and cell.reloaded == ["helper"]
    assert k.run("print(helper.V)").stdout == "four\n"

    # Our UMR off: Spyder's comes back as it was.
    k.run("%umr off")
    assert k.run(SPYDER_UMR_ENABLED).stdout == "True True\n"
