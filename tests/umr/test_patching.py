"""Diff, don't re-execute: each capability of issue 15 in a real kernel (ipykernel and
spyder-kernels with %runfile). The 44 scenarios (test_scenarios.py) cover the rest."""

from __future__ import annotations

import sys
import threading
import time

import pytest

RED_LINE = "\x1b[91mReloaded modules: "


@pytest.fixture(params=["ipykernel", "spyder-kernels"])
def kernel(request, start_umr_kernel):
    """Both kernels, UMR loaded; ``k.runfile(script)`` runs a script the way each one can."""
    if request.param == "spyder-kernels":
        pytest.importorskip("spyder_kernels")
        argv = [sys.executable, "-m", "spyder_kernels.console", "-f", "{connection_file}"]
        k = start_umr_kernel(argv=argv, env={"SPY_UMR_ENABLED": "False"})
        k.runfile = lambda script: k.run(f"%runfile {script}")
    else:
        k = start_umr_kernel()
        k.runfile = lambda script: k.run(f"%run -i {script}")
    assert not k.run("%load_ext spyder_kernel_connect.umr").errors
    return k


def test_unchanged_ast_reloads_nothing_and_fixes_line_numbers(kernel):
    k = kernel
    k.write("lines.py", "STATE = []\ndef boom():\n    raise ValueError('here')\n")
    k.run("import lines; lines.STATE.append(1); f = lines.boom")
    k.write(
        "lines.py",
        "# comment\n\n\nSTATE = []  # same code\ndef boom():\n    raise ValueError('here')\n",
    )
    result = k.run("print(lines.STATE, f is lines.boom, f.__code__.co_firstlineno)")
    assert result.stdout == "[1] True 5\n"  # nothing printed, state kept, lines moved
    error = k.run("lines.boom()")
    assert "lines.py:6" in error.errors[0] or "line 6" in error.errors[0]


def test_body_edit_is_a_patch_and_other_statements_do_not_run(kernel):
    k = kernel
    body = "def f():\n    return {}\n"
    k.write(
        "side.py",
        "import builtins\nbuiltins.RUNS = getattr(builtins, 'RUNS', 0) + 1\n"
        "REGISTRY = {}\n" + body.format(1),
    )
    k.run("import side, builtins; side.REGISTRY['k'] = 1; before = side.f")
    k.write(
        "side.py",
        "import builtins\nbuiltins.RUNS = getattr(builtins, 'RUNS', 0) + 1\n"
        "REGISTRY = {}\n" + body.format(2),
    )
    result = k.run("print(side.f(), builtins.RUNS, side.REGISTRY, before is side.f)")
    assert result.patched == ["side"]
    assert result.stdout.endswith("2 1 {'k': 1} True\n")


def test_top_level_edit_runs_only_that_statement_and_its_readers(kernel):
    k = kernel
    k.write(
        "top.py",
        "import builtins\nbuiltins.TOPRUNS = getattr(builtins, 'TOPRUNS', 0) + 1\n"
        "RATE = 2\nTOTAL = RATE * 10\nCACHE = {}\n",
    )
    k.run("import top, builtins; top.CACHE['x'] = 1")
    k.write(
        "top.py",
        "import builtins\nbuiltins.TOPRUNS = getattr(builtins, 'TOPRUNS', 0) + 1\n"
        "RATE = 3\nTOTAL = RATE * 10\nCACHE = {}\n",
    )
    result = k.run("print(top.TOTAL, builtins.TOPRUNS, top.CACHE)")
    assert result.listed == ["top"]  # statements ran: a reload, not "(patched)"
    assert result.stdout.endswith("30 1 {'x': 1}\n")


def test_deleted_definitions_are_removed(kernel):
    k = kernel
    k.write("gone.py", "def a():\n    return 1\nclass B:\n    pass\nC = 3\n")
    k.run("import gone")
    k.write("gone.py", "def a():\n    return 1\n")
    result = k.run("print([hasattr(gone, n) for n in 'aBC'])")
    assert result.stdout.endswith("[True, False, False]\n")


def test_patch_by_code_object_reaches_every_holder(kernel):
    k = kernel
    src = """\
        import functools
        def make(n):
            def inner(x):
                return x + n * {0}
            return inner
        def plain(func):
            def wrapper(*a):
                return func(*a)
            return wrapper
        @plain
        def wrapped(x):
            return x * {0}
        @functools.lru_cache(maxsize=None)
        def cached(x):
            return x * {0}
        HANDLERS = {{"h": lambda x: x * {0}}}
        def target(x):
            return x * {0}
        """
    k.write("holders.py", src.format(1))
    k.run(
        "import holders, functools\n"
        "add = holders.make(10); p = functools.partial(holders.target, 2)\n"
        "h = holders.HANDLERS['h']; cbs = [holders.target]; holders.cached(3)"
    )
    k.write("holders.py", src.format(100))
    result = k.run("print(add(1), holders.wrapped(1), holders.cached(3), h(1), p(), cbs[0](1))")
    assert result.stdout.endswith("1001 100 300 100 200 100\n"), result


def test_free_variables_changed_falls_back_and_says_so(kernel):
    k = kernel
    k.write(
        "fv.py", "def make():\n    a = 1\n    def inner():\n        return a\n    return inner\n"
    )
    k.run("import fv; old = fv.make()")
    k.write(
        "fv.py",
        "def make():\n    a = 1\n    b = 2\n    def inner():\n        return a + b\n"
        "    return inner\n",
    )
    result = k.run("print(fv.make()(), old())")
    assert result.stdout.endswith("3 1\n")
    assert "closures made before the reload keep their old code" in result.stdout
    assert "make" in result.stdout


def test_full_reload_when_future_imports_change_says_why(kernel):
    k = kernel
    k.write("fut.py", "X = 1\n")
    k.run("import fut")
    k.write("fut.py", "from __future__ import annotations\nX = 2\n")
    result = k.run("print(fut.X)")
    assert result.listed == ["fut"] and result.stdout.endswith("2\n")
    assert "fut: ran again in full, as its __future__ imports changed" in result.stdout


def test_class_identity_kept_and_replaced_class_reported(kernel):
    k = kernel
    k.write(
        "kls.py",
        "class A:\n    pass\nclass B:\n    pass\nclass C(A):\n    def v(self):\n        return 1\n",
    )
    k.run("from kls import C; import kls; c = C()")
    k.write(
        "kls.py",
        "class A:\n    pass\nclass B:\n    pass\nclass C(B):\n    def v(self):\n        return 2\n",
    )
    result = k.run("print(c.v(), type(c) is kls.C, isinstance(c, kls.B))")
    assert result.stdout.endswith("2 True True\n")  # instances moved to the new class
    assert "class C was replaced (its base classes changed)" in result.stdout


def test_thread_hammering_during_100_reloads_sees_no_missing_name(kernel):
    k = kernel
    version = "X = {0}\nhelper = {0}\n{1}def value():\n    return X + helper * 0\n"
    k.write("hammer.py", version.format(0, ""))
    k.run(
        """\
        import threading, hammer
        errors, stop, calls = [], [], [0]
        def hammer_loop():
            while not stop:
                try:
                    hammer.value(); hammer.helper
                    calls[0] += 1
                except Exception as error:
                    errors.append(repr(error))
        worker = threading.Thread(target=hammer_loop, daemon=True)
        worker.start()
        """
    )
    for i in range(1, 101):
        extra = "".join(f"Y{j} = {j}\n" for j in range(i % 7))  # statements come and go
        k.write("hammer.py", version.format(i, extra))
        assert k.run("print(hammer.value())").stdout.endswith(f"{i}\n")
    result = k.run("stop.append(1); worker.join(); print(len(errors), errors[:3], calls[0] > 0)")
    assert result.stdout == "0 [] True\n"


def test_from_import_constant_is_reported_then_rebound_on_request(kernel):
    k = kernel
    k.write("conf.py", "LIMIT = 1\n")
    k.run("from conf import LIMIT")
    k.write("conf.py", "LIMIT = 2\n")
    told = k.run("print(LIMIT)")
    assert told.stdout.endswith("1\n")
    assert "still holds the old value of LIMIT (from conf)" in told.stderr
    assert "%umr rebind on" in told.stderr
    k.run("%umr rebind on")
    assert k.run("print(LIMIT)").stdout == "2\n"  # the name reported before, rebound at once
    k.write("conf.py", "LIMIT = 3\n")
    assert k.run("print(LIMIT)").stdout.endswith("3\n")


def test_live_worker_processes_are_mentioned(kernel):
    k = kernel
    k.write("work.py", "def job():\n    return 1\n")
    k.run(
        "import multiprocessing, time, work\n"
        "proc = multiprocessing.get_context('fork').Process(target=time.sleep, args=(60,))\n"
        "proc.start()"
    )
    k.write("work.py", "def job():\n    return 2\n")
    result = k.run("print(work.job())")
    k.run("proc.terminate(); proc.join()")
    lines = [line for line in result.stderr.splitlines() if "worker process" in line]
    assert lines == [
        "UMR: 1 worker process started before this reload keep running the old code; "
        "start the pool again to use the new one."
    ]


def test_runfile_after_its_folder_left_sys_path(kernel, tmp_path):
    """A module imported by a script from the script's folder; at the next run that folder is
    not on sys.path and the cwd is elsewhere: it is reloaded from its own file."""
    k = kernel
    k.write("proj/helper2.py", "def v():\n    return 'one'\n")
    script = k.write("proj/run_me.py", "import helper2\nprint('helper says', helper2.v())\n")
    k.run(f"sys.path.insert(0, {str(script.parent)!r})")
    assert k.runfile(script).stdout.endswith("helper says one\n")
    k.run(f"sys.path.remove({str(script.parent)!r}); os.chdir({str(tmp_path)!r})")
    k.write("proj/helper2.py", "def v():\n    return 'two'\n")
    result = k.runfile(script)
    assert result.stderr == "" and result.stdout.endswith("helper says two\n"), result


def test_watch_mode_applies_edits_while_a_loop_runs(kernel):
    k = kernel
    k.write("live.py", "def step():\n    return 1\n")
    k.run("import live, time\n%umr watch on")
    assert "watch on" in k.run("%umr").stdout

    def save_later():
        time.sleep(1.5)
        k.write("live.py", "def step():\n    return 2\n")

    saver = threading.Thread(target=save_later)
    saver.start()
    # The loop runs in one cell: only the watcher thread can bring the new code in.
    result = k.run(
        "deadline = time.time() + 30\n"
        "while live.step() == 1 and time.time() < deadline:\n"
        "    time.sleep(0.05)\n"
        "print('seen', live.step())"
    )
    saver.join()
    assert result.stdout.endswith("seen 2\n"), result
    k.run("%umr watch off")
    assert "watch off" in k.run("%umr").stdout


def test_method_body_edit_patches_without_running_the_class_statement(kernel):
    """Only method bodies changed: the class statement does not run again, so a class
    decorator does not register it twice and class attributes keep their values."""
    k = kernel
    src = (
        "SEEN = []\ndef register(cls):\n    SEEN.append(cls)\n    return cls\n\n"
        "@register\nclass Model:\n    runs = 0\n    def predict(self):\n        return {}\n"
    )
    k.write("models.py", src.format(1))
    k.run("import models; m = models.Model(); models.Model.runs = 5")
    k.write("models.py", src.format(2))
    result = k.run(
        "print(m.predict(), len(models.SEEN), models.SEEN[0] is models.Model, models.Model.runs)"
    )
    assert result.patched == ["models"]
    assert result.stdout.endswith("2 1 True 5\n")


def test_enum_flag_member_added_in_place(kernel):
    k = kernel
    k.write("perm.py", "import enum\nclass Perm(enum.Flag):\n    R = 1\n    W = 2\n")
    k.run("from perm import Perm; r = Perm.R")
    k.write("perm.py", "import enum\nclass Perm(enum.Flag):\n    R = 1\n    W = 2\n    X = 4\n")
    result = k.run("print((r | Perm.X).value, [p.name for p in Perm], Perm.R is r)")
    assert result.stdout.endswith("5 ['R', 'W', 'X'] True\n"), result


def test_module_reloaded_by_hand_is_still_patched(kernel):
    k = kernel
    k.write("manual.py", "def f():\n    return 1\n")
    k.run("import importlib, manual")
    k.write("manual.py", "def f():\n    return 2\n")
    k.run("manual.f()")  # our update
    k.run("importlib.reload(manual); g = manual.f")  # new function objects, behind our back
    k.write("manual.py", "def f():\n    return 3\n")
    assert k.run("print(manual.f(), g())").stdout.endswith("3 3\n")


def test_subclass_in_a_dependent_follows_a_replaced_base(kernel):
    k = kernel
    k.write(
        "basea.py",
        "class X: pass\nclass Y: pass\nclass C(X):\n    def v(self):\n        return 1\n",
    )
    k.write(
        "subb.py",
        "from basea import C\nclass D(C):\n    def w(self):\n        return self.v() * 10\n",
    )
    k.run("import basea, subb; d = subb.D()")
    k.write(
        "basea.py",
        "class X: pass\nclass Y: pass\nclass C(Y):\n    def v(self):\n        return 2\n",
    )
    result = k.run("print(d.w(), isinstance(d, basea.Y), type(d) is subb.D)")
    assert result.reloaded == ["basea", "subb"]
    assert result.stdout.endswith("20 True True\n"), result
