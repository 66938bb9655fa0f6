"""What changed between two versions of a module, statement by statement (ASTs, not text).

Each top-level statement gets a key: definitions by kind and name (``("def", "f", 0)``), other
statements by their AST dump, which ignores comments, whitespace and line numbers. The plan says
for every statement of the new version whether it is unchanged, a definition where only
function bodies changed (patch their code), a class to update in place, or a statement to run
again; and which names only removed statements bound.

Kernel side: standard library only.
"""

from __future__ import annotations
import __future__

import ast

FUNCTION_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)

UNCHANGED, BODY, CLASS, RUN = "unchanged", "body", "class", "run"


class Entry:
    """One top-level statement of one version of a module."""

    __slots__ = ("action", "dump", "key", "node", "old", "text")

    def __init__(self, key: tuple, node: ast.stmt, dump: str, text: list) -> None:
        self.key = key
        self.node = node
        self.dump = dump
        self.text = text  # its source lines: unchanged text means unchanged code objects
        self.action = RUN
        self.old = None  # the Entry of the old version it continues, if any


def entries(tree: ast.Module, lines: list) -> list:
    """The statements of a module with their keys, in order."""
    result, counts = [], {}
    for node in tree.body:
        dump = ast.dump(node)
        if isinstance(node, FUNCTION_DEFS):
            base = ("def", node.name)
        elif isinstance(node, ast.ClassDef):
            base = ("class", node.name)
        else:
            base = ("stmt", dump)
        rank = counts[base] = counts.get(base, -1) + 1
        text = [*lines[node.lineno - 1 : node.end_lineno], node.lineno]
        result.append(Entry((*base, rank), node, dump, text))
    return result


def shape(node: ast.AST) -> str:
    """A definition with the bodies of its functions left out: for a function, its decorators,
    arguments and annotations; for a class, also its bases, attributes and which methods it
    has. Equal shapes: only function bodies changed, which patching covers."""
    saved = []

    def strip(definition) -> None:
        if isinstance(definition, FUNCTION_DEFS):
            saved.append((definition, definition.body))
            definition.body = []
            return
        for child in definition.body:
            if isinstance(child, (*FUNCTION_DEFS, ast.ClassDef)):
                strip(child)

    strip(node)
    try:
        return ast.dump(node)
    finally:
        for definition, body in saved:
            definition.body = body


def plan(old: list, new: list) -> list:
    """Set ``action`` and ``old`` on the new entries; return the old entries no longer present."""
    by_key = {entry.key: entry for entry in old}
    for entry in new:
        previous = by_key.pop(entry.key, None)
        entry.old = previous
        if previous is None:
            entry.action = RUN
        elif previous.dump == entry.dump:
            entry.action = UNCHANGED
        elif entry.key[0] != "stmt" and shape(previous.node) == shape(entry.node):
            entry.action = BODY  # a class too: nothing runs, its methods get the new code
        elif entry.key[0] == "class":
            entry.action = CLASS
        else:
            entry.action = RUN
    removed = list(by_key.values())
    # A changed statement binding the same names continues a removed one (e.g. a dict of
    # lambdas edited): its code objects are matched by position so old references get patched.
    by_targets: dict = {}
    for entry in removed:
        by_targets.setdefault(tuple(sorted(bound_names(entry.node))), []).append(entry)
    for entry in new:
        if entry.old is None and entry.key[0] == "stmt":
            names = tuple(sorted(bound_names(entry.node)))
            candidates = by_targets.get(names) if names else None
            if candidates:
                entry.old = candidates.pop(0)
    return removed


def bound_names(node: ast.stmt) -> set:
    """Names a top-level statement binds in the module namespace ("*" for a star import)."""
    if isinstance(node, (*FUNCTION_DEFS, ast.ClassDef)):
        return {node.name}
    names = set()
    for sub in _walk_scope(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            for alias in sub.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(sub, (*FUNCTION_DEFS, ast.ClassDef, ast.ExceptHandler)) and sub.name:
            names.add(sub.name)
    return names


def read_names(node: ast.stmt) -> set:
    """Names a statement reads while it runs (not inside the bodies of the functions it
    defines, which read them later, at call time)."""
    return {
        sub.id
        for sub in _walk_scope(node)
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)
    }


def called_names(node: ast.stmt) -> set:
    """Names a statement calls while it runs (``f(x)``, ``m.f(x)``, decorators): such a
    statement depends on the code behind the name, not only on which object it is."""
    names = set()
    for sub in _walk_scope(node):
        targets = []
        if isinstance(sub, ast.Call):
            targets.append(sub.func)
        if isinstance(sub, (*FUNCTION_DEFS, ast.ClassDef)):
            targets.extend(sub.decorator_list)
            targets.extend(getattr(sub, "bases", ()))  # a base class's body ran for it
        for target in targets:
            while isinstance(target, (ast.Attribute, ast.Call)):
                target = target.value if isinstance(target, ast.Attribute) else target.func
            if isinstance(target, ast.Name):
                names.add(target.id)
    return names


def _walk_scope(node: ast.AST):
    """ast.walk, but for a function or lambda only what runs at definition time."""
    stack = [node]
    while stack:
        sub = stack.pop()
        yield sub
        if isinstance(sub, (*FUNCTION_DEFS, ast.Lambda)):
            args = sub.args
            stack.extend(d for d in (*args.defaults, *args.kw_defaults) if d is not None)
            if not isinstance(sub, ast.Lambda):
                stack.extend(sub.decorator_list)
                stack.extend(a.annotation for a in _all_args(args) if a.annotation)
                if sub.returns is not None:
                    stack.append(sub.returns)
            continue
        stack.extend(ast.iter_child_nodes(sub))


def _all_args(args: ast.arguments) -> list:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def future_flags(tree: ast.Module) -> int:
    """Compiler flags of the module's ``from __future__ import`` statements."""
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return flags


def imports_from(node: ast.stmt, package: str) -> set:
    """Absolute names of the modules a ``from m import name`` statement takes names from."""
    found = set()
    for sub in _walk_scope(node):
        if isinstance(sub, ast.ImportFrom):
            if sub.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (sub.level - 1)] if sub.level - 1 <= len(base) else []
                target = ".".join([*base, sub.module] if sub.module else base)
            else:
                target = sub.module or ""
            found.add(target)
            found.update(target + "." + alias.name for alias in sub.names)
    return found  # `import m` binds the module itself, whose identity never changes
