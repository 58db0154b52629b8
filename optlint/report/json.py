"""ruff-style JSON: a list of findings with 1-based rows and columns."""

from __future__ import annotations

import json


def finding_to_dict(f) -> dict:
    fix = None
    if f.fix is not None:
        fix = {
            "message": f.fix.title,
            "applicability": "safe" if f.fix.safe else "unsafe",
            "edits": [{"start": e.start, "end": e.end, "content": e.replacement} for e in f.fix.edits],
        }
    return {
        "code": f.code,
        "name": f.name,
        "severity": str(f.severity),
        "message": f.message,
        "hint": f.hint,
        "filename": f.filename,
        "cell": f.cell,  # a notebook's code cell (1-based among all cells, as ruff's), rows are then the cell's
        "location": {"row": f.row, "column": f.column},
        "end_location": {"row": f.end_row, "column": f.end_column},
        "fix": fix,
    }


def render(findings, **_) -> str:
    return json.dumps([finding_to_dict(f) for f in findings], indent=2)
