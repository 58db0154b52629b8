"""Run the rules over one file: parse -> semantic model -> rules -> findings (noqa applied).

Positions are computed only for files that have something to report, and then only for the top-level
statements that hold a finding (optlint.static.positions): libcst's PositionProvider generates the
code of what it places.
"""

from __future__ import annotations

import functools
import re
from typing import Callable, Iterable

from optlint.static.libcst_import import import_libcst

import_libcst()  # before anything below imports libcst the slow way

import libcst as cst  # noqa: E402
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider  # noqa: E402

from optlint import facts as torch_facts  # noqa: E402
from optlint.findings import Edit, Finding, Fix  # noqa: E402
from optlint.static.files import code_can_hold_finding, configured_names, line_offsets, split_lines  # noqa: E402
from optlint.static.noqa import file_exemption  # noqa: E402
from optlint.static.parse import parse_with_python_tree  # noqa: E402
from optlint.static.positions import from_python_lines  # noqa: E402
from optlint.static.reparse import Document  # noqa: E402
from optlint.static.project.index import FileView, current as current_project  # noqa: E402
from optlint.static.rule import FileContext, Replace, Rule  # noqa: E402
from optlint.static.rules import all_rules  # noqa: E402
from optlint.static.semantic.model import SemanticModel  # noqa: E402

class _Default:
    """lint_source's `project` when the caller gives none."""


NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,?\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def lint_source(
    source: str,
    filename: str = "-",
    rules: Iterable[type[Rule]] | None = None,
    settings: dict | None = None,
    document: Document | None = None,
    project: FileView | None | type[_Default] = _Default,
    prefilter: bool = True,
) -> list[Finding]:
    """All findings for one file's text, noqa applied, sorted by position. `document`: the text's
    earlier parse, to re-parse only what changed (the language server). `project`: what the file sees
    of the project's other modules (by default, the run's view from `filename`). `prefilter`: skip
    libcst for valid Python whose code names no torch class and no scheduler (files.code_can_hold_finding)."""
    needed = functools.partial(code_can_hold_finding, configured_names=configured_names(settings)) if prefilter else None
    parsed = _parsed(source, filename, document, needed)
    if parsed is None:
        return []
    if isinstance(parsed, Finding):
        return [parsed]
    module, position = parsed
    if project is _Default:
        project = current_project().view(filename)
    model = SemanticModel(module, torch_facts.load((settings or {}).get("target_torch")), project)
    ctx = FileContext(module, model, source, settings or {})
    for rule in rules if rules is not None else all_rules():
        ctx.current_code = rule.code
        rule().check(ctx)
    if not ctx.reports:
        return []
    exempted = file_exemption(source)
    findings = [f for f in _to_findings(ctx, source, filename, position) if not exempted(f.code)]
    return sorted(_without_noqa(findings, split_lines(source)), key=Finding.sort_key)


def _parsed(source: str, filename: str, document: Document | None, needed):
    """(module, where each of its nodes is), OPT000, or None when `needed` says the file needs no parse."""
    if document is not None:
        module = document.parse(source, filename)
        return module if isinstance(module, Finding) else (module, document.position)
    parsed = parse_with_python_tree(source, filename, needed=needed)
    if parsed is None or isinstance(parsed, Finding):
        return parsed
    module, tree = parsed
    return module, from_python_lines(module, tree, source) or _whole_file_positions(module)


def _whole_file_positions(module: cst.Module) -> Callable[[cst.CSTNode], CodeRange]:
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider).__getitem__


def _to_findings(ctx: FileContext, source: str, filename: str, position) -> list[Finding]:
    offsets = line_offsets(source)
    findings, seen = [], set()
    for report in ctx.reports:
        where = position(report.node)
        key = (report.code, where.start.line, where.start.column)
        if key in seen:
            continue  # the same node reached twice (nested loops, helpers)
        seen.add(key)
        fix = None
        if report.fix_title and report.edits:
            edits = _edits(report.edits, position, offsets, source)
            fix = Fix(report.fix_title, edits, report.safe)
        findings.append(
            Finding(
                report.code,
                report.message,
                filename,
                where.start.line,
                where.start.column + 1,
                where.end.line,
                where.end.column + 1,
                fix,
                report.hint,
            )
        )
    return findings


def _edits(edits, position, offsets, source: str) -> tuple[Edit, ...]:
    def span(node):
        where = position(node)
        return offsets[where.start.line - 1] + where.start.column, offsets[where.end.line - 1] + where.end.column

    result = []
    for edit in edits:
        if isinstance(edit, Replace):
            start, end = span(edit.node)
            result.append(Edit(start, end, edit.text))
        else:
            first, second = _with_own_comment(source, *span(edit.first)), _with_own_comment(source, *span(edit.second))
            result.append(Edit(*first, source[slice(*second)]))
            result.append(Edit(*second, source[slice(*first)]))
    return tuple(sorted(result, key=lambda e: e.start))


TRAILING_COMMENT = re.compile(r"[ \t]*#[^\r\n]*")


def _with_own_comment(source: str, start: int, end: int) -> tuple[int, int]:
    """A swapped statement takes its trailing comment along (`sched.step()  # decay`), when it is the
    only code on its line; inside a longer line the comment is the line's, and stays."""
    line_start = max(source.rfind("\n", 0, start), source.rfind("\r", 0, start)) + 1  # \r alone ends a line too
    comment = TRAILING_COMMENT.match(source, end)
    if comment and source[line_start:start].strip() == "":
        return start, comment.end()
    return start, end


def _without_noqa(findings: list[Finding], lines: list[str]) -> Iterable[Finding]:
    for finding in findings:
        line = lines[finding.row - 1] if 0 < finding.row <= len(lines) else ""
        match = NOQA.search(line)
        if match is None:
            yield finding
        elif match.group("codes") is not None:
            codes = set(re.findall(r"[A-Z]+[0-9]+", match.group("codes").upper()))
            if finding.code not in codes:
                yield finding
