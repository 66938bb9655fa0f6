"""Pre-run check cost of this UMR vs IPython's `%autoreload 2` and Spyder's UserModuleReloader.

    .venv/bin/python benchmarks/bench_umr.py [--quick]

Each scenario runs in a fresh interpreter: synthetic user packages are generated in a temp dir
and imported, then real library modules (stdlib, then installed packages) are imported until
sys.modules reaches the total. Nothing is changed between checks, except for the change-to-reload
rows (one module with two dependents rewritten). Medians; ratios are what to compare.
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
            parent = f"from .mod_{(i - 1) // 2} import func as parent_func\n" if i else ""
            (package / f"mod_{i}.py").write_text(
                f"{parent}\n\ndef func(x=0):\n    return x + {i}\n\n\n"
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
    text = re.sub(r"return (\d+ \+ )?x \+", f"return {value} + x +", path.read_text(), count=1)
    path.write_text(text)


def scenario(total: int, users: int, quick: bool) -> dict:
    """Runs in its own interpreter (see main)."""
    from IPython.extensions.autoreload import ModuleReloader
    from spyder_kernels.customize.umr import UserModuleReloader as SpyderUMR

    from spyder_kernel_connect.umr import UserModuleReloader

    root = Path(tempfile.mkdtemp(prefix="bench_umr_"))
    sys.path.insert(0, str(root))
    for name in write_user_packages(root, users):
        importlib.import_module(name)
    import_library_until(total)
    # Let the files age past the ambiguous-mtime window, as edited files do between runs.
    old = time.time() - 60
    for path in root.rglob("*.py"):
        os.utime(path, (old, old))

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
    # One change to a module with two dependents: ours reloads all three in order.
    target = root / "userpkg_0" / "mod_5.py"
    timings = []
    for value in range(1, 4):
        edit(target, value)
        start = time.perf_counter_ns()
        reloaded = ours.check()
        timings.append((time.perf_counter_ns() - start) / 1000)
        assert reloaded[:1] == ["userpkg_0.mod_5"] and len(reloaded) == 3, reloaded
    row["reload_first"] = timings[0]  # includes parsing every user module's imports once
    row["reload"] = statistics.median(timings[1:])
    edit(target, 9)
    start = time.perf_counter_ns()
    autoreload.check()
    row["autoreload_reload"] = (time.perf_counter_ns() - start) / 1000
    return row


def fmt_us(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.2f} ms"
    return f"{value:.0f} µs" if value >= 10 else f"{value:.1f} µs"


def print_table(rows: list) -> None:
    print(
        "| sys.modules (user) | this UMR check (inotify) | ratio to autoreload "
        "| this UMR, polling fallback | ratio | `%autoreload 2` check | Spyder `UMR.run` "
        "| change→reload, 3 modules: this UMR first / next | `%autoreload 2` |"
    )
    print("|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        print(
            f"| {r['total']} ({r['user']}) | {fmt_us(r['ours'])} "
            f"| {r['ours'] / r['autoreload']:.4f}× | {fmt_us(r['polling'])} "
            f"| {r['polling'] / r['autoreload']:.3f}× | {fmt_us(r['autoreload'])} "
            f"| {fmt_us(r['spyder'])} | {fmt_us(r['reload_first'])} / {fmt_us(r['reload'])} "
            f"| {fmt_us(r['autoreload_reload'])} |"
        )


def main() -> None:
    quick = "--quick" in sys.argv
    if "--scenario" in sys.argv:
        total, users = (int(v) for v in sys.argv[sys.argv.index("--scenario") + 1].split(","))
        print(json.dumps(scenario(total, users, quick)))
        return
    rows = []
    for total, users in SCENARIOS:
        argv = [sys.executable, __file__, "--scenario", f"{total},{users}"]
        output = subprocess.run(argv + (["--quick"] if quick else []), check=True,
                                capture_output=True, text=True).stdout  # fmt: skip
        rows.append(json.loads(output.strip().splitlines()[-1]))
    print_table(rows)


if __name__ == "__main__":
    main()
