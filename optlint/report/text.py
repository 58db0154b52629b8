"""`path:row:col: CODE [severity] message`, a HINT line, optionally the source line with a caret, and a
summary: what a person reads in a terminal. A notebook's finding reads `nb.ipynb:cell 3:2:8:`, as ruff's;
`source(path)` gives a file's lines for --show-source, `source(path, cell)` a notebook cell's. Colour only when the CLI says so (a TTY without NO_COLOR).
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import click

from optlint.report.escape import escape, line_start_path
from optlint.words import plural

TAB = "    "


def render(findings, *, show_hints: bool = True, files_checked: int | None = None, show_source: bool = False,
           source: Callable[..., list[str] | None] | None = None, color: bool = False,
           with_summary: bool = True, fixed: int = 0, unsafe_fixable: int = 0, errors: int = 0, **_) -> str:
    paint = _Painter(color)
    lines = []
    for f in findings:
        path = paint(line_start_path(f.filename), bold=True)
        cell = [f"cell {f.cell}"] if f.cell else []
        where = paint(":", fg="cyan").join([path, *cell, str(f.row), str(f.column), ""])
        lines.append(f"{where} {headline(f, paint)}")
        if show_source and source is not None:
            lines.extend(snippet(f, source(f.filename, f.cell) if f.cell else source(f.filename), paint))
        if show_hints and f.hint:
            lines.append(hint_line(f, paint))
    if with_summary:
        lines.append(summary(findings, files_checked, fixed, unsafe_fixable, errors))
    return "\n".join(lines)


def headline(f, paint=None, named: bool = False) -> str:
    """`CODE [severity] message`, after the location; `named`: with the rule's name before the message, as the
    runtime reports print it (they have no location)."""
    paint = paint or _Painter(False)
    name = f" {f.name}:" if named else ""
    return f"{paint(f.code, fg='red', bold=True)} [{f.severity}]{name} {escape(f.message)}"


def hint_line(f, paint=None) -> str:
    return f"    {(paint or _Painter(False))('HINT', fg='cyan', bold=True)}: {escape(f.hint)}"


class _Painter:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, **style) -> str:
        return click.style(text, **style) if self.enabled else text


def snippet(f, lines: list[str] | None, paint) -> list[str]:
    """The offending line with a caret under the reported span, like ruff and pytest. The line is
    escaped (see escape.py), and the gutter before it keeps it from starting an output line."""
    if not lines or not 0 < f.row <= len(lines):
        return []
    line = lines[f.row - 1].rstrip()
    start = len(_shown(line[: f.column - 1]))
    shown = _shown(line)
    width = len(_shown(line[f.column - 1: f.end_column - 1])) if f.end_row == f.row else len(shown) - start
    gutter = " " * len(str(f.row))
    bar = paint("|", fg="blue", bold=True)
    carets = paint("^" * max(1, width), fg="red", bold=True)
    return [f"{gutter} {bar}", f"{paint(str(f.row), fg='blue', bold=True)} {bar} {shown}",
            f"{gutter} {bar} {' ' * start}{carets}", f"{gutter} {bar}"]


def _shown(code: str) -> str:
    return escape(code.replace("\t", TAB))


def summary(findings, files_checked: int | None = None, fixed: int = 0, unsafe_fixable: int = 0,
            errors: int = 0) -> str:
    """`errors`: the error lines printed above (a path that cannot be read...): the run did not pass."""
    checked = f" in {plural(files_checked, 'file')}" if files_checked is not None else ""
    if not findings and not fixed:
        return f"No problems found{checked}, but see the {plural(errors, 'error')} above." if errors else \
            f"All checks passed{checked}."
    total = len(findings) + fixed
    head = f"Found {plural(total, 'problem')}{checked}"
    if fixed:
        head += f" ({fixed} fixed, {len(findings)} remaining)"
    severities = Counter(str(f.severity) for f in findings)
    parts = ", ".join(plural(n, s) for s, n in sorted(severities.items()))
    fixable = sum(1 for f in findings if f.fix is not None and f.fix.safe)
    hints = [f"{fixable} fixable with --fix"] if fixable else []
    if unsafe_fixable:
        hints.append(f"{unsafe_fixable} more with --fix --unsafe-fixes")
    tail = f" ({'; '.join(hints)})" if hints else ""
    return f"{head}: {parts}{tail}." if parts else f"{head}{tail}."
