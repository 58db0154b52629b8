"""`path:row:col: CODE message`, a HINT line, and a summary: what a person reads in a terminal."""

from __future__ import annotations

from collections import Counter


def render(findings, *, show_hints: bool = True, files_checked: int | None = None, **_) -> str:
    lines = []
    for f in findings:
        lines.append(f"{f.filename}:{f.row}:{f.column}: {f.code} [{f.severity}] {f.message}")
        if show_hints and f.hint:
            lines.append(f"    HINT: {f.hint}")
    lines.append(summary(findings, files_checked))
    return "\n".join(lines)


def summary(findings, files_checked: int | None = None) -> str:
    checked = f" in {files_checked} file{'s' * (files_checked != 1)}" if files_checked is not None else ""
    if not findings:
        return f"All checks passed{checked}."
    severities = Counter(str(f.severity) for f in findings)
    parts = [f"{n} {s}{'s' * (n != 1)}" for s, n in sorted(severities.items())]
    fixable = sum(1 for f in findings if f.fix is not None and f.fix.safe)
    tail = f" ({fixable} fixable with --fix)" if fixable else ""
    return f"Found {len(findings)} problem{'s' * (len(findings) != 1)}{checked}: {', '.join(parts)}{tail}."
