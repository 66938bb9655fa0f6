"""In-place update of old objects, so references held elsewhere run the new code.

Kernel side: standard library only.
"""

from __future__ import annotations

import contextlib
import gc
import types

_FUNC_ATTRS = (
    "__code__",
    "__defaults__",
    "__doc__",
    "__closure__",
    "__globals__",
    "__dict__",
    "__kwdefaults__",
    "__annotations__",
    "__type_params__",
)


def update_function(old, new, depth: int = 0) -> None:
    # functools.wraps decorators: the old wrapper's closure holds the old inner function, so
    # give that one the new code too (read before __dict__, which holds __wrapped__, is replaced).
    old_inner, new_inner = getattr(old, "__wrapped__", None), getattr(new, "__wrapped__", None)
    if (
        depth < 8
        and isinstance(old_inner, types.FunctionType)
        and isinstance(new_inner, types.FunctionType)
        and old_inner is not old
        and new_inner is not old_inner
    ):
        update_function(old_inner, new_inner, depth + 1)
    for attr in _FUNC_ATTRS:
        # ValueError: a closure of another size; the old object keeps its old code.
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            setattr(old, attr, getattr(new, attr))


def update_class(old, new, migrated: dict) -> None:
    """Make the old class behave like the new one; its instances are migrated later."""
    if type(old) is not type(new) or any(base.__name__ == "Enum" for base in type(old).__mro__):
        return  # other metaclasses (Enum, ABC registries...) keep their own invariants
    old_dict = old.__dict__
    new_dict = new.__dict__
    for key in list(old_dict):
        if key in ("__dict__", "__weakref__"):
            continue
        if key not in new_dict:
            with contextlib.suppress(AttributeError, TypeError):
                delattr(old, key)
            continue
        old_obj, new_obj = old_dict[key], new_dict[key]
        if old_obj is new_obj or update_generic(old_obj, new_obj, migrated):
            continue
        with contextlib.suppress(AttributeError, TypeError):
            setattr(old, key, new_obj)
    for key in new_dict:
        if key not in old_dict and key not in ("__dict__", "__weakref__"):
            with contextlib.suppress(AttributeError, TypeError):
                setattr(old, key, new_dict[key])
    migrated[old] = new


def update_generic(old, new, migrated: dict) -> bool:
    if isinstance(old, type) and isinstance(new, type):
        update_class(old, new, migrated)
    elif isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType):
        update_function(old, new)
    elif isinstance(old, property) and isinstance(new, property):
        for attr in ("fget", "fset", "fdel"):
            update_generic(getattr(old, attr), getattr(new, attr), migrated)
    elif (isinstance(old, classmethod) and isinstance(new, classmethod)) or (
        isinstance(old, staticmethod) and isinstance(new, staticmethod)
    ):
        update_generic(old.__func__, new.__func__, migrated)
    else:
        return False
    return True


def migrate_instances(migrated: dict) -> None:
    """Point instances of old classes at the new ones, with ONE scan of the heap."""
    if not migrated:
        return
    for ref in gc.get_referrers(*migrated):
        new = migrated.get(type(ref))
        if new is not None:
            # TypeError: incompatible layout (__slots__ changed): it keeps the old class.
            with contextlib.suppress(TypeError):
                object.__setattr__(ref, "__class__", new)
