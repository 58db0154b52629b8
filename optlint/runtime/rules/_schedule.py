"""What the schedule rules (OPT107, OPT108, OPT112) write alike: groups and LRs."""

from __future__ import annotations

from optlint.runtime.analysis import Analysis
from optlint.runtime.naming import join_and


def groups(analysis: Analysis, indices: list[int]) -> str:
    """`0 (`backbone.*`) and 1 (`head.*`)`."""
    return join_and(analysis.label(g) for g in indices)


def lrs(values: list[float]) -> str:
    return ", ".join(f"{lr:.4g}" for lr in values)
