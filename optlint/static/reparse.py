"""Parse an edited text by re-parsing only the top-level statements the edit touched.

An editor sends the whole text after each keystroke; parsing 800 lines with libcst takes about a
tenth of a second, and codegen for positions twice that. A `Document` keeps its last tree and where
each top-level statement starts. For a new text it re-parses the span of the statements the changed
characters fall in (with the neighbours on both sides, as an edit at a boundary may belong to
either) and reuses every other statement object as it is. The result is the tree a full parse gives
(tests/test_reparse.py compares them on generated edits):

- top-level statements start at column 0 after a complete statement, so a span of them that parses
  alone parses the same inside the file (anything that would join it to a neighbour, an open
  bracket or string, a missing block, an indented line, fails alone, and the whole text is parsed);
- libcst's file-wide settings are kept or taken from the span: the default indent is the first
  indented block's, so a span is re-parsed only after an unchanged statement with a block, and with
  the file's indent and newline; the span that reaches the end of the file brings its end (footer,
  trailing newline);
- blank and comment lines libcst hands to the span's header and footer belong, in the whole file,
  to the statement that follows them.

Positions (optlint.static.positions) are computed per top-level statement, on that statement alone,
and kept while the statement object lives on: a finding's position costs its own statement's codegen.
"""

from __future__ import annotations

import bisect
from typing import Sequence

from optlint.static.libcst_import import import_libcst

import_libcst()  # before anything below imports libcst the slow way

import libcst as cst  # noqa: E402

from optlint.findings import Finding  # noqa: E402
from optlint.static.files import line_offsets  # noqa: E402
from optlint.static.parse import parse  # noqa: E402
from optlint.static.positions import StatementPositions  # noqa: E402


def common_ends(old: str, new: str) -> tuple[int, int, int]:
    """(start, old_end, new_end): `old[start:old_end]` became `new[start:new_end]`, the rest is shared."""
    limit = min(len(old), len(new))
    start = _shared_length(lambda n: old[:n] == new[:n], limit)
    tail = _shared_length(lambda n: old[len(old) - n:] == new[len(new) - n:], limit - start)
    return start, len(old) - tail, len(new) - tail


def _shared_length(shares, limit: int) -> int:
    """The largest n <= limit with shares(n), shares being monotone (a binary search over C compares)."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if shares(middle):
            low = middle
        else:
            high = middle - 1
    return low


class Document:
    """One editor document's last parse, reused statement by statement for the next text."""

    def __init__(self):
        self.text: str | None = None
        self.module: cst.Module | None = None
        self._starts: list[int] = []  # where each body statement's code (its leading lines included) starts
        self._has_block: list[bool] = []
        self._lines: list[int] = []
        self.position: StatementPositions | None = None  # where a node of `module` is

    def parse(self, text: str, filename: str) -> cst.Module | Finding:
        """The text's module (or OPT000), from the last tree where the edit allows."""
        module = self._reparsed(text, filename) if self.module is not None else None
        if module is None:
            module = parse(text, filename)
            if isinstance(module, Finding):
                self.text = self.module = None
                return module
            header = sum(len(module.code_for_node(line)) for line in module.header)
            self._remember(text, module, _starts(module, module.body, header)[:-1])
        self._lines = line_offsets(text)
        if self.position is None:
            self.position = StatementPositions(module, self._lines_before)
        else:
            self.position.renew(module, self._lines_before)
        return module

    # --- re-parsing ---------------------------------------------------------------------------------------

    def _reparsed(self, text: str, filename: str) -> cst.Module | None:
        """The module from re-parsing the touched statements, or None when only a whole parse will do."""
        old, body = self.text, self.module.body
        start, old_end, new_end = common_ends(old, text)
        if start == old_end == new_end:
            return self.module
        first = bisect.bisect_right(self._starts, start - 1) - 1  # holds the character before the edit
        last = bisect.bisect_right(self._starts, old_end) - 1  # holds the character after it
        if first < 1 or not any(self._has_block[:first]):
            return None  # the header or the file's indent may change: parse it whole
        at_end = last == len(body) - 1
        span_start = self._starts[first]
        span_end = len(text) if at_end else self._starts[last + 1] + (new_end - old_end)
        span = parse(text[span_start:span_end], filename, self._config())
        if isinstance(span, Finding) or not span.body:
            return None
        statements = list(span.body)
        statements[0] = statements[0].with_changes(leading_lines=(*span.header, *statements[0].leading_lines))
        following = list(body[last + 1:])
        if following and span.footer:
            following[0] = following[0].with_changes(leading_lines=(*span.footer, *following[0].leading_lines))
        module = self.module.with_changes(
            body=(*body[:first], *statements, *following),
            footer=span.footer if at_end else self.module.footer,
            has_trailing_newline=span.has_trailing_newline if at_end else self.module.has_trailing_newline,
        )
        *span_starts, span_end = _starts(module, statements, span_start)
        shift = new_end - old_end
        later = [span_end, *(start + shift for start in self._starts[last + 2:])] if following else []
        self._remember(text, module, [*self._starts[:first], *span_starts, *later])
        return module

    def _config(self) -> cst.PartialParserConfig:
        return cst.PartialParserConfig(default_indent=self.module.default_indent,
                                       default_newline=self.module.default_newline)

    def _remember(self, text: str, module: cst.Module, starts: list[int]) -> None:
        self.text, self.module, self._starts = text, module, starts
        self._has_block = [_has_block(statement) for statement in module.body]

    def _lines_before(self, index: int) -> int:
        """Lines before statement `index` (its leading lines are its own, as they are alone)."""
        return bisect.bisect_right(self._lines, self._starts[index]) - 1


def _starts(module: cst.Module, statements: Sequence[cst.CSTNode], position: int) -> list[int]:
    """Where each of the statements starts, the first at `position`, and where the last one ends."""
    starts = [position]
    for statement in statements:
        position += len(module.code_for_node(statement))
        starts.append(position)
    return starts


def _has_block(statement: cst.CSTNode) -> bool:
    """Whether a top-level statement holds an indented block (libcst's default indent comes from the first)."""
    clauses: Sequence = [statement]
    while clauses:
        clause = clauses.pop()
        if isinstance(getattr(clause, "body", None), cst.IndentedBlock):
            return True
        clauses.extend(c for c in (getattr(clause, "orelse", None), getattr(clause, "finalbody", None)) if c)
        clauses.extend(getattr(clause, "handlers", ()))
    return False
