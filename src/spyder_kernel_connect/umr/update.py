"""Bring one loaded module up to date with its file: diff, patch, run only what changed.

The module is never re-imported and its namespace never cleared: changed top-level statements
run again in the live namespace (another thread sees the old or the new value of each name,
never a missing one), function bodies are patched through their code objects, classes are
updated in place, and names only a removed statement bound are deleted. A statement that reads
a name whose value changed runs again too, so ``TOTAL = RATE * 10`` follows ``RATE``. When the
diff cannot be applied safely, every statement runs again (a full reload, same namespace).

The source is read from the module's own file: no import system, no sys.path search.

Kernel side: standard library only.
"""

from __future__ import annotations

import ast
import types

from . import diffing
from .classpatch import migrate_instances, update_class
from .codeindex import (
    TRANSIENT,
    clear_caches,
    code_tree,
    compatible,
    live_index,
    made_once,
    patch_functions,
)
from .diffing import BODY, CLASS, RUN, UNCHANGED

MISSING = object()  # "no such name" when comparing namespaces

UNCHANGED_KIND, PATCHED, RELOADED = "unchanged", "patched", "reloaded"


class Outcome:
    """What updating one module did."""

    __slots__ = ("changed", "codes", "kind", "notes", "patched", "ran", "reason", "touched")

    def __init__(self) -> None:
        self.kind = UNCHANGED_KIND  # nothing visible changed (line numbers at most)
        self.changed: dict = {}  # name -> (old value or MISSING, new value or MISSING)
        self.codes = None  # {path: code object} the module's functions run now
        self.notes: list = []  # what could not be reached, for the user
        self.reason = None  # why everything ran again (full reload), if it did
        self.ran = 0  # statements executed
        self.patched = 0  # functions given new code
        self.touched: set = set()  # ids of objects whose code changed in place (defs, classes)


def _compile(entry, path: str, flags: int):
    module = ast.Module(body=[entry.node], type_ignores=[])
    return compile(module, path, "exec", flags, dont_inherit=True)


def _class_state(old_entry, new_entry) -> set:
    """Names bound by class-body statements (not defs) present unchanged in both versions:
    their current values are state (counters, registries) to keep."""
    old_dumps = {ast.dump(n) for n in old_entry.node.body}
    keep = set()
    for node in new_entry.node.body:
        definition = isinstance(node, (*diffing.FUNCTION_DEFS, ast.ClassDef))
        if not definition and ast.dump(node) in old_dumps:
            keep |= diffing.bound_names(node)
    return keep


def _keep_function(old, new, node, pairs: dict) -> bool:
    """A plain function whose signature changed: give the old object the new defaults (its
    code is patched with the others) so every reference to it, not only the module's, is new."""
    if node.decorator_list or not isinstance(old, types.FunctionType):
        return False
    if not isinstance(new, types.FunctionType) or pairs.get(old.__code__) is not new.__code__:
        return False
    old.__defaults__, old.__kwdefaults__ = new.__defaults__, new.__kwdefaults__
    old.__annotations__, old.__doc__ = new.__annotations__, new.__doc__
    return True


def update_module(module, path: str, old_source, new_source, codes, upstream: dict, full=None):
    """Apply the edit from ``old_source`` to ``new_source`` to the live ``module``.

    ``codes``: {path: code} from the last update, None if unknown (normal import).
    ``upstream``: {module name: (names whose value changed, ids of objects whose code changed)}
    of the modules updated before this one.
    ``full``: a reason to run every statement again. Raises what the new code raises (the
    namespace is then restored); SyntaxError before anything ran.
    """
    outcome = Outcome()
    new_tree = ast.parse(new_source, path)
    try:
        old_tree = ast.parse(old_source, path)
    except (SyntaxError, ValueError):
        old_tree, full = ast.Module(body=[], type_ignores=[]), "its previous source is unknown"
    flags = diffing.future_flags(new_tree)
    old_flags = diffing.future_flags(old_tree)
    if old_flags != flags:
        full = "its __future__ imports changed"
    old_entries = diffing.entries(old_tree, old_source.splitlines())
    new_entries = diffing.entries(new_tree, new_source.splitlines())
    removed = diffing.plan(old_entries, new_entries)
    if full:
        outcome.reason = full
        for entry in new_entries:
            entry.action = CLASS if entry.key[0] == "class" and entry.old else RUN

    def old_codes() -> dict:
        nonlocal codes
        if codes is None:
            compiled = {}
            for entry in old_entries:
                compiled.update(code_tree(_compile(entry, path, old_flags), (entry.key,)))
            codes = live_index(module, path, compiled)
        return codes

    compiled, pairs, refused, once = {}, {}, [], set()
    for entry in new_entries:
        if entry.action == UNCHANGED and entry.text == entry.old.text:
            continue  # same text at the same line: its code objects are still right
        compiled[entry.key] = code = _compile(entry, path, flags)
        if entry.old is None:
            continue
        found = {}
        tree = code_tree(code, (entry.key,))
        for sub_path, new_code in tree.items():
            if len(sub_path) < 2 or new_code.co_name in TRANSIENT:
                continue
            old_code = old_codes().get((entry.old.key, *sub_path[1:]))
            if old_code is not None and old_code is not new_code:
                found[old_code] = new_code
                if made_once(sub_path, tree):
                    once.add(old_code)
        if all(compatible(o, n) for o, n in found.items()):
            pairs.update(found)
        elif entry.action == BODY:
            entry.action = RUN  # a closure's free variables changed: define it again
            refused.append(entry.node.name)
        else:
            pairs.update((o, n) for o, n in found.items() if compatible(o, n))
            refused.append(getattr(entry.node, "name", f"line {entry.node.lineno}"))

    namespace = module.__dict__
    snapshot = dict(namespace)
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    # Names whose value changed: a statement reading one runs again. Names whose code changed
    # in place (patched functions, updated classes): a statement calling one runs again.
    hot = {name for name, (changed, touched) in upstream.items() if changed or touched}
    rebound = {name for name, (changed, _touched) in upstream.items() if changed}
    touched_ids = set().union(*(touched for _changed, touched in upstream.values()))
    dirty, called = set(), set()
    for name, value in snapshot.items():
        if isinstance(value, types.ModuleType) and value.__name__ in hot:
            (dirty if upstream[value.__name__][0] else called).add(name)
        elif id(value) in touched_ids:
            called.add(name)
    called |= {e.node.name for e in new_entries if e.action in (BODY, CLASS)}
    replaced, new_classes = {}, {}
    try:
        for entry in new_entries:
            action = entry.action
            if action in (UNCHANGED, BODY):
                stale = (
                    diffing.read_names(entry.node) & dirty
                    or diffing.called_names(entry.node) & called
                    or (rebound and diffing.imports_from(entry.node, package) & rebound)
                )
                if not stale:
                    continue
            code = compiled.get(entry.key)
            if code is None:
                code = compiled[entry.key] = _compile(entry, path, flags)
            names = diffing.bound_names(entry.node)
            star = "*" in names
            before = dict(namespace) if star else {n: namespace.get(n, MISSING) for n in names}
            exec(code, namespace)
            outcome.ran += 1
            if action == RUN and entry.key[0] == "def" and entry.old is not None:
                name = entry.node.name
                if _keep_function(before.get(name), namespace.get(name), entry.node, pairs):
                    namespace[name] = before[name]  # new defaults, same function object
                    called.add(name)
            if action == CLASS and entry.old is not None:
                name = entry.node.name
                old_cls, new_cls = before.get(name), namespace.get(name)
                if isinstance(old_cls, type) and isinstance(new_cls, type):
                    keep = set() if full else _class_state(entry.old, entry)
                    why = update_class(old_cls, new_cls, pairs, keep, new_classes)
                    if why is None:
                        namespace[name] = old_cls  # the old class, updated, lives on
                        new_classes[new_cls] = old_cls
                        outcome.ran -= 1  # a class updated in place is a patch
                    else:
                        replaced[old_cls] = new_cls
                        outcome.notes.append(f"class {name} was replaced ({why})")
            for name in namespace.keys() if star else names:
                if namespace.get(name, MISSING) is not before.get(name, MISSING):
                    dirty.add(name)
        still_bound = set().union(*(diffing.bound_names(e.node) for e in new_entries))
        for entry in removed:
            for name in diffing.bound_names(entry.node) - still_bound:
                if name in namespace and namespace[name] is snapshot.get(name):
                    del namespace[name]
                    dirty.add(name)
    except BaseException:
        for name in list(namespace):
            if name not in snapshot:
                del namespace[name]
        namespace.update(snapshot)
        raise

    patched = patch_functions(pairs, once, module)
    outcome.patched = len(patched)
    outcome.touched = {id(namespace.get(name)) for name in called if name in namespace}
    clear_caches(module, patched)
    if replaced and migrate_instances(replaced):
        outcome.notes.append("some instances of a replaced class keep the old class")
    if refused:
        outcome.notes.append(
            "closures made before the reload keep their old code (their free variables "
            "changed): " + ", ".join(refused)
        )
    outcome.changed = {
        name: (snapshot.get(name, MISSING), namespace.get(name, MISSING))
        for name in dirty
        if namespace.get(name, MISSING) is not snapshot.get(name, MISSING)
    }
    if outcome.ran or outcome.changed:
        outcome.kind = RELOADED
    elif any(e.action in (BODY, CLASS) for e in new_entries) or removed:
        outcome.kind = PATCHED
    outcome.codes = _current_codes(new_entries, compiled, codes)
    return outcome


def _current_codes(new_entries: list, compiled: dict, codes):
    """{path: code} the module's functions run now (None: unknown, built on the next edit)."""
    result, by_statement = {}, {}
    for sub_path, old_code in (codes or {}).items():
        by_statement.setdefault(sub_path[0], []).append((sub_path[1:], old_code))
    for entry in new_entries:
        code = compiled.get(entry.key)
        if code is not None:
            result.update(code_tree(code, (entry.key,)))
        elif codes is None:
            return None
        else:
            for rest, old_code in by_statement.get(entry.old.key, ()):
                result[(entry.key, *rest)] = old_code
    return result
