"""The UMR in a real ipykernel: edit files in a temp dir, run cells, read what the console shows."""

from __future__ import annotations

import time

import pytest

RED_LINE = "\x1b[91mReloaded modules: "


@pytest.fixture(params=["inotify", "poll"])
def watched_kernel(request, start_umr_kernel):
    """The same behaviour with OS change events and with the stat() fallback."""
    env = {"SKC_UMR_WATCH": "poll"} if request.param == "poll" else {}
    kernel = start_umr_kernel(env=env)
    kernel.run("%load_ext spyder_kernel_connect.umr")
    kernel.write("probe_watch.py", "")
    kernel.run("import probe_watch, spyder_kernel_connect.umr as u")
    mode = kernel.run("s = u.status(); print(s['watching'], 'probe_watch' in s['polled_modules'])")
    if request.param == "inotify" and mode.stdout != "inotify False\n":
        pytest.skip(f"no inotify for {kernel.workdir} here: {mode.stdout.strip()}")
    assert mode.stdout.split()[0] == request.param
    return kernel


def test_edit_then_run_reloads_and_says_so_once(watched_kernel):
    k = watched_kernel
    k.write("greet.py", "def hello():\n    return 'hello v1'\n")
    assert k.run("import greet; print(greet.hello())").stdout == "hello v1\n"

    k.write("greet.py", "def hello():\n    return 'hello version 2'\n")
    result = k.run("print(greet.hello())")
    assert result.stdout.count("Reloaded modules") == 1
    # Only a function body changed: patched in place, and the red line says so.
    assert result.stdout.startswith(RED_LINE + "greet (patched)\x1b[0m\n")
    assert result.stdout.endswith("hello version 2\n")

    unchanged = k.run("print(greet.hello())")
    assert unchanged.stdout == "hello version 2\n"  # nothing changed: no message


def test_same_second_same_size_edit_is_seen(watched_kernel):
    """Two saves sharing mtime and size (coarse timestamps): the content digest decides."""
    k = watched_kernel
    tick = int(time.time()) + 2  # both saves carry the same whole-second mtime
    k.write("same.py", "VALUE = 'aaa'\n", mtime=tick)
    assert k.run("import same; print(same.VALUE)").stdout == "aaa\n"
    k.write("same.py", "VALUE = 'bbb'\n", mtime=tick)
    result = k.run("print(same.VALUE)")
    assert result.reloaded == ["same"]
    assert result.stdout.endswith("bbb\n")


def test_hundred_edit_run_cycles_never_stale(watched_kernel):
    k = watched_kernel
    k.write("counter.py", "def value():\n    return 0\n")
    k.run("from counter import value")
    for i in range(1, 101):
        # Same size every time and no pause: most saves share mtime ticks with the previous one.
        k.write("counter.py", f"def value():\n    return {i:>3}\n")
        result = k.run("print(value())")
        assert result.stdout.endswith(f"{i}\n"), (i, result)
        assert result.reloaded == ["counter"], (i, result)


def test_deleted_module_file_is_dropped_quietly(watched_kernel):
    k = watched_kernel
    path = k.write("doomed.py", "X = 1\n")
    k.run("import doomed")
    path.unlink()
    result = k.run("print(doomed.X)")
    assert result.stdout == "1\n" and result.stderr == "" and not result.errors
    k.write("doomed.py", "X = 2\n")  # back again: watched again
    assert k.run("print(doomed.X)").stdout.endswith("2\n")


def test_from_import_and_existing_instances_run_new_code(umr_kernel):
    k = umr_kernel
    k.write(
        "shapes.py",
        """\
        class Base:
            def describe(self):
                return "base"

        class Square(Base):
            def __init__(self, side):
                self.side = side
            def area(self):
                return self.side ** 2
            def describe(self):
                return "square/" + super().describe()

        def double(x):
            return 2 * x

        import functools
        def logged(func):
            @functools.wraps(func)
            def wrapper(*args):
                return func(*args)
            return wrapper

        @logged
        def triple(x):
            return 3 * x
        """,
    )
    k.run("from shapes import double, triple, Square\nsq = Square(3)\nkeep = double")
    k.write(
        "shapes.py",
        """\
        class Base:
            def describe(self):
                return "BASE"

        class Square(Base):
            def __init__(self, side):
                self.side = side
            def area(self):
                return self.side * 100
            def perimeter(self):
                return 4 * self.side
            def describe(self):
                return "SQUARE/" + super().describe()

        def double(x):
            return 20 * x

        import functools
        def logged(func):
            @functools.wraps(func)
            def wrapper(*args):
                return func(*args)
            return wrapper

        @logged
        def triple(x):
            return 30 * x
        """,
    )
    result = k.run(
        "import shapes\n"
        "print(double(1), keep(1), triple(1), sq.area(), sq.perimeter(), sq.describe(),"
        " isinstance(sq, shapes.Square), keep is double)"
    )
    assert result.reloaded == ["shapes"]
    assert result.stdout.splitlines()[-1] == "20 20 30 300 12 SQUARE/BASE True True"


def test_dependents_are_reloaded_after_their_dependency(umr_kernel):
    k = umr_kernel
    k.write("base_mod.py", "RATE = 1\ndef rate():\n    return RATE\n")
    k.write("middle.py", "from base_mod import RATE, rate\nTOTAL = RATE * 10\n")
    k.write("top.py", "import middle\ndef total():\n    return middle.TOTAL\n")
    k.write("pkg/__init__.py", "")
    k.write("pkg/tool.py", "def name():\n    return 'tool v1'\n")
    k.write("user_of_pkg.py", "from pkg import tool\nNAME = tool.name()\n")
    k.write("unrelated.py", "Z = 0\n")
    k.run("import top, user_of_pkg, unrelated")

    k.write("base_mod.py", "RATE = 7\ndef rate():\n    return RATE\n")
    result = k.run("import middle; print(top.total(), middle.RATE, middle.rate())")
    # Dependencies first; `top` reads middle.TOTAL only when called: nothing of it runs again.
    assert result.reloaded == ["base_mod", "middle"]
    assert result.stdout.endswith("70 7 7\n")

    k.write("pkg/tool.py", "def name():\n    return 'tool v2'\n")
    result = k.run("print(user_of_pkg.NAME)")
    assert result.reloaded == ["pkg.tool", "user_of_pkg"]  # `from pkg import mod` (spyder#20469)
    assert result.stdout.endswith("tool v2\n")


def test_package_and_submodules(umr_kernel):
    k = umr_kernel
    k.write("geo/__init__.py", "from .calc import area\nVERSION = 1\n")
    k.write("geo/calc.py", "def area(r):\n    return 3 * r * r\n")
    k.write("geo/sub/__init__.py", "")
    k.write("geo/sub/deep.py", "def depth():\n    return 1\n")
    k.run("import geo, geo.sub.deep")

    k.write("geo/calc.py", "def area(r):\n    return 314 * r * r // 100\n")
    result = k.run("print(geo.area(10), geo.calc.area(10))")
    assert result.patched == ["geo.calc"]  # geo.area is the same function, patched
    assert result.stdout.endswith("314 314\n")

    k.write("geo/__init__.py", "from .calc import area\nVERSION = 2\n")
    k.write("geo/sub/deep.py", "def depth():\n    return 2\n")
    result = k.run("print(geo.VERSION, geo.sub.deep.depth())")
    assert sorted(result.reloaded) == ["geo", "geo.sub.deep"]
    assert result.stdout.endswith("2 2\n")  # submodule attributes survive the package's reload


def test_syntax_error_keeps_old_module_then_fix_reloads(umr_kernel):
    k = umr_kernel
    k.write("fragile.py", "def f():\n    return 'good'\n")
    k.run("import fragile")
    path = k.write("fragile.py", "def f():\n    return 'new'\n\ndef broken(:\n    pass\n")
    result = k.run("print('user code ran', fragile.f())")
    assert result.stdout.endswith("user code ran good\n")  # old module kept, cell still ran
    assert result.reloaded == [] and not result.errors
    assert "could not reload fragile" in result.stderr
    assert f"{path}, line 4" in result.stderr and "SyntaxError" in result.stderr
    assert "Traceback" not in result.stderr

    again = k.run("print(fragile.f())")
    assert again.stderr == "" and again.stdout == "good\n"  # reported once, not every run

    k.write("fragile.py", "def f():\n    return 'fixed'\n")
    fixed = k.run("print(fragile.f())")
    assert fixed.reloaded == ["fragile"] and fixed.stdout.endswith("fixed\n")


def test_error_while_executing_module_keeps_old_one(umr_kernel):
    k = umr_kernel
    k.write("needs.py", "A = 1\n")
    k.run("import needs")
    path = k.write("needs.py", "A = 2\nimport no_such_module_here\n")
    result = k.run("print(needs.A)")
    assert result.stdout.endswith("1\n")
    assert f"could not reload needs ({path}, line 2): ModuleNotFoundError" in result.stderr


def test_excluded_and_opted_out_modules_are_untouched(umr_kernel):
    k = umr_kernel
    k.write("optout.py", "__umr_exclude__ = True\nV = 1\n")
    k.write("optlib/__init__.py", "__umr_exclude__ = True\n")
    k.write("optlib/part.py", "V = 1\n")
    k.write("mine.py", "V = 1\n")
    k.run("import optout, optlib.part, mine\n%umr exclude mine")
    for name in ("optout.py", "optlib/part.py", "mine.py"):
        k.write(name, "V = 2\n")
    result = k.run("print(optout.V, optlib.part.V, mine.V)")
    assert result.reloaded == [] and result.stdout.endswith("1 1 1\n")

    k.run("%umr include mine")
    k.write("mine.py", "V = 3\n")
    assert k.run("print(mine.V)").stdout.endswith("3\n")


def test_site_packages_and_stdlib_never_reloaded(umr_kernel):
    k = umr_kernel
    site_dir = k.workdir / "venv" / "lib" / "python3" / "site-packages"
    k.write("venv/lib/python3/site-packages/libthing.py", "V = 1\n")
    k.run(f"sys.path.insert(0, {str(site_dir)!r})\nimport libthing, json, IPython")
    k.write("venv/lib/python3/site-packages/libthing.py", "V = 2\n")
    result = k.run("print(libthing.V)")
    assert result.reloaded == [] and result.stdout.endswith("1\n")
    k.run("import spyder_kernel_connect.umr as u")
    status = k.run("print(u.status()['user_modules'])")
    for name in ("libthing", "json", "IPython", "ipykernel", "os", "spyder_kernel_connect"):
        assert f"'{name}'" not in status.stdout


def test_silent_execution_does_not_trigger(umr_kernel):
    k = umr_kernel
    k.write("quiet.py", "V = 'old'\n")
    k.run("import quiet")
    k.write("quiet.py", "V = 'new'\n")
    k.run("seen_by_silent = quiet.V", silent=True)
    result = k.run("print(seen_by_silent, quiet.V)")
    assert result.reloaded == ["quiet"]  # the change was still pending for the real run
    assert result.stdout.endswith("old new\n")


def test_umr_magic_variants(umr_kernel):
    k = umr_kernel
    k.write("m.py", "V = 1\n")
    k.run("import m")
    status = k.run("%umr")
    assert "User Module Reloader: on, verbose on" in status.stdout
    assert "Tracked user modules: 1" in status.stdout

    assert "Reloader: off" in k.run("%umr off").stdout
    k.write("m.py", "V = 2\n")
    assert k.run("print(m.V)").stdout == "1\n"
    k.run("%umr on")
    assert k.run("print(m.V)").stdout.endswith("2\n")  # the edit made while off is picked up

    assert "verbose off" in k.run("%umr verbose off").stdout
    k.write("m.py", "V = 3\n")
    assert k.run("print(m.V)").stdout == "3\n"  # reloaded, silently
    k.run("%umr verbose on")

    excluded = k.run("%umr exclude alpha, beta")
    assert "alpha, beta" in excluded.stdout
    assert "alpha" not in k.run("%umr include alpha").stdout.split("Excluded:")[1].split("\n")[0]

    bad = k.run("%umr sideways")
    assert "Usage: %umr" in bad.stderr and not bad.errors


def test_configure_and_status_programmatically(umr_kernel):
    k = umr_kernel
    k.write("p.py", "V = 1\n")
    result = k.run(
        "import p, spyder_kernel_connect.umr as u\n"
        "s = u.configure(enabled=True, verbose=False, exclude=['p'])\n"
        "print(s['verbose'], 'p' in s['exclude'], 'matplotlib' in s['exclude'],"
        " 'p' in s['user_modules'])"
    )
    assert result.stdout.endswith("False True True False\n")
    result = k.run("print(u.configure(exclude=[])['user_modules'])")
    assert "'p'" in result.stdout  # allowed again: tracked from now on


def test_autoreload_is_switched_off_while_umr_is_on(start_umr_kernel):
    k = start_umr_kernel()
    k.write("ar.py", "V = 1\n")
    k.run("%load_ext autoreload\n%autoreload 2\nimport ar")
    k.run("%load_ext spyder_kernel_connect.umr")
    k.write("ar.py", "V = 2\n")
    result = k.run(
        "ip = get_ipython(); am = ip.magics_manager.registry['AutoreloadMagics']\n"
        "print(ar.V, am._reloader.enabled, am.pre_run_cell in ip.events.callbacks['pre_run_cell'])"
    )
    assert result.reloaded == ["ar"] and result.stdout.endswith("2 False False\n")

    k.run("%autoreload 2")  # re-enabled behind our back (Spyder's autoreload_magic does this)
    k.write("ar.py", "V = 3\n")
    result = k.run("print(ar.V, am._reloader.enabled)")
    assert result.reloaded == ["ar"] and result.stdout.endswith("3 False\n")

    k.run("%umr off")
    restored = k.run(
        "print(am._reloader.enabled, am.pre_run_cell in ip.events.callbacks['pre_run_cell'])"
    )
    assert restored.stdout == "True True\n"


def test_load_twice_registers_once(umr_kernel):
    k = umr_kernel
    k.run("%reload_ext spyder_kernel_connect.umr")
    k.run("import spyder_kernel_connect.umr as u; u.configure(enabled=True)")
    result = k.run(
        "cbs = get_ipython().events.callbacks['pre_run_cell']\n"
        "print(sum(getattr(cb, '__name__', '') == 'pre_run_cell' and "
        "type(getattr(cb, '__self__', None)).__name__ == 'UserModuleReloader' for cb in cbs))"
    )
    assert result.stdout == "1\n"


def test_module_from_the_working_directory_survives_a_chdir(umr_kernel, tmp_path):
    """Issue 11 item 4: imported from the cwd (sys.path's ''), then the cwd moves (Spyder does
    that when another console connects): the module is reloaded from its own file, and an
    error names the user's file and line, never the reloader's."""
    k = umr_kernel
    path = k.write("remotemod.py", "def f():\n    return 'v1'\n")
    k.run(f"sys.path[:] = [p for p in sys.path if p != {str(k.workdir)!r}]")
    k.run("'' in sys.path or sys.path.insert(0, ''); import remotemod")
    assert k.run(f"os.chdir({str(tmp_path)!r}); print(remotemod.f())").stdout == "v1\n"
    k.write("remotemod.py", "def f():\n    return 'v2'\n")
    result = k.run("print(remotemod.f())")
    assert result.stderr == "" and result.stdout.endswith("v2\n"), result

    k.write("remotemod.py", "def f():\n    return 'v3'\nX = 1 / 0\n")
    failed = k.run("print(remotemod.f())")
    assert failed.stdout.endswith("v2\n")
    assert f"could not reload remotemod ({path}, line 3): ZeroDivisionError" in failed.stderr
    assert "umr" not in failed.stderr.replace("remotemod", "")  # no path of the reloader's
