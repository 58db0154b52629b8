"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff.

`::error file=train.py,line=18,col=45,endLine=18,endColumn=57,title=OPT001 unknown-optimizer-kwarg::message`
"""

from __future__ import annotations

from optlint.findings import Severity


def render(findings, **_) -> str:
    return "\n".join(annotation(f) for f in findings)


def annotation(f) -> str:
    command = "error" if f.severity == Severity.ERROR else "warning"
    properties = {
        "file": f.filename,
        "line": f.row,
        "col": f.column,
        "endLine": f.end_row,
        "endColumn": f.end_column,
        "title": f"{f.code} {f.name}",
    }
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
    message = f"{f.message}\nHINT: {f.hint}" if f.hint else f.message
    return f"::{command} {listed}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    """The runner's own escaping (actions/toolkit `escapeData`): a newline would end the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
