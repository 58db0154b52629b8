"""A read-only traversal of a libcst tree, several times faster than `node.visit(visitor)`.

libcst's own traversal rebuilds every node it passes, because the same code serves transformers;
for a visitor that only reads, that costs more than parsing the file. `walk` calls the same
`visit_<Node>` / `leave_<Node>` methods of a `CSTVisitor` on the same code nodes in the same order
(tests/test_walk.py compares the two) and rebuilds nothing. It never descends into whitespace,
comments, punctuation or operators, which hold no code. A `visit_<Node>` that returns False skips
the node's children, as in libcst; `visit_<Node>_<field>` hooks are not supported.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Iterator

import libcst as cst

# Nodes that never hold code: a field whose type allows nothing else is never walked. Node classes
# inherit these for real (none is registered virtually), so a look at the MRO tells.
TRIVIA = frozenset((
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
    cst.Comma, cst.Dot, cst.Semicolon, cst.Colon, cst.AssignEqual, cst.Asynchronous,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp,
    cst.BaseUnaryOp, cst.BaseAugOp,
))  # fmt: skip


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    _walk(node, visitor, _table(type(visitor)))


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor, table: dict) -> None:
    # The hot loop of every rule: one dict lookup per node and per child, no other call.
    entry = table.get(node.__class__) or _entry(table, type(visitor), node.__class__)
    visit, leave, fields = entry
    if visit is None or visit(visitor, node) is not False:
        for name in fields:
            child = getattr(node, name)
            kind = _KINDS.get(child.__class__)
            if kind is None:
                kind = _kind(child.__class__)
            if kind is _SEQUENCE:
                for item in child:
                    _walk(item, visitor, table)
            elif kind is _NODE:
                _walk(child, visitor, table)
    if leave is not None:
        leave(visitor, node)


_SEQUENCE, _NODE, _OTHER = "sequence", "node", "other"
_KINDS: dict[type, str] = {list: _SEQUENCE, tuple: _SEQUENCE, type(None): _OTHER}


def _kind(cls: type) -> str:
    # CSTNode is an ABC: `isinstance` on each child would be slow, a look at the MRO is not.
    mro = cls.__mro__
    kind = _KINDS[cls] = _NODE if cst.CSTNode in mro else _SEQUENCE if list in mro or tuple in mro else _OTHER
    return kind


def _is_node(cls: type) -> bool:
    return (_KINDS.get(cls) or _kind(cls)) is _NODE


def _table(visitor_class: type) -> dict:
    # Kept on the visitor class itself, not in a global cache: a class defined inside a function (one
    # per call) takes its table with it when it goes, instead of piling up in a long-lived server.
    table = visitor_class.__dict__.get("_walk_hooks")
    if table is None:
        table = {}
        type.__setattr__(visitor_class, "_walk_hooks", table)
    return table


def _entry(table: dict, visitor_class: type, node_class: type) -> tuple:
    """(visit hook, leave hook, code fields) of one node class for one visitor class."""
    name = node_class.__name__
    entry = table[node_class] = (getattr(visitor_class, f"visit_{name}", None),
                                 getattr(visitor_class, f"leave_{name}", None), _code_fields(node_class))
    return entry


@functools.cache
def _code_fields(node_class: type) -> tuple[str, ...]:
    """The fields that may hold code, in the order libcst visits them (the source order)."""
    hints = typing.get_type_hints(node_class)
    fields = [f.name for f in dataclasses.fields(node_class) if _may_hold_code(hints[f.name])]
    # `_visit_and_replace_children` names the fields it visits, in order: `visit_required(self, "value", ...)`;
    # the compiler keeps those strings in its code object's constants in the order they first appear.
    visited = [c for c in node_class._visit_and_replace_children.__code__.co_consts if c in fields]
    return tuple(dict.fromkeys([*visited, *fields]))


def _may_hold_code(annotation) -> bool:
    if isinstance(annotation, type):
        return _is_node(annotation) and TRIVIA.isdisjoint(annotation.__mro__)
    return any(_may_hold_code(arg) for arg in typing.get_args(annotation))


class _CallCollector(cst.CSTVisitor):
    """Calls in evaluation order, skipping code that only defines (lambdas, nested functions)."""

    def __init__(self):
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    collector = _CallCollector()
    walk(node, collector)
    return collector.calls


class _ReturnCollector(cst.CSTVisitor):
    """A function's own `return` statements (nested functions and classes return elsewhere)."""

    def __init__(self):
        self.returns: list[cst.Return] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.returns.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def returns_in(function: cst.FunctionDef) -> list[cst.Return]:
    collector = _ReturnCollector()
    walk(function.body, collector)
    return collector.returns


def code_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node and every code node under it, in source order (what `walk` visits)."""
    yield node
    for name in _code_fields(type(node)):
        child = getattr(node, name)
        if isinstance(child, (list, tuple)):
            for item in child:
                yield from code_nodes(item)
        elif _is_node(type(child)):
            yield from code_nodes(child)
