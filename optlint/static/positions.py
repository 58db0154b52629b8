"""Where a reported node is, from the code of its own top-level statement only.

libcst's PositionProvider generates the code of the whole module to find any position: for an
800-line file, twice the time of parsing it. A finding needs the positions of a few nodes; each lies
in one top-level statement, and a statement's positions are its own positions (generated alone)
shifted by the lines before it. Those lines come from CPython's parse of the file, which parse.py
runs anyway (`ast` line numbers of the top-level statements), or, in the language server, from where
each statement of the re-parsed text starts (optlint.static.reparse).
"""

from __future__ import annotations

import ast
import re
from typing import Callable

from optlint.static.libcst_import import import_libcst

import_libcst()  # before anything below imports libcst the slow way

import libcst as cst  # noqa: E402
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider  # noqa: E402

from optlint.static.walk import code_nodes  # noqa: E402

# CPython and libcst agree on line numbers where only `\n` ends lines; other characters that
# some reader takes for a line break (a lone `\r` in a string, a form feed) send the file to libcst's
# own whole-module pass.
_OTHER_LINE_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class StatementPositions:
    """Positions of a module's nodes, found per top-level statement; `lines_before(i)` is the number of
    lines before statement i's code (its leading blank and comment lines included)."""

    def __init__(self, module: cst.Module, lines_before: Callable[[int], int]):
        self.module, self.lines_before = module, lines_before
        self._nodes: dict[cst.CSTNode, frozenset[int]] = {}  # statement -> ids of its code nodes
        self._own: dict[cst.CSTNode, dict[cst.CSTNode, CodeRange]] = {}  # statement -> its positions alone
        self._whole: dict[cst.CSTNode, CodeRange] | None = None

    def renew(self, module: cst.Module, lines_before: Callable[[int], int]) -> None:
        """The next text's module: what belongs to statements it kept is kept."""
        kept = set(module.body)
        self._nodes = {s: ids for s, ids in self._nodes.items() if s in kept}
        self._own = {s: own for s, own in self._own.items() if s in kept}
        self.module, self.lines_before, self._whole = module, lines_before, None

    def __call__(self, node: cst.CSTNode) -> CodeRange:
        for index, statement in enumerate(self.module.body):
            if id(node) in self._ids(statement):
                return _shifted(self._positions(statement)[node], self.lines_before(index))
        if self._whole is None:  # the module itself, its header or footer
            self._whole = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._whole[node]

    def _ids(self, statement: cst.CSTNode) -> frozenset[int]:
        ids = self._nodes.get(statement)
        if ids is None:
            ids = self._nodes[statement] = frozenset(map(id, code_nodes(statement)))
        return ids

    def _positions(self, statement: cst.CSTNode) -> dict[cst.CSTNode, CodeRange]:
        own = self._own.get(statement)
        if own is None:
            alone = cst.Module(body=[statement], default_indent=self.module.default_indent,
                               default_newline=self.module.default_newline)
            own = self._own[statement] = dict(MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider))
        return own


def from_python_lines(module: cst.Module, tree: ast.Module | None, source: str) -> StatementPositions | None:
    """Positions for a module whose text CPython parsed into `tree`, None when its lines cannot be trusted
    to be libcst's (no tree, another line break, statements that do not pair up)."""
    if tree is None or _OTHER_LINE_BREAKS.search(source):
        return None
    statements = iter(tree.body)
    firsts = []
    for statement in module.body:
        pieces = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        paired = [next(statements, None) for _ in range(pieces)]
        if paired[0] is None or paired[-1] is None:
            return None
        head = paired[0]
        first_line = min([head.lineno, *(d.lineno for d in getattr(head, "decorator_list", ()))])
        firsts.append(first_line - 1 - len(statement.leading_lines))
    if next(statements, None) is not None:
        return None
    return StatementPositions(module, firsts.__getitem__)


def _shifted(where: CodeRange, lines: int) -> CodeRange:
    return CodeRange(CodePosition(where.start.line + lines, where.start.column),
                     CodePosition(where.end.line + lines, where.end.column))
