"""ruff-style JSON: a list of findings with 1-based rows and columns.

The keys ruff's JSON has (`code`, `message`, `filename`, `location`, `end_location`, `fix` with
`applicability`, `message` and `edits` holding `content`, `location`, `end_location`, `noqa_row`,
`url`, `cell`) mean what they mean there, so a tool that reads ruff's output reads optlint's; optlint
adds `name`, `severity`, `hint`, and each edit's 0-based character offsets `start` and `end`.
"""

from __future__ import annotations

import bisect
import functools
import json
from typing import Callable

from optlint.report.locations import rule_url


def finding_to_dict(f, positions: Callable[..., Callable] = lambda name, cell: _positions(None)) -> dict:
    """`positions(filename, cell)`: offset -> row and column in that file or notebook cell (see _positions)."""
    fix = None
    if f.fix is not None:
        where = positions(f.filename, f.cell)
        fix = {
            "message": f.fix.title,
            "applicability": "safe" if f.fix.safe else "unsafe",
            "edits": [{"start": e.start, "end": e.end, "content": e.replacement, "location": where(e.start),
                       "end_location": where(e.end)} for e in f.fix.edits],
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
        "noqa_row": f.row,  # where `# noqa: CODE` silences it (engine.py reads the finding's first row)
        "url": rule_url(f.code),
    }


def _positions(text: str | None) -> Callable[[int], dict | None]:
    """offset -> {"row", "column"} (1-based) in `text`; None for each offset when the text is unknown."""
    if text is None:
        return lambda offset: None
    from optlint.static.files import split_lines

    starts = [0]
    for line in split_lines(text, keepends=True):
        starts.append(starts[-1] + len(line))

    def where(offset: int) -> dict:
        row = bisect.bisect_right(starts, offset) - 1
        return {"row": row + 1, "column": offset - starts[row] + 1}

    return where


def render(findings, text_of: Callable[[str, int | None], str | None] = lambda name, cell: None, **_) -> str:
    """`text_of(filename, cell)`: the file's (or notebook cell's) text, to place each fix edit by row and column."""
    positions = functools.cache(lambda filename, cell: _positions(text_of(filename, cell)))
    return json.dumps([finding_to_dict(f, positions) for f in findings], indent=2)
