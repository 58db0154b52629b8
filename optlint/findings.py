"""Findings and the rule registry: code -> name, severity, summary, doc page.

Static rules register by subclassing `optlint.static.rule.Rule`; runtime rules are declared in
`optlint.runtime.codes` (no torch import). Both feed one registry, so `optlint rules`, `explain`,
`--select` and SARIF metadata see every code. A rule checked by both passes (OPT111) is declared once,
in `codes`, with kind "static+runtime"; its static Rule class is built from that declaration.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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
    kind: str = "static"  # "static", "runtime", or "static+runtime" for a rule both passes check
    default_enabled: bool = True

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.kind.split("+"))


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


# Reported by the engine itself (not a rule module): a file that does not parse or cannot be decoded.
SYNTAX_ERROR = RuleInfo("OPT000", "syntax-error", Severity.ERROR, "A file does not parse, or cannot be decoded.")


@functools.cache
def registry() -> dict[str, RuleInfo]:
    from optlint.runtime.codes import RUNTIME_RULES
    from optlint.static.rules import all_rules

    return _by_code([SYNTAX_ERROR, *(rule.info() for rule in all_rules()), *RUNTIME_RULES])


def _by_code(infos: Iterable[RuleInfo]) -> dict[str, RuleInfo]:
    """One entry per code. A code declared twice (a static and a runtime twin) must be declared identically."""
    by_code: dict[str, RuleInfo] = {}
    for info in infos:
        known = by_code.setdefault(info.code, info)
        if known != info:
            raise ValueError(f"{info.code} is declared twice with different metadata: {known} and {info}")
    return dict(sorted(by_code.items()))


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


@functools.cache
def known_codes() -> tuple[str, ...]:
    """Every rule code, without importing the rule modules (and libcst): static codes come from the
    rule modules' file names (`opt011_...py`), runtime codes from their import-light table."""
    import pkgutil

    from optlint.runtime.codes import RUNTIME_RULES
    from optlint.static import rules

    static = {m.name[:6].upper() for m in pkgutil.iter_modules(rules.__path__) if m.name[:3] == "opt"}
    return tuple(sorted(static | {info.code for info in RUNTIME_RULES} | {SYNTAX_ERROR.code}))


def docs_dir() -> Path:
    """The rule pages: `rules/` in a checkout, `optlint/rule_docs/` in a wheel (a symlink here)."""
    from importlib import resources  # not at the top: most runs never open a page

    return Path(str(resources.files("optlint") / "rule_docs"))


def doc_page(code: str) -> str | None:
    page = docs_dir() / f"{code}.md"
    return page.read_text(encoding="utf-8") if page.is_file() else None
