"""Findings and the rule registry: code -> name, severity, summary, doc page.

Static rules register by subclassing `optlint.static.rule.Rule`; runtime rules are declared in
`optlint.runtime.codes` (no torch import). Both feed one registry, so `optlint rules`, `explain`,
`--select` and SARIF metadata see every code.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    kind: str = "static"  # "static" or "runtime"
    default_enabled: bool = True


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
        return (self.filename, self.row, self.column, self.code)


# Reported by the engine itself (not a rule module): a file that does not parse or cannot be decoded.
SYNTAX_ERROR = RuleInfo("OPT000", "syntax-error", Severity.ERROR, "A file does not parse, or cannot be decoded.")


@functools.cache
def registry() -> dict[str, RuleInfo]:
    from optlint.runtime.codes import RUNTIME_RULES
    from optlint.static.rules import all_rules

    infos = [SYNTAX_ERROR] + [rule.info() for rule in all_rules()] + list(RUNTIME_RULES)
    return {info.code: info for info in sorted(infos, key=lambda i: i.code)}


def docs_dir() -> Path:
    """The rule pages: `rules/` in a checkout, `optlint/rule_docs/` in a wheel (a symlink here)."""
    return Path(str(resources.files("optlint") / "rule_docs"))


def doc_page(code: str) -> str | None:
    page = docs_dir() / f"{code}.md"
    return page.read_text(encoding="utf-8") if page.is_file() else None
