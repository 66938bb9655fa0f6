"""Classes keep their identity: the old class object is updated from the new class body.

So ``from m import C``, ``isinstance(obj, C)``, pickling and existing instances keep working
without a heap scan. Methods whose code object is patched keep their function objects (and
their ``__class__`` cell); other attributes are copied, new methods get a ``__class__`` cell
pointing at the old class (``super()`` works), removed ones are deleted. Dataclass-generated
methods come with the new body (they are regenerated when fields change); Enum members are
added. When the class cannot be updated in place (metaclass, bases or ``__slots__`` changed)
the new class replaces it and the old instances are moved over with one heap scan.

Kernel side: standard library only.
"""

from __future__ import annotations

import contextlib
import gc
import types

from .codeindex import with_class_cell

_SKIP = frozenset(["__dict__", "__weakref__", "__module__", "__qualname__"])
# An Enum's member tables; its other bookkeeping (a Flag's masks...) comes from the new class.
_ENUM_MEMBER_TABLES = frozenset(
    ["_member_map_", "_member_names_", "_value2member_map_", "_unhashable_values_"]
)
_MISSING = object()


def _is_enum(cls) -> bool:
    return any(meta.__name__ in ("EnumMeta", "EnumType") for meta in type(cls).__mro__)


def _rehome(value, old_cls, new_cls):
    """A new class attribute, adjusted to live in the old class."""
    if isinstance(value, types.FunctionType):
        return with_class_cell(value, old_cls, new_cls)
    if isinstance(value, (staticmethod, classmethod)):
        func = with_class_cell(value.__func__, old_cls, new_cls)
        return value if func is value.__func__ else type(value)(func)
    if isinstance(value, property):
        funcs = [with_class_cell(f, old_cls, new_cls) for f in (value.fget, value.fset, value.fdel)]
        return property(*funcs, value.__doc__)
    return value


def _functions_of(value) -> list:
    if isinstance(value, types.FunctionType):
        return [value]
    if isinstance(value, (staticmethod, classmethod)):
        return _functions_of(value.__func__)
    if isinstance(value, property):
        return [f for f in (value.fget, value.fset, value.fdel) if f is not None]
    return []


def _patched_in_place(old_value, new_value, pairs: dict) -> bool:
    """The old attribute gets the new code through its code objects: keep the old object."""
    if type(old_value) is not type(new_value):
        return False
    old_funcs, new_funcs = _functions_of(old_value), _functions_of(new_value)
    if not old_funcs or len(old_funcs) != len(new_funcs):
        return False
    return all(
        isinstance(o, types.FunctionType) and pairs.get(o.__code__) is n.__code__
        for o, n in zip(old_funcs, new_funcs)  # noqa: B905 (same length)
    )


def update_class(old, new, pairs: dict, keep: set, classes: dict) -> str | None:
    """Update ``old`` from ``new`` in place; None on success, else why it cannot be.

    ``pairs``: {old code: new code} that will be patched; ``keep``: names bound by class-body
    statements that did not change (their current values are state to keep); ``classes``:
    {new class: old class} of this update, to compare bases.
    """
    if type(old) is not type(new):
        return "its metaclass changed"
    bases = tuple(classes.get(base, base) for base in new.__bases__)
    if bases != old.__bases__:
        return "its base classes changed"
    if old.__dict__.get("__slots__") != new.__dict__.get("__slots__"):
        return "its __slots__ changed"
    enum = _is_enum(old)
    members = set(getattr(new, "_member_map_", ())) if enum else set()
    new_dict, old_dict = dict(new.__dict__), dict(old.__dict__)
    for key, value in new_dict.items():
        if key in _SKIP or key in members:
            continue
        if enum and key in _ENUM_MEMBER_TABLES:
            continue  # the old class's tables keep its members; new ones are added below
        old_value = old_dict.get(key, _MISSING)
        if old_value is not _MISSING and (
            key in keep or _patched_in_place(old_value, value, pairs)
        ):
            continue
        with contextlib.suppress(AttributeError, TypeError):
            type.__setattr__(old, key, _rehome(value, old, new))
    for key in old_dict:
        if key not in new_dict and key not in _SKIP and not (enum and key.startswith("_")):
            if enum and key in getattr(old, "_member_map_", ()):
                continue  # a removed member may still be held by the user: keep it
            with contextlib.suppress(AttributeError, TypeError):
                type.__delattr__(old, key)
    if enum:
        _add_members(old, new)
    update_abstract = getattr(__import__("abc"), "update_abstractmethods", None)
    if update_abstract is not None:  # Python 3.10+
        with contextlib.suppress(Exception):
            update_abstract(old)
    return None


def _add_members(old, new) -> None:
    """Enum members of the new class that the old one lacks become members of the old one."""
    for name, member in new._member_map_.items():
        if name in old._member_map_:
            continue
        with contextlib.suppress(TypeError):
            object.__setattr__(member, "__class__", old)
        old._member_map_[name] = member
        if name not in old._member_names_:
            old._member_names_.append(name)
        with contextlib.suppress(TypeError):  # an unhashable value
            old._value2member_map_.setdefault(member._value_, member)
        type.__setattr__(old, name, member)


def migrate_instances(replaced: dict) -> int:
    """{old class: new class}: instances of the old classes now belong to the new ones (one heap
    scan). Returns how many could not be moved (incompatible layout)."""
    if not replaced:
        return 0
    stuck = 0
    for ref in gc.get_referrers(*replaced):
        new = replaced.get(type(ref))
        if new is not None:
            try:
                object.__setattr__(ref, "__class__", new)
            except TypeError:
                stuck += 1
    return stuck
