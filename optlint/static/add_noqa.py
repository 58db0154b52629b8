"""`--add-noqa`: silence every current finding with `# noqa: CODE` on its line, to adopt optlint in an
existing codebase and fix the backlog later (like ruff's). An existing `# noqa: X` comment on the line
gets the new codes merged in; other comments are kept.

A row whose end lies inside a multi-line string, or that a backslash continues, cannot take a
comment without changing the code: those findings are returned as skipped.
"""

from __future__ import annotations

import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, replace

from optlint.findings import Finding
from optlint.static.engine import NOQA
from optlint.static import notebooks
from optlint.static.files import split_lines

CODE = re.compile(r"[A-Z]+[0-9]+")


@dataclass(frozen=True)
class NoqaResult:
    text: str
    added: int  # findings silenced
    skipped: tuple[Finding, ...]


def add_noqa(text: str, findings: list[Finding]) -> NoqaResult:
    codes_by_row: dict[int, set[str]] = defaultdict(set)
    for finding in findings:
        if finding.code != "OPT000":  # a file that does not parse cannot be silenced line by line
            codes_by_row[finding.row].add(finding.code)
    lines = split_lines(text, keepends=True)
    line_ends, comments = _line_ends_and_comments(lines)
    skipped = []
    for row, codes in sorted(codes_by_row.items()):
        if row not in line_ends or row > len(lines):
            skipped.extend(f for f in findings if f.row == row)
            continue
        lines[row - 1] = _with_noqa(lines[row - 1], codes, comments.get(row))
    added = sum(len(codes) for row, codes in codes_by_row.items() if row not in {f.row for f in skipped})
    return NoqaResult("".join(lines), added, tuple(skipped))


def add_noqa_to_notebook(text: str, findings: list[Finding]) -> NoqaResult:
    """add_noqa in a notebook's cells (findings at cell rows); its JSON text with the cells rewritten."""
    from optlint.static.fix import FixError  # libcst: fix.py is imported only to rewrite

    try:
        notebook = notebooks.read(text)
        at_view_rows = {id(f): replace(f, row=notebooks.view_row(notebook, f.cell, f.row), cell=None)
                        for f in findings}
        outcome = add_noqa(notebook.view, list(at_view_rows.values()))
        new_text = notebooks.rewritten(notebook, outcome.text)
    except notebooks.NotebookError as error:
        raise FixError(f"{error}; nothing was written") from None
    skipped = {id(f) for f in outcome.skipped}
    return NoqaResult(new_text, outcome.added, tuple(f for f in findings if id(at_view_rows[id(f)]) in skipped))


def _line_ends_and_comments(lines: list[str]) -> tuple[set[int], dict[int, int]]:
    """Rows that end a logical or physical line of code (a comment may follow them), and each row's
    comment column."""
    line_ends, comments = set(), {}
    # tokenize splits lines at \n only: a file of \r endings would be one row. Rows and columns stay.
    with_lf_endings = iter([line.rstrip("\r\n") + "\n" if line.endswith(("\r", "\n")) else line for line in lines])
    try:
        for token in tokenize.generate_tokens(lambda: next(with_lf_endings, "")):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                line_ends.add(token.start[0])
            elif token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError):
        return set(), {}
    return line_ends, comments


def _with_noqa(line: str, codes: set[str], comment_column: int | None) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    match = NOQA.search(body, comment_column) if comment_column is not None else None
    if match is not None and match.group("codes"):
        merged = sorted(set(CODE.findall(match.group("codes").upper())) | codes)
        body = f"{body[: match.start()]}# noqa: {', '.join(merged)}{body[match.end():]}"
    else:
        body = f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    return body + ending
