"""`--statistics`: how many findings of each code, instead of the findings themselves (like ruff's)."""

from __future__ import annotations

import json
from collections import Counter

from optlint.report.text import summary


def render(findings, fmt: str = "text", total: int | None = None, **_) -> str:
    """`total`: the number of files checked, to end the text with the summary line (None: no summary)."""
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if f.fix is not None and f.fix.safe}
    names = {f.code: f.name for f in findings}
    rows = [{"code": code, "name": names[code], "count": n, "fixable": code in fixable}
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    width = max((len(str(row["count"])) for row in rows), default=1)
    lines = [f"{row['count']:>{width}}  {row['code']}  {'[*]' if row['fixable'] else '   '} {row['name']}"
             for row in rows]
    return "\n".join(lines if total is None else [*lines, summary(findings, total)])
