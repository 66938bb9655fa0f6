"""Sphinx directives that generate reference pages from the code itself.

``.. cli-reference::``  the help of ``spyder-kernel-connect`` and each sub-command, from argparse.
``.. error-catalog::``  every user-facing error the code raises, found by reading the source:
                        each ``raise``-able KernelConnectError subclass with the messages and
                        hints passed to it, so the page cannot drift from what users see.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

PACKAGE = "spyder_kernel_connect"
# Calls and receivers that say nothing about what a placeholder stands for.
NOT_NAMES = {"self", "len", "str", "repr", "type", "int", "float", "join", "sorted", "strip"}


class CliReference(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from spyder_kernel_connect.cli import build_parser

        parser = build_parser()
        lines = ["", "``spyder-kernel-connect``", "-" * 26, "", ".. code-block:: text", ""]
        lines += ["   " + line for line in parser.format_help().splitlines()]
        for action in parser._subparsers._group_actions:  # argparse keeps sub-parsers here
            for name, sub in action.choices.items():
                title = f"``spyder-kernel-connect {name}``"
                lines += ["", title, "-" * len(title), "", ".. code-block:: text", ""]
                lines += ["   " + line for line in sub.format_help().splitlines()]
        return self.parse_lines(lines)

    def parse_lines(self, lines: list[str]) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        self.state.nested_parse(StringList(lines, "<generated>"), 0, container, match_titles=True)
        return container.children


def _user_errors() -> dict[str, type]:
    """Every KernelConnectError subclass in the package, by class name (Qt parts skipped)."""
    from spyder_kernel_connect.errors import KernelConnectError

    package = importlib.import_module(PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, PACKAGE + "."):
        if ".spyder" in info.name or info.name.endswith("__main__"):
            continue  # the Qt shell re-raises engine errors; importing it needs Qt
        try:
            importlib.import_module(info.name)
        except ImportError:
            continue
    found: dict[str, type] = {}
    todo = [KernelConnectError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def _render(node: ast.expr | None) -> str:
    """Source text of a message argument, placeholders shown as <name>."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                words = [
                    w
                    for w in re.findall(r"[A-Za-z_]\w*", ast.unparse(value.value))
                    if not w.startswith("__") and w not in NOT_NAMES
                ]
                parts.append(f"<{words[-1] if words else 'value'}>")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _render(node.left) + _render(node.right)
    return f"<{ast.unparse(node)}>"


def _messages(classes: dict[str, type]) -> dict[str, list[tuple[str, str, str]]]:
    """(message, hint, where) for each call of an error class or its ``super().__init__``."""
    root = Path(importlib.import_module(PACKAGE).__file__).parent
    out: dict[str, list[tuple[str, str, str]]] = {name: [] for name in classes}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(root.parent).as_posix()
        for cls_node in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            for call in [n for n in ast.walk(cls_node) if isinstance(n, ast.Call)]:
                func = call.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr == "__init__"
                    and isinstance(func.value, ast.Call)
                    and getattr(func.value.func, "id", "") == "super"
                    and cls_node.name in out
                    and call.args
                ):
                    out[cls_node.name].append(_call_text(call, rel))
        for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call)]:
            name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
            if name in out and call.args and _is_message(call.args[0]):
                out[name].append(_call_text(call, rel))
    return out


def _is_message(node: ast.expr) -> bool:
    """A literal message; calls passing only data (``Error(spec, dirs)``) build it in __init__."""
    if isinstance(node, ast.BinOp):
        return _is_message(node.left) or _is_message(node.right)
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _call_text(call: ast.Call, where: str) -> tuple[str, str, str]:
    hint = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "hint":
            hint = kw.value
    return _render(call.args[0]), _render(hint), f"{where}:{call.lineno}"


class ErrorCatalog(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        classes = _user_errors()
        messages = _messages(classes)
        lines = ["", "Messages at a glance", "--------------------", ""]
        for name in sorted(classes):
            for message, _hint, _where in messages[name]:
                lines.append(f"- {_literal(message)} — :ref:`error-{name.lower()}`")
        lines.append("")
        for name in sorted(classes):
            cls = classes[name]
            if not messages[name] and cls.__subclasses__():
                continue  # an abstract base with no message of its own
            title = f"{name}: {_first_line(cls)}"
            lines += [f".. _error-{name.lower()}:", "", title, "-" * len(title), ""]
            rest = _own_doc(cls).partition("\n")[2].strip()
            if rest:
                lines += [rest, ""]
            base = cls.__mro__[1].__name__
            lines += [f"*Kind of* ``{base}``.", ""]
            for message, hint, where in messages[name]:
                lines += [f"Message (from ``{where}``):", "", f"   {_literal(message)}", ""]
                if hint:
                    lines += ["What to do:", "", f"   {_literal(hint)}", ""]
        return CliReference.parse_lines(self, lines)


def _own_doc(cls: type) -> str:
    """The class's own docstring; an inherited one would describe the parent instead."""
    return inspect.cleandoc(cls.__dict__.get("__doc__") or "")


def _first_line(cls: type) -> str:
    doc = (_own_doc(cls) or cls.__name__).splitlines()[0]
    return doc.rstrip(".")


def _literal(text: str) -> str:
    """Inline literal: no markup inside, so messages show exactly as the user sees them."""
    text = " ".join(text.split()).replace("`", "'")
    return f"``{text}``" if text else ""


def setup(app):
    app.add_directive("cli-reference", CliReference)
    app.add_directive("error-catalog", ErrorCatalog)
    return {"parallel_read_safe": True, "version": "1"}
