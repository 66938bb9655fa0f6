"""Fast in-process tests of the tracker: classification, import parsing, what a check touches."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import textwrap
import uuid

import pytest

from spyder_kernel_connect.umr import inotify, tracker
from spyder_kernel_connect.umr import reloader as umr


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A sys.path entry with uniquely named user packages; they leave sys.modules afterwards."""
    prefix = f"u{uuid.uuid4().hex[:8]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)

    def write(relpath: str, text: str):
        path = tmp_path / relpath.replace("PFX", prefix)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        importlib.invalidate_caches()
        return path

    yield prefix, write
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_parse_imports_resolves_relative_and_from_imports(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "import a.b.c\nfrom . import sibling\nfrom .. import uncle\nfrom .sub import thing\n"
        "from pkg import mod as alias\ndef later():\n    import inner\n"
    )
    found = tracker.parse_imports(str(source), "top.pkg.mod", is_package=False)
    assert {"a", "a.b", "a.b.c", "top.pkg", "top.pkg.sibling", "top", "top.uncle"} <= found
    assert {"top.pkg.sub", "top.pkg.sub.thing", "pkg", "pkg.mod", "inner"} <= found
    assert "top.pkg.mod" not in found
    as_package = tracker.parse_imports(str(source), "top.pkg", is_package=True)
    assert "top.pkg.sibling" in as_package and "top.pkg.sub" in as_package


def test_only_user_modules_are_tracked(user_dir):
    prefix, write = user_dir
    write("PFX_user.py", "import json\n")
    write("lib/python3/site-packages/PFX_lib.py", "")
    write("PFX_ext.cpython-311-x86_64-linux-gnu.so", "")  # never a .py source
    sys.path.insert(0, str(write("lib/python3/site-packages/x", "").parent))
    importlib.import_module(f"{prefix}_user")
    importlib.import_module(f"{prefix}_lib")
    tracked = umr.UserModuleReloader().status()["user_modules"]
    assert f"{prefix}_user" in tracked
    assert f"{prefix}_lib" not in tracked
    for library in ("json", "os", "pytest", "IPython", "spyder_kernel_connect.umr.reloader"):
        assert library not in tracked


def test_exclusion_is_by_dotted_prefix(user_dir):
    prefix, write = user_dir
    write("PFX_pkg/__init__.py", "")
    write("PFX_pkg/inner.py", "")
    write("PFX_pkgother.py", "")
    for name in ("_pkg.inner", "_pkgother"):
        importlib.import_module(prefix + name)
    reloader = umr.UserModuleReloader()
    reloader.set_exclude([f"{prefix}_pkg"])
    tracked = reloader.status()["user_modules"]
    assert f"{prefix}_pkgother" in tracked
    assert f"{prefix}_pkg" not in tracked and f"{prefix}_pkg.inner" not in tracked
    reloader.set_include([f"{prefix}_pkg"])
    assert f"{prefix}_pkg.inner" in reloader.status()["user_modules"]


def skip_unless_mounts_visible(*paths) -> None:
    """inotify is trusted only on a known local filesystem; in a chroot whose root mount is
    outside it, /proc/self/mountinfo cannot tell, and the reloader rightly polls."""
    mounts = [point for point, _type in inotify.mount_types()]
    for path in map(os.path.realpath, map(str, paths)):
        if not any(path == p or path.startswith(p.rstrip("/") + "/") for p in mounts):
            pytest.skip(f"the mount holding {path} is not visible here")


@pytest.mark.parametrize("mode", ["inotify", "poll"])
def test_a_check_never_stats_library_modules(user_dir, monkeypatch, mode):
    prefix, write = user_dir
    if mode == "inotify":
        # The test process's own modules (this repository) are user modules too.
        skip_unless_mounts_visible(write("PFX_probe.txt", ""), __file__)
    monkeypatch.setenv("SKC_UMR_WATCH", mode)
    for i in range(5):
        write(f"PFX_m{i}.py", f"V = {i}\n")
        importlib.import_module(f"{prefix}_m{i}")
    reloader = umr.UserModuleReloader()
    assert reloader.status()["watching"] == mode
    for path in reloader._records.values():  # let the files age out of the ambiguous window
        os.utime(path.path, (1, 1))
        path.snapshot()
    reloader.check()  # consumes the events of those utime() calls
    importlib.import_module("wave")  # a library module arriving later
    importlib.import_module("colorsys")

    stat_calls = []
    real_stat = os.stat
    monkeypatch.setattr(umr.os, "stat", lambda p, *a, **k: stat_calls.append(p) or real_stat(p))
    assert reloader.check() == []
    monkeypatch.setattr(umr.os, "stat", real_stat)
    if mode == "inotify":
        assert stat_calls == []  # nothing changed: no file looked at
    else:
        assert sorted(stat_calls) == sorted(r.path for r in reloader._records.values())
    assert "wave" not in reloader.status()["user_modules"]


def test_lost_directory_falls_back_to_polling(user_dir, monkeypatch):
    prefix, write = user_dir
    monkeypatch.delenv("SKC_UMR_WATCH", raising=False)
    path = write("PFX_dir/PFX_mod.py", "V = 1\n")
    sys.path.insert(0, str(path.parent))
    module = importlib.import_module(f"{prefix}_mod")
    reloader = umr.UserModuleReloader()
    if reloader.status()["watching"] != "inotify":
        pytest.skip("inotify is not available here")
    skip_unless_mounts_visible(path)
    assert f"{prefix}_mod" not in reloader.status()["polled_modules"]

    shutil.rmtree(path.parent)  # e.g. a branch switch removing and re-creating the folder
    write("PFX_dir/PFX_mod.py", "V = 22\n")
    assert reloader.check() == [f"{prefix}_mod"]
    assert module.V == 22
    assert f"{prefix}_mod" in reloader.status()["polled_modules"]


def test_reload_order_follows_imports_even_in_cycles(user_dir):
    prefix, write = user_dir
    write("PFX_a.py", "X = 1\n")
    write("PFX_b.py", "from PFX_a import X\nimport PFX_c\n".replace("PFX", prefix))
    write("PFX_c.py", "def f():\n    import PFX_b\n".replace("PFX", prefix))
    importlib.import_module(f"{prefix}_b")
    reloader = umr.UserModuleReloader()
    order, _ = reloader._reload_order([f"{prefix}_a"])
    assert order[0] == f"{prefix}_a" and set(order) == {f"{prefix}_{n}" for n in "abc"}


def test_symlinked_module_file_is_polled(user_dir, monkeypatch, tmp_path):
    prefix, write = user_dir
    monkeypatch.delenv("SKC_UMR_WATCH", raising=False)
    target = write("elsewhere/real_source.py", "V = 1\n")
    (tmp_path / f"{prefix}_linked.py").symlink_to(target)
    module = importlib.import_module(f"{prefix}_linked")
    reloader = umr.UserModuleReloader()
    target.write_text("V = 2\n")  # the edit happens outside the module's directory
    assert reloader.check() == [f"{prefix}_linked"] and module.V == 2


def test_a_new_import_in_the_same_save_orders_the_update(user_dir):
    """Both files saved together; the user module now imports a function the other one just
    gained: the dependency is updated first although it was imported later."""
    prefix, write = user_dir
    write("PFX_user.py", "X = 1\n")
    write("PFX_lib.py", "def old():\n    return 1\n")
    user = importlib.import_module(f"{prefix}_user")
    importlib.import_module(f"{prefix}_lib")
    reloader = umr.UserModuleReloader()
    write("PFX_lib.py", "def old():\n    return 1\ndef new():\n    return 2\n")
    write("PFX_user.py", "from PFX_lib import new\nX = new()\n".replace("PFX", prefix))
    assert reloader.check() == [f"{prefix}_lib", f"{prefix}_user"]
    assert reloader.last_failed == {} and user.X == 2
