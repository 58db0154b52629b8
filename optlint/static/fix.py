"""Apply the findings' fixes: non-overlapping edits, re-lint until nothing is left to fix, never a result
that does not parse, and a file written back byte for byte like the original (encoding, BOM, line
endings, mode and owner), atomically; never over a file that changed meanwhile, is read-only or hard-linked.

A fix is a set of `Edit`s (0-based character offsets into the decoded text) that go in together or
not at all. Safe fixes are applied by `--fix`; unsafe ones (plausible, not certain) only with
`--unsafe-fixes` too.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Callable, Iterable

import libcst as cst

from optlint.findings import Edit, Finding
from optlint.static import files, notebooks

MAX_PASSES = 8  # a fix can reveal another (a renamed keyword makes the call resolvable); more is a loop

Lint = Callable[[str], list[Finding]]


class FixError(Exception):
    """The fixes cannot be applied safely: nothing is written."""


@dataclass(frozen=True)
class FixResult:
    text: str
    fixed: tuple[Finding, ...]  # the findings whose fixes went in, over every pass
    remaining: list[Finding]  # the findings of the final text
    converged: bool = True  # False when fixes were still applicable after MAX_PASSES


def wanted(findings: Iterable[Finding], unsafe: bool = False) -> list[Finding]:
    return [f for f in findings if f.fix is not None and f.fix.edits and (f.fix.safe or unsafe)]


def fix_text(text: str, lint: Lint, *, unsafe: bool = False) -> FixResult:
    """Fix `text` until `lint` finds nothing more to fix. Pure: `lint` maps a text to its findings."""
    findings, fixed = lint(text), ()
    for _ in range(MAX_PASSES):
        new, applied = apply_fixes(text, wanted(findings, unsafe))
        if not applied or new == text:
            return FixResult(text, fixed, findings)
        ensure_parses(new, text, applied)
        text, fixed = new, fixed + tuple(applied)
        findings = lint(text)
    return FixResult(text, fixed, findings, converged=not wanted(findings, unsafe))


def apply_fixes(text: str, findings: Iterable[Finding]) -> tuple[str, list[Finding]]:
    """Apply every fix whose edits touch no edit already taken (earliest first); the rest wait for the next pass."""
    taken: list[Edit] = []
    applied = []
    for finding in sorted(findings, key=lambda f: min(e.start for e in f.fix.edits)):
        edits = finding.fix.edits
        if all(0 <= e.start <= e.end <= len(text) for e in edits) and not any(
                _overlap(a, b) for a in edits for b in [*taken, *(e for e in edits if e is not a)]):
            taken.extend(edits)
            applied.append(finding)
    for edit in sorted(taken, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end:]
    return text, applied


def _overlap(a: Edit, b: Edit) -> bool:
    """Two edits that share a character, or insert at the same place (their order would be a guess)."""
    return (a.start < b.end and b.start < a.end) or a.start == b.start


def ensure_parses(new: str, old: str, applied: Iterable[Finding] = ()) -> None:
    """Raise FixError unless `new` parses (and compiles, when `old` did)."""
    codes = ", ".join(sorted({f.code for f in applied}))
    problem = f"the fixes for {codes}" if codes else "the change"
    try:
        cst.parse_module(new)
    except cst.ParserSyntaxError:
        raise FixError(f"{problem} would give code that does not parse; nothing was written. "
                       "Please report it with this file.") from None
    if _compiles(old) and not _compiles(new):
        raise FixError(f"{problem} would give code that does not compile; nothing was written. "
                       "Please report it with this file.")


def _compiles(text: str) -> bool:
    try:
        compile(text, "<optlint-fix>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def read_for_rewrite(path: str) -> files.SourceFile:
    """The decoded file, when writing its text back in its encoding gives its bytes back exactly."""
    data = files.read(path)
    try:
        source = files.decode(data, path)
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        raise FixError(f"cannot decode the file ({error}); nothing was written") from None
    if source.text.encode(source.encoding) != data:
        raise FixError(f"its bytes do not survive a decode/encode round trip in {source.encoding}; "
                       "nothing was written")
    return source


def write_back(source: files.SourceFile, text: str) -> None:
    """Write `text` over the file in the original's encoding (a UTF-8 BOM comes back with 'utf-8-sig')."""
    try:
        data = text.encode(source.encoding)
    except UnicodeEncodeError as error:
        raise FixError(f"the fixed text cannot be written in {source.encoding} ({error.reason}); "
                       "nothing was written") from None
    try:
        # read_for_rewrite made sure the original's bytes are its text encoded back
        files.write_atomic(source.path, data, expected=source.text.encode(source.encoding))
    except files.RewriteRefused as error:
        raise FixError(str(error)) from None
    except OSError as error:
        raise FixError(f"cannot write the file ({error.strerror or error}); it is unchanged") from None


def fix_file(path: str, lint: Lint, *, unsafe: bool = False, write: bool = True) -> tuple[str, FixResult]:
    """The file's text before, and the result; the file is rewritten when `write` and anything changed."""
    source = read_for_rewrite(path)
    result = fix_text(source.text, lint, unsafe=unsafe)
    if write and result.text != source.text:
        write_back(source, result.text)
    return source.text, result


def fix_notebook(path: str, lint: Lint, *, unsafe: bool = False, write: bool = True) -> tuple[str, FixResult]:
    """fix_file for a notebook: `lint` sees its code cells as one module; the result's text is the
    notebook's JSON with the fixed cells' sources, and its findings are placed in their cells."""
    source = read_for_rewrite(path)
    notebook = _notebook(source.text)
    result = fix_text(notebook.view, lint, unsafe=unsafe)
    text = _notebook_text(notebook, result.text)
    if write and text != source.text:
        write_back(source, text)
    fixed = _notebook(text)
    remaining = result.remaining if fixed.view == result.text else lint(fixed.view)
    return source.text, dataclasses.replace(result, text=text, remaining=fixed.place(remaining))


def _notebook(text: str) -> notebooks.Notebook:
    try:
        return notebooks.read(text)
    except notebooks.NotebookError as error:
        raise FixError(f"{error}; nothing was written") from None


def _notebook_text(notebook: notebooks.Notebook, view: str) -> str:
    try:
        return notebooks.rewritten(notebook, view)
    except notebooks.NotebookError as error:
        raise FixError(str(error)) from None


def unified_diff(old: str, new: str, path: str) -> str:
    """A `diff -u` of the change (line endings kept), the way `--diff` prints it."""
    return "".join(difflib.unified_diff(_diff_lines(old), _diff_lines(new), f"{path}", f"{path}"))


def _diff_lines(text: str) -> list[str]:
    lines = files.split_lines(text, keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
