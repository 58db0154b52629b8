"""GitLab Code Quality report: a JSON list GitLab shows on the merge request (`artifacts: reports:
codequality:`). The fields are GitLab's (docs.gitlab.com, "Code Quality", custom tool format), shaped
as ruff's `--output-format gitlab`.

The fingerprint identifies a finding across commits, so it hashes the path, the code and the message,
not the line (a line added above must not make it a new finding); a second finding with the same three
in one file gets the next fingerprint of its own, as GitLab needs them unique.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from optlint.findings import Severity
from optlint.report.locations import repository_path

# GitLab's scale is info, minor, major, critical, blocker; ruff reports everything as major.
SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def render(findings, **_) -> str:
    seen: Counter = Counter()
    issues = []
    for f in findings:
        path = repository_path(f.filename)
        identity = f"{path}\0{f.code}\0{f.message}"
        seen[identity] += 1
        issues.append({
            "check_name": f.code,
            # GitLab shows the description, not the check name: the code leads it, as in ruff's.
            "description": f"{f.code}: {f.message}",
            "severity": SEVERITY[f.severity],
            "fingerprint": hashlib.sha256(f"{identity}\0{seen[identity]}".encode()).hexdigest(),
            "location": {"path": path, "positions": {"begin": {"line": f.row, "column": f.column},
                                                     "end": {"line": f.end_row, "column": f.end_column}}},
        })
    return json.dumps(issues, indent=2)
