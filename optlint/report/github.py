"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff.

`::error file=train.py,line=18,col=45,endLine=18,endColumn=57,title=OPT001 unknown-optimizer-kwarg::message`
"""

from __future__ import annotations

from optlint.findings import Severity
from optlint.report.escape import escape
from optlint.report.locations import repository_path


def render(findings, **_) -> str:
    return "\n".join(annotation(f) for f in findings)


def annotation(f) -> str:
    command = "error" if f.severity == Severity.ERROR else "warning"
    properties = {
        "file": _shown(repository_path(f.filename)),
        "line": f.row,
        "col": f.column,
        "endLine": f.end_row,
        "endColumn": f.end_column,
        "title": f"{f.code} {f.name}" + (f" (cell {f.cell})" if f.cell else ""),
    }
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    message = f"{f.message}\nHINT: {f.hint}" if f.hint else f.message
    return f"::{command} {listed}::{_escape_data(_shown(message))}"


def _shown(text: str) -> str:
    """Control characters as Python escapes, but line breaks left to GitHub's own escaping below (an
    annotation may span lines, and a file name stays the repository's)."""
    return escape(text, keep_line_breaks=True)


def _escape_data(text: str) -> str:
    """The runner's own escaping (actions/toolkit `escapeData`): a newline would end the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
