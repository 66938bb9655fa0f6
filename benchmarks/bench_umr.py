"""This UMR vs IPython's `%autoreload 2`, jurigged and Spyder's UserModuleReloader.

    .venv/bin/python benchmarks/bench_umr.py [--quick] [--scenarios]

Costs: each row runs in a fresh interpreter: synthetic user packages are generated in a temp
dir and imported, then real library modules (stdlib, then installed packages) are imported until
sys.modules reaches the total. The pre-run check is timed with nothing changed; then one module
with two dependents is edited: a function body (this UMR patches it) and a top-level constant
the dependents import (the statement and the dependents' imports run again). jurigged has no
pre-run check (a watchdog thread applies saves): its column is save→visible, measured in a
process of its own. Medians; ratios are what to compare.

--scenarios: the 44 edit-and-run scenarios of tests/umr/scenarios.py, each in a fresh real
kernel, for every reloader: passed/44.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

SCENARIOS = [  # (total modules, user modules)
    (900, 200),
    (1700, 200),  # only library modules added: the UMR check must not grow
    (1700, 1000),
]
MODULES_PER_PACKAGE = 20
NEVER_IMPORT = {"antigravity", "this", "idlelib", "turtledemo", "__phello__", "tkinter", "turtle"}
LIBRARY_PACKAGES = ["IPython", "jedi", "pygments", "docutils", "prompt_toolkit", "jupyter_client",
                    "zmq", "tornado", "parso", "sphinx", "babel", "jinja2", "paramiko", "asyncssh",
                    "cryptography", "pandas", "numpy", "qtconsole", "spyder"]  # fmt: skip


def write_user_packages(root: Path, count: int) -> list:
    """`count` modules in packages of 20; module i imports from module (i-1)//2 (a tree)."""
    names = []
    for p in range((count + MODULES_PER_PACKAGE - 1) // MODULES_PER_PACKAGE):
        package = root / f"userpkg_{p}"
        package.mkdir()
        (package / "__init__.py").write_text("VERSION = 1\n")
        names.append(f"userpkg_{p}")
        for i in range(min(MODULES_PER_PACKAGE, count - len(names) + 1) - 1):
            parent = (
                f"from .mod_{(i - 1) // 2} import SCALE as PARENT_SCALE, func as parent_func\n"
                if i
                else ""
            )
            (package / f"mod_{i}.py").write_text(
                f"{parent}\nSCALE = 1\n\n\ndef func(x=0):\n    return x + {i}\n\n\n"
                f"class Thing:\n    def method(self):\n        return {i}\n"
            )
            names.append(f"userpkg_{p}.mod_{i}")
    return names[:count]


def library_candidates() -> list:
    """Stdlib, then installed packages' modules, found on disk (walk_packages would import)."""
    names = [n for n in sorted(sys.stdlib_module_names) if n not in NEVER_IMPORT]
    for top in LIBRARY_PACKAGES:
        spec = importlib.util.find_spec(top)
        if not spec or not spec.submodule_search_locations:
            continue
        base = Path(next(iter(spec.submodule_search_locations)))
        names.append(top)
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            if any(p.startswith("test") or "." in p for p in parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join((top, *parts)))
    return names


def import_library_until(total: int) -> None:
    warnings.simplefilter("ignore")
    for name in library_candidates():
        if len(sys.modules) >= total:
            return
        quiet = io.StringIO()
        with (
            contextlib.suppress(BaseException),
            contextlib.redirect_stdout(quiet),
            contextlib.redirect_stderr(quiet),
        ):
            importlib.import_module(name)


def median_us(func, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        func()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def edit(path: Path, value: int) -> None:
    """A function body edit (the patch path)."""
    text = re.sub(r"return (\d+ \+ )?x \+", f"return {value} + x +", path.read_text(), count=1)
    path.write_text(text)


def edit_top_level(path: Path, value: int) -> None:
    """A top-level edit: a constant that two dependents import (statements run again)."""
    path.write_text(re.sub(r"SCALE = \d+", f"SCALE = {value}", path.read_text(), count=1))


def timed(func) -> float:
    start = time.perf_counter_ns()
    func()
    return (time.perf_counter_ns() - start) / 1000


def prepare(total: int, users: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="bench_umr_"))
    sys.path.insert(0, str(root))
    for name in write_user_packages(root, users):
        importlib.import_module(name)
    import_library_until(total)
    # Let the files age past the ambiguous-mtime window, as edited files do between runs.
    old = time.time() - 60
    for path in root.rglob("*.py"):
        os.utime(path, (old, old))
    return root


def scenario(total: int, users: int, quick: bool) -> dict:
    """Runs in its own interpreter (see main)."""
    from IPython.extensions.autoreload import ModuleReloader
    from spyder_kernels.customize.umr import UserModuleReloader as SpyderUMR

    from spyder_kernel_connect.umr import UserModuleReloader

    root = prepare(total, users)
    os.environ["SKC_UMR_WATCH"] = "poll"  # the fallback for network filesystems
    polling = UserModuleReloader(shell=None)
    del os.environ["SKC_UMR_WATCH"]
    ours = UserModuleReloader(shell=None)
    assert ours.status()["watching"] == "inotify"
    autoreload = ModuleReloader()
    autoreload.enabled, autoreload.check_all = True, True  # what `%autoreload 2` sets
    spyder = SpyderUMR()
    repeat = 30 if quick else 200
    row = {
        "total": len(sys.modules),
        "user": len(ours.status()["user_modules"]),
        "ours": median_us(ours.check, repeat),
        "polling": median_us(polling.check, repeat),
        "autoreload": median_us(autoreload.check, max(repeat // 4, 10)),
        "spyder": median_us(spyder.run, max(repeat // 10, 5)),
    }
    # One module with two dependents, edited: ours first, then %autoreload 2 on its own edits.
    target = root / "userpkg_0" / "mod_5.py"
    module = sys.modules["userpkg_0.mod_5"]
    patch, top = [], []
    for value in range(1, 4):
        edit(target, value)
        patch.append(timed(lambda: ours.check()))
        assert ours.last_kinds == {"userpkg_0.mod_5": "patched"}, ours.last_kinds
        assert module.func(0) == value + 5
        edit_top_level(target, value + 1)
        top.append(timed(lambda: ours.check()))
        assert len(ours.last_reloaded) == 3, ours.last_reloaded  # the module and 2 dependents
        assert value + 1 == sys.modules["userpkg_0.mod_11"].PARENT_SCALE
    row["patch_first"] = patch[0]  # includes parsing every user module's imports once
    row["patch"] = statistics.median(patch[1:])
    row["top"] = statistics.median(top)
    autoreload.check()  # takes in the edits above, untimed
    edit(target, 9)
    row["autoreload_patch"] = timed(autoreload.check)
    edit_top_level(target, 9)
    row["autoreload_top"] = timed(autoreload.check)
    return row


def jurigged_scenario(total: int, users: int) -> dict:
    """Save→visible for jurigged (its watchdog thread applies saves; no pre-run check)."""
    import jurigged

    root = prepare(total, users)
    watcher = jurigged.watch(str(root), logger=lambda *a, **k: None)
    target = root / "userpkg_0" / "mod_5.py"
    module = sys.modules["userpkg_0.mod_5"]
    dependent = sys.modules["userpkg_0.mod_11"]

    def until(condition) -> float:
        start = time.perf_counter_ns()
        deadline = time.time() + 30
        while not condition() and time.time() < deadline:
            time.sleep(0.001)
        return (time.perf_counter_ns() - start) / 1000 if condition() else float("nan")

    patch, top = [], []
    time.sleep(1)  # the observer is running
    for value in range(1, 4):
        edit(target, value)
        patch.append(until(lambda v=value: module.func(0) == v + 5))
        edit_top_level(target, value + 1)
        top.append(until(lambda v=value: v + 1 == module.SCALE))
    # jurigged does not update names the dependents imported: the constant stays stale there.
    row = {
        "patch": statistics.median(patch),
        "top": statistics.median(top),
        "dependents_stale": dependent.PARENT_SCALE != 4,
    }
    watcher.stop()
    return row


def fmt_us(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f} ms"
    return f"{value:.0f} µs" if value >= 10 else f"{value:.1f} µs"


def print_table(rows: list) -> None:
    print(
        "| sys.modules (user) | this UMR check (inotify) | ratio to `%autoreload 2` "
        "| this UMR, polling fallback | ratio | `%autoreload 2` check | jurigged check "
        "| Spyder `UMR.run` |"
    )
    print("|---|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        print(
            f"| {r['total']} ({r['user']}) | {fmt_us(r['ours'])} "
            f"| {r['ours'] / r['autoreload']:.4f}× | {fmt_us(r['polling'])} "
            f"| {r['polling'] / r['autoreload']:.3f}× | {fmt_us(r['autoreload'])} "
            f"| none (thread) | {fmt_us(r['spyder'])} |"
        )
    print()
    print(
        "| sys.modules (user) | function edit: this UMR (patch), first / next "
        "| `%autoreload 2` | jurigged save→visible "
        "| top-level edit + 2 dependents: this UMR | `%autoreload 2` (module only) "
        "| jurigged save→visible (module only) |"
    )
    print("|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        j = r["jurigged"]
        print(
            f"| {r['total']} ({r['user']}) | {fmt_us(r['patch_first'])} / {fmt_us(r['patch'])} "
            f"| {fmt_us(r['autoreload_patch'])} | {fmt_us(j['patch'])} | {fmt_us(r['top'])} "
            f"| {fmt_us(r['autoreload_top'])} | {fmt_us(j['top'])}"
            f"{' (dependents stale)' if j['dependents_stale'] else ''} |"
        )


def run_scenarios() -> None:
    """passed/44 per reloader, each scenario in a fresh spyder-kernels kernel."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.umr.scenarios import RELOADERS, SCENARIOS, run_scenario

    results = {}
    for reloader in RELOADERS:
        failed = []
        for name, steps in SCENARIOS.items():
            with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as rt:
                os.environ["JUPYTER_RUNTIME_DIR"] = rt
                passed, why = run_scenario(steps, reloader, Path(work), Path(rt))
            if not passed:
                failed.append(name)
                print(f"  {reloader}: {name}: {why}", file=sys.stderr, flush=True)
        results[reloader] = failed
    print("| reloader | passed / 44 | failed scenarios |")
    print("|---|---|---|")  # fmt: skip
    for reloader, failed in results.items():
        print(f"| {reloader} | {len(SCENARIOS) - len(failed)} | {', '.join(failed) or '—'} |")


def main() -> None:
    quick = "--quick" in sys.argv
    if "--scenarios" in sys.argv:
        run_scenarios()
        return
    if "--scenario" in sys.argv:
        total, users = (int(v) for v in sys.argv[sys.argv.index("--scenario") + 1].split(","))
        print(json.dumps(scenario(total, users, quick)))
        return
    if "--jurigged" in sys.argv:
        total, users = (int(v) for v in sys.argv[sys.argv.index("--jurigged") + 1].split(","))
        print(json.dumps(jurigged_scenario(total, users)))
        return
    rows = []
    for total, users in SCENARIOS:
        row = None
        for mode in ("--scenario", "--jurigged"):
            argv = [sys.executable, __file__, mode, f"{total},{users}"]
            output = subprocess.run(argv + (["--quick"] if quick else []), check=True,
                                    capture_output=True, text=True).stdout  # fmt: skip
            result = json.loads(output.strip().splitlines()[-1])
            row = result if row is None else {**row, "jurigged": result}
        rows.append(row)
    print_table(rows)


if __name__ == "__main__":
    main()
