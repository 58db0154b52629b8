"""Findings, the one data type both passes report, and rule selection.

A finding's name and severity come from the registry (`optlint.registry`, read from the rule pages),
so neither pass, nor libcst, nor torch is imported to print one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from optlint.registry import RuleInfo, Severity, registry


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 0-based character offsets of the file."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    filename: str = "-"
    row: int = 1  # 1-based
    column: int = 1  # 1-based
    end_row: int = 1
    end_column: int = 1
    fix: Fix | None = None
    hint: str | None = None
    cell: int | None = None  # in a notebook: the code cell (1-based among all cells), and rows are the cell's
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def info(self) -> RuleInfo:
        return registry()[self.code]

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def severity(self) -> Severity:
        return self.info.severity

    def sort_key(self):
        return (self.filename, self.cell or 0, self.row, self.column, self.code)


def decide(code: str, chosen: Sequence[str], ignored: Sequence[str], default: bool, opt_in: bool) -> bool:
    """Is `code` selected? The most specific selector wins, `ignore` wins a tie, only a full code selects
    an opt-in rule; when no selector names the code: `default`. Shared by the config and the runtime check."""
    select = _specificity(code, chosen, exact_only=opt_in)
    ignore = _specificity(code, ignored)
    if select < 0 and ignore < 0:
        return default
    return select > ignore


def _specificity(code: str, selectors: Sequence[str], exact_only: bool = False) -> int:
    return max((len(s) for s in selectors if code.startswith(s) and (s == code or not exact_only)), default=-1)
