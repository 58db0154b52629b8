"""Findings in the editor's terms: diagnostics, the quick fixes and noqa edits of code actions, hovers.

Fixes go through the CLI's own functions (optlint.static.fix, optlint.static.add_noqa) on the linted
text; the result is sent as the one replacement that turns the old text into the new, so the editor
keeps the cursor and the undo history sensible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

from optlint.findings import Finding
from optlint.registry import Severity, doc_page, docs_dir
from optlint.server.targets import Change, Place, Target, change_between
from optlint.static.files import split_lines

SOURCE = "optlint"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.optlint"
SEVERITIES = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning}


@dataclass(frozen=True)
class Published:
    """A finding as it was shown: kept so that a code action or hover on it finds the finding again."""

    diagnostic: types.Diagnostic
    finding: Finding
    target: Target


class Positions:
    """Code-point positions of a target's documents in the client's units (UTF-16 unless negotiated)."""

    def __init__(self, target: Target, codec: PositionCodec):
        self.target, self.codec = target, codec
        self._lines: dict[str, list[str]] = {}

    def lines(self, uri: str) -> list[str]:
        if uri not in self._lines:
            self._lines[uri] = split_lines(self.target.documents.get(uri, ""), keepends=True)
        return self._lines[uri]

    def position(self, place: Place) -> types.Position:
        where = ServerTextPosition(place.line, place.character)
        return self.codec.position_to_client_units(self.lines(place.uri), where)

    def range(self, start: Place, end: Place) -> types.Range:
        return types.Range(self.position(start), self.position(end))


def rule_href(code: str) -> str:
    """The rule's page as shipped with optlint (the one `optlint explain` prints)."""
    return (docs_dir() / f"{code}.md").resolve().as_uri()


def published(target: Target, findings: Iterable[Finding], positions: Positions) -> dict[str, list[Published]]:
    """Every document of the target (each cell of a notebook) with the findings shown in it."""
    by_uri: dict[str, list[Published]] = {uri: [] for uri in target.documents}
    findings = list(findings)
    for finding, (start, end) in zip(findings, target.spans(findings)):
        by_uri.setdefault(start.uri, []).append(Published(_diagnostic(finding, positions.range(start, end)),
                                                          finding, target))
    return by_uri


def _diagnostic(finding: Finding, where: types.Range) -> types.Diagnostic:
    message = f"{finding.message}\n{finding.hint}" if finding.hint else finding.message
    return types.Diagnostic(
        range=where, message=message, severity=SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code, code_description=types.CodeDescription(href=rule_href(finding.code)), source=SOURCE)


def code_actions(shown: list[Published], context: types.CodeActionContext, positions_of,
                 lint_text: Callable[[str], list[Finding]]) -> list[types.CodeAction]:
    """The quick fix and the noqa edit of each finding the request names, and "fix all" for the target."""
    asked = {(d.code, _range_key(d.range)) for d in context.diagnostics}
    chosen = [p for p in shown if (p.diagnostic.code, _range_key(p.diagnostic.range)) in asked]
    actions = []
    for item in chosen:
        positions = positions_of(item.target)
        if (fix := _quick_fix(item, positions)) is not None:
            actions.append(fix)
        if (noqa := _noqa(item, positions)) is not None:
            actions.append(noqa)
    kind = types.CodeActionKind.QuickFix if context.diagnostics else FIX_ALL_KIND
    if shown and (fix_all := _fix_all(shown[0].target, positions_of(shown[0].target), lint_text, kind)):
        actions.append(fix_all)
    return [action for action in actions if _wanted(action.kind, context.only)]


def _range_key(where: types.Range) -> tuple[int, int, int, int]:
    return where.start.line, where.start.character, where.end.line, where.end.character


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == asked or kind.startswith(f"{asked}.") for asked in only)


def _quick_fix(item: Published, positions: Positions) -> types.CodeAction | None:
    from optlint.static.fix import FixError, apply_fixes, ensure_parses, wanted

    if not wanted([item.finding]):
        return None
    text = item.target.text
    new, applied = apply_fixes(text, [item.finding])
    try:
        ensure_parses(new, text, applied)
    except FixError:
        return None
    return _action(f"{item.finding.code}: {item.finding.fix.title}", types.CodeActionKind.QuickFix,
                   change_between(item.target, new), positions, [item.diagnostic], preferred=True)


def _noqa(item: Published, positions: Positions) -> types.CodeAction | None:
    from optlint.static.add_noqa import add_noqa

    outcome = add_noqa(item.target.text, [item.finding])
    if not outcome.added:
        return None
    return _action(f"{item.finding.code}: add `# noqa: {item.finding.code}`", types.CodeActionKind.QuickFix,
                   change_between(item.target, outcome.text), positions, [item.diagnostic])


def _fix_all(target: Target, positions: Positions, lint_text, kind: str) -> types.CodeAction | None:
    from optlint.static.fix import FixError, fix_text

    try:
        result = fix_text(target.text, lint_text)
    except FixError:
        return None
    return _action("optlint: fix all safe problems", kind, change_between(target, result.text), positions)


def _action(title: str, kind: str, change: Change | None, positions: Positions,
            diagnostics: list[types.Diagnostic] | None = None, preferred: bool = False) -> types.CodeAction | None:
    if change is None:
        return None
    edit = types.TextEdit(positions.range(change.start, change.end), change.text)
    return types.CodeAction(title=title, kind=kind, diagnostics=diagnostics, is_preferred=preferred or None,
                            edit=types.WorkspaceEdit(changes={change.start.uri: [edit]}))


def hover(shown: list[Published], position: types.Position) -> types.Hover | None:
    """The rule page of every finding under the cursor."""
    here = [p for p in shown if _contains(p.diagnostic.range, position)]
    if not here:
        return None
    findings = {p.finding.code: p.finding for p in here}.values()
    pages = [doc_page(f.code).strip() for f in findings]
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(pages)))


def _contains(where: types.Range, position: types.Position) -> bool:
    start, end = (where.start.line, where.start.character), (where.end.line, where.end.character)
    return start <= (position.line, position.character) <= end
