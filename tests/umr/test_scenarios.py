"""The 44 edit-and-run scenarios (tests/umr/scenarios.py) against this UMR, each in a fresh
spyder-kernels kernel. benchmarks/bench_umr.py --scenarios runs the same against the peers."""

from __future__ import annotations

import pytest

from tests.umr.scenarios import SCENARIOS, run_scenario

# Reachable only with the rebinding setting (%umr rebind on); by default the user is told.
NEEDS_REBIND = {"from-imported constant"}


@pytest.mark.parametrize("kind", ["spyder-kernels", "ipykernel"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(name, kind, tmp_path, runtime_dir):
    if kind == "ipykernel" and "%runfile" in name:
        pytest.skip("%runfile is spyder-kernels' magic")
    if name in NEEDS_REBIND:
        pytest.xfail("a name bound by `from m import X` keeps its value unless %umr rebind on")
    workdir = tmp_path / "work"
    workdir.mkdir()
    passed, why = run_scenario(SCENARIOS[name], "this UMR", workdir, runtime_dir, kind)
    assert passed, why
