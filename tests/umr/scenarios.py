"""44 realistic edit-and-run scenarios, each for a fresh real kernel, for any reloader.

A scenario is a list of steps: write a user file, or run a cell and compare the last line it
printed with what a user expects. The same scenarios run against this UMR (tests/umr/
test_scenarios.py) and against its peers (`%autoreload 2`, `%autoreload 3`, jurigged) in
benchmarks/bench_umr.py --scenarios, which reports passed/44 per reloader.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
import uuid
from pathlib import Path

from jupyter_client import KernelManager

# How each reloader is switched on in a fresh kernel ({workdir}: the user's folder).
RELOADERS = {
    "this UMR": "%load_ext spyder_kernel_connect.umr",
    "%autoreload 2": "%load_ext autoreload\n%autoreload 2",
    "%autoreload 3": "%load_ext autoreload\n%autoreload 3",
    "jurigged": "import jurigged\n_w = jurigged.watch({workdir!r}, logger=lambda *a, **k: None)",
}
# Reloaders applying edits from a background thread need a moment after each save.
SETTLE_SECONDS = {"jurigged": 0.8}


class W:
    """Write a user file (dedented); each save moves its mtime forward by at least a second,
    as a human's successive saves do, so mtime-based peers see every edit."""

    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, textwrap.dedent(text)


class R:
    """Run a cell; it passes when it raised nothing and its last printed line is ``expect``."""

    def __init__(self, code: str, expect: str) -> None:
        self.code, self.expect = textwrap.dedent(code), expect


def _s(*steps) -> list:
    return list(steps)


SCENARIOS = {
    "function body": _s(
        W("m1.py", "def f():\n    return 1\n"),
        R("import m1; print(m1.f())", "1"),
        W("m1.py", "def f():\n    return 2\n"),
        R("print(m1.f())", "2"),
    ),
    "from-imported function": _s(
        W("fi.py", "def f():\n    return 'a'\n"),
        R("from fi import f; print(f())", "a"),
        W("fi.py", "def f():\n    return 'b'\n"),
        R("print(f())", "b"),
    ),
    "module constant": _s(
        W("cst.py", "X = 1\n"),
        R("import cst; print(cst.X)", "1"),
        W("cst.py", "X = 2\n"),
        R("print(cst.X)", "2"),
    ),
    "from-imported constant": _s(
        W("fk.py", "X = 1\n"),
        R("from fk import X; print(X)", "1"),
        W("fk.py", "X = 2\n"),
        R("print(X)", "2"),
    ),
    "state kept on a body edit": _s(
        W(
            "st.py",
            "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\ndef size():\n    return len(CACHE)\n",
        ),
        R("import st; st.put('a', 1); st.put('b', 2); print(st.size())", "2"),
        W(
            "st.py",
            "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\n"
            "def size():\n    return len(CACHE) * 10\n",
        ),
        R("print(st.size())", "20"),
    ),
    "global counter kept": _s(
        W("cnt.py", "COUNT = 0\ndef bump():\n    global COUNT\n    COUNT += 1\n    return COUNT\n"),
        R("import cnt; cnt.bump(); cnt.bump(); print(cnt.bump())", "3"),
        W(
            "cnt.py",
            "COUNT = 0\ndef bump():\n    global COUNT\n    COUNT += 10\n    return COUNT\n",
        ),
        R("print(cnt.bump())", "13"),
    ),
    "comment-only edit keeps state": _s(
        W("ce.py", "DATA = []\ndef add(x):\n    DATA.append(x)\n"),
        R("import ce; ce.add(1); print(len(ce.DATA))", "1"),
        W("ce.py", "# a comment moves every line\n\nDATA = []\ndef add(x):\n    DATA.append(x)\n"),
        R("print(len(ce.DATA))", "1"),
    ),
    "import side effect not repeated": _s(
        W(
            "se.py",
            "import builtins\nbuiltins.SIDE = getattr(builtins, 'SIDE', 0) + 1\n"
            "def f():\n    return 1\n",
        ),
        R("import se, builtins; print(builtins.SIDE)", "1"),
        W(
            "se.py",
            "import builtins\nbuiltins.SIDE = getattr(builtins, 'SIDE', 0) + 1\n"
            "def f():\n    return 2\n",
        ),
        R("print(se.f(), builtins.SIDE)", "2 1"),
    ),
    "closure from a factory": _s(
        W("cf.py", "def make_adder(n):\n    def add(x):\n        return x + n\n    return add\n"),
        R("import cf; add5 = cf.make_adder(5); print(add5(1))", "6"),
        W(
            "cf.py",
            "def make_adder(n):\n    def add(x):\n        return x + n + 100\n    return add\n",
        ),
        R("print(add5(1))", "106"),
    ),
    "decorator without wraps": _s(
        W(
            "dn.py",
            "def deco(func):\n    def wrapper(*a):\n        return func(*a)\n    return wrapper\n"
            "\n@deco\ndef g(x):\n    return x + 1\n",
        ),
        R("from dn import g; print(g(1))", "2"),
        W(
            "dn.py",
            "def deco(func):\n    def wrapper(*a):\n        return func(*a)\n    return wrapper\n"
            "\n@deco\ndef g(x):\n    return x + 2\n",
        ),
        R("print(g(1))", "3"),
    ),
    "decorator with functools.wraps": _s(
        W(
            "dw.py",
            "import functools\ndef deco(func):\n    @functools.wraps(func)\n"
            "    def wrapper(*a):\n        return func(*a)\n    return wrapper\n"
            "\n@deco\ndef g(x):\n    return x + 1\n",
        ),
        R("from dw import g; print(g(1))", "2"),
        W(
            "dw.py",
            "import functools\ndef deco(func):\n    @functools.wraps(func)\n"
            "    def wrapper(*a):\n        return func(*a)\n    return wrapper\n"
            "\n@deco\ndef g(x):\n    return x + 5\n",
        ),
        R("print(g(1))", "6"),
    ),
    "lru_cache cleared": _s(
        W(
            "lc.py",
            "import functools\n@functools.lru_cache(maxsize=None)\ndef sq(x):\n    return x * 2\n",
        ),
        R("import lc; print(lc.sq(3))", "6"),
        W(
            "lc.py",
            "import functools\n@functools.lru_cache(maxsize=None)\ndef sq(x):\n    return x * 3\n",
        ),
        R("print(lc.sq(3))", "9"),
    ),
    "functools.partial": _s(
        W("pw.py", "def power(base, exp):\n    return base ** exp\n"),
        R("import functools, pw; sq = functools.partial(pw.power, exp=2); print(sq(3))", "9"),
        W("pw.py", "def power(base, exp):\n    return base ** exp + 1\n"),
        R("print(sq(3))", "10"),
    ),
    "lambda held in a dict": _s(
        W("ld.py", "OPS = {'inc': lambda x: x + 1}\n"),
        R("import ld; inc = ld.OPS['inc']; print(inc(1))", "2"),
        W("ld.py", "OPS = {'inc': lambda x: x + 10}\n"),
        R("print(inc(1), ld.OPS['inc'](1))", "11 11"),
    ),
    "registered callback": _s(
        W("cb.py", "def on_event(x):\n    return 'v1:' + x\n"),
        R("import cb; handlers = [cb.on_event]; print(handlers[0]('e'))", "v1:e"),
        W("cb.py", "def on_event(x):\n    return 'v2:' + x\n"),
        R("print(handlers[0]('e'))", "v2:e"),
    ),
    "method of an existing instance": _s(
        W("gr.py", "class Greeter:\n    def hello(self):\n        return 'hi'\n"),
        R("import gr; obj = gr.Greeter(); print(obj.hello())", "hi"),
        W("gr.py", "class Greeter:\n    def hello(self):\n        return 'hello there'\n"),
        R("print(obj.hello())", "hello there"),
    ),
    "method added to a class": _s(
        W("am.py", "class Box:\n    def a(self):\n        return 1\n"),
        R("import am; box = am.Box(); print(box.a())", "1"),
        W(
            "am.py",
            "class Box:\n    def a(self):\n        return 1\n"
            "    def size(self):\n        return 7\n",
        ),
        R("print(box.size())", "7"),
    ),
    "isinstance with a from-imported class": _s(
        W("iso.py", "class Shape:\n    def area(self):\n        return 1\n"),
        R(
            "from iso import Shape; import iso; s = Shape(); print(isinstance(s, iso.Shape))",
            "True",
        ),
        W("iso.py", "class Shape:\n    def area(self):\n        return 2\n"),
        R("print(isinstance(iso.Shape(), Shape), s.area())", "True 2"),
    ),
    "class attribute state kept": _s(
        W(
            "ca.py",
            "class Registry:\n    items = []\n"
            "    def count(self):\n        return len(self.items)\n",
        ),
        R("import ca; ca.Registry.items.append(1); print(ca.Registry().count())", "1"),
        W(
            "ca.py",
            "class Registry:\n    items = []\n    def count(self):\n"
            "        return len(self.items) * 10\n",
        ),
        R("print(ca.Registry().count())", "10"),
    ),
    "new method calling super()": _s(
        W(
            "sp.py",
            "class Base:\n    def name(self):\n        return 'base'\n"
            "class Child(Base):\n    def name(self):\n        return 'child'\n",
        ),
        R("import sp; c = sp.Child(); print(c.name())", "child"),
        W(
            "sp.py",
            "class Base:\n    def name(self):\n        return 'base'\n"
            "class Child(Base):\n    def name(self):\n        return 'child'\n"
            "    def full(self):\n        return super().name() + '+' + self.name()\n",
        ),
        R("print(c.full())", "base+child"),
    ),
    "property getter": _s(
        W(
            "pe.py",
            "class Temp:\n    def __init__(self):\n        self.c = 10\n"
            "    @property\n    def f(self):\n        return self.c * 2\n",
        ),
        R("import pe; t = pe.Temp(); print(t.f)", "20"),
        W(
            "pe.py",
            "class Temp:\n    def __init__(self):\n        self.c = 10\n"
            "    @property\n    def f(self):\n        return self.c * 9 // 5 + 32\n",
        ),
        R("print(t.f)", "50"),
    ),
    "staticmethod and classmethod": _s(
        W(
            "cs.py",
            "class Util:\n    @staticmethod\n    def s():\n        return 1\n"
            "    @classmethod\n    def c(cls):\n        return 10\n",
        ),
        R("from cs import Util; print(Util.s() + Util.c())", "11"),
        W(
            "cs.py",
            "class Util:\n    @staticmethod\n    def s():\n        return 2\n"
            "    @classmethod\n    def c(cls):\n        return 20\n",
        ),
        R("print(Util.s() + Util.c())", "22"),
    ),
    "dataclass field added": _s(
        W("dc.py", "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n"),
        R("from dc import Point; import dc; p = Point(1); print(p)", "Point(x=1)"),
        W(
            "dc.py",
            "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n"
            "    y: int = 0\n",
        ),
        R("print(Point(1, 2), isinstance(dc.Point(1), Point))", "Point(x=1, y=2) True"),
    ),
    "dataclass method": _s(
        W(
            "dm.py",
            "from dataclasses import dataclass\n@dataclass\nclass Item:\n    price: float\n"
            "    def total(self):\n        return self.price\n",
        ),
        R("import dm; it = dm.Item(2.0); print(it.total())", "2.0"),
        W(
            "dm.py",
            "from dataclasses import dataclass\n@dataclass\nclass Item:\n    price: float\n"
            "    def total(self):\n        return self.price * 2\n",
        ),
        R("print(it.total())", "4.0"),
    ),
    "enum member added": _s(
        W("en.py", "import enum\nclass Color(enum.Enum):\n    RED = 1\n"),
        R("from en import Color; import en; red = Color.RED; print(red.value)", "1"),
        W("en.py", "import enum\nclass Color(enum.Enum):\n    RED = 1\n    GREEN = 2\n"),
        R("print(Color.GREEN.value, en.Color.RED is red, Color is en.Color)", "2 True True"),
    ),
    "enum method": _s(
        W(
            "em.py",
            "import enum\nclass Level(enum.Enum):\n    LOW = 1\n"
            "    def label(self):\n        return 'low'\n",
        ),
        R("import em; lv = em.Level.LOW; print(lv.label())", "low"),
        W(
            "em.py",
            "import enum\nclass Level(enum.Enum):\n    LOW = 1\n"
            "    def label(self):\n        return 'LOW!'\n",
        ),
        R("print(lv.label(), lv is em.Level.LOW)", "LOW! True"),
    ),
    "pickling an old instance": _s(
        W(
            "pk.py",
            "class Rec:\n    def __init__(self, v):\n        self.v = v\n"
            "    def show(self):\n        return self.v\n",
        ),
        R("import pk, pickle; r = pk.Rec(3); print(r.show())", "3"),
        W(
            "pk.py",
            "class Rec:\n    def __init__(self, v):\n        self.v = v\n"
            "    def show(self):\n        return self.v * 2\n",
        ),
        R("print(pickle.loads(pickle.dumps(r)).show())", "6"),
    ),
    "function removed": _s(
        W("rf.py", "def keep():\n    return 1\ndef drop():\n    return 2\n"),
        R("import rf; print(rf.drop())", "2"),
        W("rf.py", "def keep():\n    return 1\n"),
        R("print(hasattr(rf, 'drop'), rf.keep())", "False 1"),
    ),
    "function renamed": _s(
        W("rn.py", "def old_name():\n    return 1\n"),
        R("import rn; print(rn.old_name())", "1"),
        W("rn.py", "def new_name():\n    return 1\n"),
        R("print(rn.new_name(), hasattr(rn, 'old_name'))", "1 False"),
    ),
    "syntax error, then fixed": _s(
        W("sx.py", "def f():\n    return 1\n"),
        R("import sx; print(sx.f())", "1"),
        W("sx.py", "def f(:\n    return 2\n"),
        R("print('ran', sx.f())", "ran 1"),
        W("sx.py", "def f():\n    return 3\n"),
        R("print(sx.f())", "3"),
    ),
    "error while running the module, then fixed": _s(
        W("rt.py", "def f():\n    return 1\n"),
        R("import rt; print(rt.f())", "1"),
        W("rt.py", "def f():\n    return 2\nraise ValueError('boom')\n"),
        R("print('ran')", "ran"),
        W("rt.py", "def f():\n    return 3\n"),
        R("print(rt.f())", "3"),
    ),
    "dependent constant": _s(
        W("dca.py", "RATE = 2\n"),
        W("dcb.py", "from dca import RATE\nTOTAL = RATE * 10\n"),
        R("import dcb; print(dcb.TOTAL)", "20"),
        W("dca.py", "RATE = 3\n"),
        R("print(dcb.TOTAL)", "30"),
    ),
    "dependent calls at import time": _s(
        W("dfa.py", "def base():\n    return 1\n"),
        W("dfb.py", "from dfa import base\nVALUE = base() + 100\n"),
        R("import dfb; print(dfb.VALUE)", "101"),
        W("dfa.py", "def base():\n    return 5\n"),
        R("print(dfb.VALUE)", "105"),
    ),
    "package re-exporting a submodule": _s(
        W("pkgx/__init__.py", "from .calc import area\n"),
        W("pkgx/calc.py", "def area(r):\n    return 3 * r * r\n"),
        R("import pkgx; print(pkgx.area(2))", "12"),
        W("pkgx/calc.py", "def area(r):\n    return 4 * r * r\n"),
        R("print(pkgx.area(2))", "16"),
    ),
    "star import in a dependent": _s(
        W("sa.py", "X = 1\n"),
        W("sb.py", "from sa import *\nY = X + 1\n"),
        R("import sb; print(sb.Y)", "2"),
        W("sa.py", "X = 5\n"),
        R("print(sb.Y)", "6"),
    ),
    "thread calling in during reloads": _s(
        W("th.py", "X = 0\ndef value():\n    return X\n"),
        R(
            """\
            import threading, th
            errors, stop = [], []
            def hammer():
                while not stop:
                    try:
                        th.value(); th.helper_0
                    except Exception as error:
                        errors.append(repr(error))
            th.helper_0 = None
            worker = threading.Thread(target=hammer, daemon=True); worker.start()
            print('started')
            """,
            "started",
        ),
        *[
            step
            for i in range(1, 6)
            for step in (
                W(
                    "th.py",
                    f"X = {i}\nhelper_0 = {i}\n"
                    + "".join(f"Y{j} = {j}\n" for j in range(i))
                    + "def value():\n    return X\n",
                ),
                R("print(th.value())", str(i)),
            )
        ],
        R("stop.append(1); worker.join(); print(len(errors), errors[:1])", "0 []"),
    ),
    "working directory changed": _s(
        W("sub/cwdmod.py", "def f():\n    return 1\n"),
        R(
            "import os, sys; home = os.getcwd(); os.chdir('sub'); sys.path.insert(0, os.getcwd())\n"
            "import cwdmod; print(cwdmod.f())",
            "1",
        ),
        R("sys.path.remove(os.getcwd()); os.chdir(home); print('moved')", "moved"),
        W("sub/cwdmod.py", "def f():\n    return 2\n"),
        R("print(cwdmod.f())", "2"),
    ),
    "%runfile of a script importing from its folder": _s(
        W("proj/helper.py", "V = 'one'\ndef v():\n    return V\n"),
        W("proj/main_script.py", "import helper\nprint('helper says', helper.v())\n"),
        R("%runfile {workdir}/proj/main_script.py --wdir", "helper says one"),
        W("proj/helper.py", "V = 'two'\ndef v():\n    return V\n"),
        R("%runfile {workdir}/proj/main_script.py --wdir", "helper says two"),
    ),
    "constant used by a function": _s(
        W("gu.py", "SCALE = 2\ndef f(x):\n    return x * SCALE\n"),
        R("from gu import f; print(f(1))", "2"),
        W("gu.py", "SCALE = 3\ndef f(x):\n    return x * SCALE\n"),
        R("print(f(1))", "3"),
    ),
    "default argument changed": _s(
        W("da.py", "def greet(name='world'):\n    return 'hello ' + name\n"),
        R("from da import greet; print(greet())", "hello world"),
        W("da.py", "def greet(name='there'):\n    return 'hello ' + name\n"),
        R("print(greet())", "hello there"),
    ),
    "closure's free variables changed": _s(
        W(
            "fv.py",
            "def make():\n    a = 1\n    def inner():\n        return a\n    return inner\n",
        ),
        R("import fv; print(fv.make()())", "1"),
        W(
            "fv.py",
            "def make():\n    a = 1\n    b = 10\n    def inner():\n        return a + b\n"
            "    return inner\n",
        ),
        R("print(fv.make()())", "11"),
    ),
    "registry filled by a decorator": _s(
        W(
            "rd.py",
            "REGISTRY = {}\ndef register(func):\n    REGISTRY[func.__name__] = func\n"
            "    return func\n\n@register\ndef task():\n    return 't1'\n",
        ),
        R("import rd; print(len(rd.REGISTRY), rd.REGISTRY['task']())", "1 t1"),
        W(
            "rd.py",
            "REGISTRY = {}\ndef register(func):\n    REGISTRY[func.__name__] = func\n"
            "    return func\n\n@register\ndef task():\n    return 't2'\n",
        ),
        R("print(len(rd.REGISTRY), rd.REGISTRY['task']())", "1 t2"),
    ),
    "async function": _s(
        W("af.py", "async def fetch():\n    return 1\n"),
        R("import af; print(await af.fetch())", "1"),
        W("af.py", "async def fetch():\n    return 2\n"),
        R("print(await af.fetch())", "2"),
    ),
    "three quick same-size saves": _s(
        W("qk.py", "V = 'a1'\n"),
        R("import qk; print(qk.V)", "a1"),
        W("qk.py", "V = 'a2'\n"),
        R("print(qk.V)", "a2"),
        W("qk.py", "V = 'a3'\n"),
        R("print(qk.V)", "a3"),
        W("qk.py", "V = 'a4'\n"),
        R("print(qk.V)", "a4"),
    ),
}
assert len(SCENARIOS) == 44, len(SCENARIOS)


KERNELS = {"spyder-kernels": "spyder_kernels.console", "ipykernel": "ipykernel_launcher"}


def start_kernel(workdir: Path, runtime_dir: Path, kind: str = "spyder-kernels") -> object:
    """A kernel (spyder-kernels: %runfile exists, Spyder's own UMR off) with cwd = workdir."""
    from tests.umr.conftest import Kernel  # the same client the tests use

    connection_file = str(runtime_dir / f"kernel-{uuid.uuid4().hex[:12]}.json")
    km = KernelManager(connection_file=connection_file, kernel_name="python3")
    km.kernel_spec.argv[:] = [sys.executable, "-m", KERNELS[kind], "-f", "{connection_file}"]
    env = dict(os.environ, SPY_UMR_ENABLED="False", PYTHONDONTWRITEBYTECODE="")
    env.pop("PYTHONDONTWRITEBYTECODE")
    km.start_kernel(env=env, cwd=str(workdir))
    kernel = Kernel(km, workdir)
    kernel.run(f"import sys, os; sys.path.insert(0, {str(workdir)!r})")
    return kernel


def run_scenario(
    steps: list, reloader: str, workdir: Path, runtime_dir: Path, kind: str = "spyder-kernels"
) -> tuple:
    """(passed, what failed) for one scenario in a fresh kernel."""
    kernel = start_kernel(workdir, runtime_dir, kind)
    mtimes: dict = {}
    try:
        setup = kernel.run(RELOADERS[reloader].format(workdir=str(workdir)))
        if setup.errors:
            return False, f"setup failed: {setup.errors[0][-300:]}"
        for number, step in enumerate(steps):
            if isinstance(step, W):
                path = workdir / step.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(step.text)
                mtime = max(time.time(), mtimes.get(path, 0) + 1)
                os.utime(path, (mtime, mtime))
                mtimes[path] = mtime
                time.sleep(SETTLE_SECONDS.get(reloader, 0))
                continue
            result = kernel.run(step.code.replace("{workdir}", str(workdir)), timeout=60)
            lines = result.stdout.strip().splitlines()
            last = lines[-1] if lines else ""
            if result.errors or last != step.expect:
                error = result.errors[0].splitlines()[-1] if result.errors else ""
                return False, f"step {number}: expected {step.expect!r}, got {last!r} {error}"
        return True, ""
    finally:
        kernel.close()
