"""Code objects of a module by position, and patching every function that runs an old one.

A function is found through its code object, not its name: closures made by factories, the
inner function behind a decorator without ``functools.wraps``, partials, callbacks and lambdas
in containers all share the code object compiled from the same place in the source. Nested
code objects are matched by position (name and rank among the siblings of that name).

Kernel side: standard library only.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import types

CodeType = types.CodeType


def code_tree(code: CodeType, root: tuple) -> dict:
    """{path: code} for ``code`` (at ``root``) and every code object nested in it."""
    found = {root: code}
    seen: dict = {}
    for const in code.co_consts:
        if isinstance(const, CodeType):
            rank = seen[const.co_name] = seen.get(const.co_name, -1) + 1
            found.update(code_tree(const, (*root, (const.co_name, rank))))
    return found


def _same_file(code: CodeType, path: str) -> bool:
    filename = code.co_filename
    return filename == path or os.path.normcase(os.path.abspath(filename)) == path


def live_functions(module, limit: int = 20000) -> list:
    """Functions reachable from a module's namespace: its functions, classes' methods, the
    inner functions of decorators (``__wrapped__`` or closure cells), partials, bound methods,
    and functions held in top-level containers."""
    name = module.__name__
    found, seen = [], set()
    stack = list(module.__dict__.values())
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            found.append(obj)
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # an empty cell
                    contents = cell.cell_contents
                    if callable(contents):
                        stack.append(contents)
            stack.extend(obj.__dict__.values())  # __wrapped__ and attached helpers
        elif isinstance(obj, type):
            if getattr(obj, "__module__", None) == name:
                stack.extend(obj.__dict__.values())
        elif isinstance(obj, (staticmethod, classmethod, types.MethodType)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack.extend(f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        elif isinstance(obj, functools.partial):
            stack.append(obj.func)
        elif isinstance(obj, (list, tuple, set, frozenset)) and len(obj) < 1000:
            stack.extend(item for item in obj if callable(item))
        elif isinstance(obj, dict) and len(obj) < 1000:
            stack.extend(item for item in obj.values() if callable(item))
        else:
            wrapped = getattr(obj, "__wrapped__", None) if callable(obj) else None
            if wrapped is not None:  # lru_cache, cached_property, other C wrappers
                stack.append(wrapped)
            func = getattr(obj, "func", None)
            if isinstance(func, types.FunctionType):
                stack.append(func)  # cached_property, singledispatchmethod
    return found


def live_index(module, path: str, compiled: dict) -> dict:
    """{path: live code object} for a module loaded by a normal import.

    ``compiled`` is {path: code} compiled from the source the module was loaded from; the live
    code objects (the ones its functions actually run) are matched to it by name and first
    line, and their nested code objects by position.
    """
    by_place = {}
    for key, code in compiled.items():
        by_place.setdefault((code.co_name, code.co_firstlineno), key)
    index: dict = {}
    for func in live_functions(module):
        code = func.__code__
        if not _same_file(code, path):
            continue
        key = by_place.get((code.co_name, code.co_firstlineno))
        if key is None or key in index:
            continue
        for sub_key, sub_code in code_tree(code, key).items():
            index.setdefault(sub_key, sub_code)
    return index


def compatible(old: CodeType, new: CodeType) -> bool:
    """A function running ``old`` may run ``new``: same free variables (its closure cells)."""
    return old.co_freevars == new.co_freevars


# Code objects of comprehensions: their functions live only while the comprehension runs.
TRANSIENT = frozenset(["<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"])
_CO_OPTIMIZED = 0x1  # set on function code objects, not on module or class bodies


def made_once(path: tuple, tree: dict) -> bool:
    """True if the function of the code at ``path`` is made once, when its statement runs
    (a def at top level or in a class body), not each time an enclosing function runs."""
    return not any(tree[path[:i]].co_flags & _CO_OPTIMIZED for i in range(2, len(path)))


def patch_functions(pairs: dict, made_once_codes: set, module) -> list:
    """Give every function running an old code object the new one; returns those functions.

    ``pairs``: {old code: new code}, all compatible. Functions made once by a definition are
    found from the module's namespace; closures made at run time (and definitions hidden
    from the namespace) by one scan of the heap for all of them.
    """
    if not pairs:
        return []
    patched, pending = [], dict(pairs)
    if made_once_codes:
        found = set()
        for func in live_functions(module):
            old = func.__code__
            if old in made_once_codes and old in pairs:
                func.__code__ = pairs[old]
                patched.append(func)
                found.add(old)
        for old in found:
            del pending[old]
    if pending:
        for ref in gc.get_referrers(*pending):
            if isinstance(ref, types.FunctionType):
                new = pending.get(ref.__code__)
                if new is not None:
                    ref.__code__ = new
                    patched.append(ref)
    return patched


def clear_caches(module, patched: list) -> int:
    """Clear the ``lru_cache``/``cache`` of wrappers around patched functions: their cached
    results came from the old code. Returns how many caches were cleared."""
    if not patched:
        return 0
    targets = {id(f) for f in patched}
    cleared = 0
    for obj in _namespace_objects(module):
        wrapped = getattr(obj, "__wrapped__", None)
        if id(wrapped) in targets and hasattr(obj, "cache_clear"):
            with contextlib.suppress(Exception):
                obj.cache_clear()
                cleared += 1
    return cleared


def _namespace_objects(module):
    name = module.__name__
    for obj in list(module.__dict__.values()):
        yield obj
        if isinstance(obj, type) and getattr(obj, "__module__", None) == name:
            for member in list(obj.__dict__.values()):
                yield getattr(member, "__func__", member)


def with_class_cell(func, old_cls, new_cls):
    """``func`` from the new class body, with its ``__class__`` cell (``super()``) pointing at
    the old class that lives on; returns ``func`` itself when it has no such cell."""
    if not isinstance(func, types.FunctionType) or "__class__" not in func.__code__.co_freevars:
        return func
    cells = []
    for var, cell in zip(func.__code__.co_freevars, func.__closure__):  # noqa: B905
        if var == "__class__" and cell.cell_contents is new_cls:
            cell = types.CellType(old_cls)
        cells.append(cell)
    clone = types.FunctionType(
        func.__code__, func.__globals__, func.__name__, func.__defaults__, tuple(cells)
    )
    clone.__kwdefaults__ = func.__kwdefaults__
    clone.__dict__.update(func.__dict__)
    clone.__qualname__ = func.__qualname__
    clone.__doc__ = func.__doc__
    with contextlib.suppress(AttributeError, TypeError):
        clone.__annotations__ = func.__annotations__
    return clone
