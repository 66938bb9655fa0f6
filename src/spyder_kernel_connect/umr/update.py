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
    return _ModuleUpdate(module, path, codes, upstream).apply(old_source, new_source, full)


class _ModuleUpdate:
    """One update of one module: match code objects, run what is stale, patch, report."""

    def __init__(self, module, path: str, codes, upstream: dict) -> None:
        self.module = module
        self.path = path
        self.codes = codes
        self.upstream = upstream
        self.outcome = Outcome()
        self.compiled: dict = {}  # statement key -> its new code object
        self.pairs: dict = {}  # old code -> new code, for every function to patch
        self.once: set = set()  # old codes whose functions a definition made (not closures)
        self.refused: list = []  # definitions whose closures cannot be patched
        self.dirty: set = set()  # names whose value changed: readers run again
        self.called: set = set()  # names whose code changed in place: callers run again
        self.verified = False  # the code index was checked against the live module

    def apply(self, old_source, new_source, full):
        path = self.path
        new_tree = ast.parse(new_source, path)
        try:
            old_tree = ast.parse(old_source, path)
        except (SyntaxError, ValueError):
            old_tree, full = ast.Module(body=[], type_ignores=[]), "its previous source is unknown"
        self.flags = flags = diffing.future_flags(new_tree)
        self.old_flags = diffing.future_flags(old_tree)
        if self.old_flags != flags:
            full = "its __future__ imports changed"
        self.old_entries = diffing.entries(old_tree, old_source.splitlines())
        new_entries = diffing.entries(new_tree, new_source.splitlines())
        removed = diffing.plan(self.old_entries, new_entries)
        if full:
            self.outcome.reason = full
            for entry in new_entries:
                entry.action = CLASS if entry.key[0] == "class" and entry.old else RUN
        for entry in new_entries:
            self._match_codes(entry)
        self._seed_stale(new_entries)
        namespace = self.module.__dict__
        snapshot = dict(namespace)
        try:
            replaced = self._run(new_entries, new_tree, bool(full))
            still_bound = set().union(*(diffing.bound_names(e.node) for e in new_entries))
            for entry in removed:
                for name in diffing.bound_names(entry.node) - still_bound:
                    if name in namespace and namespace[name] is snapshot.get(name):
                        del namespace[name]
                        self.dirty.add(name)
        except BaseException:
            for name in list(namespace):
                if name not in snapshot:
                    del namespace[name]
            namespace.update(snapshot)
            raise
        self._finish(snapshot, replaced)
        outcome = self.outcome
        if outcome.ran or outcome.changed:
            outcome.kind = RELOADED
        elif any(e.action in (BODY, CLASS) for e in new_entries) or removed:
            outcome.kind = PATCHED
        outcome.codes = _current_codes(new_entries, self.compiled, self.codes)
        return outcome

    def _old_codes(self) -> dict:
        if not self.verified:
            self.verified = True
            if self.codes is not None and not self._codes_current():
                self.codes = None  # re-executed behind our back (importlib.reload, say)
        if self.codes is None:
            compiled = {}
            for entry in self.old_entries:
                code = _compile(entry, self.path, self.old_flags)
                compiled.update(code_tree(code, (entry.key,)))
            self.codes = live_index(self.module, self.path, compiled)
        return self.codes

    def _codes_current(self) -> bool:
        """The module's top-level functions run code objects this index knows."""
        known = {id(code) for code in self.codes.values()}
        return all(
            id(value.__code__) in known
            for value in list(self.module.__dict__.values())
            if isinstance(value, types.FunctionType) and value.__code__.co_filename == self.path
        )

    def _match_codes(self, entry) -> None:
        """Compile a changed or moved statement; pair its functions' code objects with the
        old ones by position. A definition whose closures cannot take the new code (their
        free variables changed) is defined again instead."""
        if entry.action == UNCHANGED and entry.text == entry.old.text:
            return  # same text at the same line: its code objects are still right
        self.compiled[entry.key] = code = _compile(entry, self.path, self.flags)
        if entry.old is None:
            return
        found = {}
        tree = code_tree(code, (entry.key,))
        for sub_path, new_code in tree.items():
            if len(sub_path) < 2 or new_code.co_name in TRANSIENT:
                continue
            old_code = self._old_codes().get((entry.old.key, *sub_path[1:]))
            if old_code is not None and old_code is not new_code:
                found[old_code] = new_code
                if made_once(sub_path, tree):
                    self.once.add(old_code)
        usable = {o: n for o, n in found.items() if compatible(o, n)}
        self.pairs.update(usable)
        if len(usable) == len(found):
            return
        if entry.action == BODY and entry.key[0] == "def":
            entry.action = RUN  # a closure's free variables changed: define it again
            self.refused.append(entry.node.name)
        elif entry.action == BODY:
            entry.action = CLASS  # a method now uses super(), say: update the class
        elif entry.key[0] != "class":  # (a class replaces the methods it cannot patch)
            self.refused.append(getattr(entry.node, "name", f"line {entry.node.lineno}"))

    def _seed_stale(self, new_entries: list) -> None:
        """What changed upstream (modules this one imports from, updated just before)."""
        upstream = self.upstream
        self.hot = {n for n, (changed, touched) in upstream.items() if changed or touched}
        self.rebound = {n for n, (changed, _touched) in upstream.items() if changed}
        touched_ids = set().union(*(touched for _changed, touched in upstream.values()))
        for name, value in self.module.__dict__.items():
            if isinstance(value, types.ModuleType) and value.__name__ in self.hot:
                (self.dirty if upstream[value.__name__][0] else self.called).add(name)
            elif id(value) in touched_ids:
                self.called.add(name)
        self.called |= {e.node.name for e in new_entries if e.action in (BODY, CLASS)}

    def _is_stale(self, node, package: str) -> bool:
        return bool(
            diffing.read_names(node) & self.dirty
            or diffing.called_names(node) & self.called
            or (self.rebound and diffing.imports_from(node, package) & self.rebound)
        )

    def _run(self, new_entries: list, new_tree, full: bool) -> dict:
        """Run the statements that changed or read changed names; returns replaced classes."""
        module, namespace = self.module, self.module.__dict__
        package = module.__name__
        if not hasattr(module, "__path__"):  # a plain module: relative imports start above
            package = package.rpartition(".")[0]
        replaced, new_classes = {}, {}
        for entry in new_entries:
            node, action = entry.node, entry.action
            if action in (UNCHANGED, BODY):
                if not self._is_stale(node, package):
                    continue
                if entry.key[0] == "class":
                    action = CLASS  # e.g. its base class was replaced: update it in place
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                # A bare string or number does nothing, except the module's docstring (compiled
                # alone, any string would become the docstring).
                if node is new_tree.body[0] and isinstance(node.value.value, str):
                    namespace["__doc__"] = node.value.value
                continue
            code = self.compiled.get(entry.key)
            if code is None:
                code = self.compiled[entry.key] = _compile(entry, self.path, self.flags)
            names = diffing.bound_names(node)
            star = "*" in names
            before = dict(namespace) if star else {n: namespace.get(n, MISSING) for n in names}
            exec(code, namespace)
            self.outcome.ran += 1
            if entry.old is not None and action == RUN and entry.key[0] == "def":
                name = node.name
                if _keep_function(before.get(name), namespace.get(name), node, self.pairs):
                    namespace[name] = before[name]  # new defaults, same function object
                    self.called.add(name)
            if entry.old is not None and action == CLASS:
                self._update_class(entry, before, full, replaced, new_classes)
            for name in namespace.keys() if star else names:
                if namespace.get(name, MISSING) is not before.get(name, MISSING):
                    self.dirty.add(name)
        return replaced

    def _update_class(self, entry, before: dict, full: bool, replaced, new_classes) -> None:
        namespace, name = self.module.__dict__, entry.node.name
        old_cls, new_cls = before.get(name), namespace.get(name)
        if not (isinstance(old_cls, type) and isinstance(new_cls, type)):
            return
        keep = set() if full else _class_state(entry.old, entry)
        why = update_class(old_cls, new_cls, self.pairs, keep, new_classes)
        if why is None:
            namespace[name] = old_cls  # the old class, updated, lives on
            new_classes[new_cls] = old_cls
            self.outcome.ran -= 1  # a class updated in place is a patch
        else:
            replaced[old_cls] = new_cls
            self.outcome.notes.append(f"class {name} was replaced ({why})")

    def _finish(self, snapshot: dict, replaced: dict) -> None:
        """Patch the functions, clear caches, move instances, say what could not be reached."""
        namespace, outcome = self.module.__dict__, self.outcome
        patched = patch_functions(self.pairs, self.once, self.module)
        outcome.patched = len(patched)
        outcome.touched = {id(namespace[name]) for name in self.called if name in namespace}
        clear_caches(self.module, patched)
        if replaced and migrate_instances(replaced):
            outcome.notes.append("some instances of a replaced class keep the old class")
        if self.refused:
            outcome.notes.append(
                "closures made before the reload keep their old code (their free variables "
                "changed): " + ", ".join(self.refused)
            )
        outcome.changed = {
            name: (snapshot.get(name, MISSING), namespace.get(name, MISSING))
            for name in self.dirty
            if namespace.get(name, MISSING) is not snapshot.get(name, MISSING)
        }


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
