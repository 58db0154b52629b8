"""The base class of every static rule (Fixit-style: one small class per file, examples beside it).

A rule reads the file's semantic model and calls `ctx.report(node, message, ...)`. Adding a rule
means adding its module under `optlint/static/rules/`, its page `rules/OPTxxx.md` and fixtures:
the engine and the registry find it by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from optlint.findings import RuleInfo, Severity

if TYPE_CHECKING:
    from optlint.static.engine import FileContext
    from optlint.static.examples import Invalid, Valid


@dataclass(frozen=True)
class Replace:
    """A fix edit: replace `node`'s source with `text`."""

    node: cst.CSTNode
    text: str


@dataclass(frozen=True)
class Swap:
    """A fix edit: exchange the source of two sibling statements."""

    first: cst.CSTNode
    second: cst.CSTNode


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    default_enabled: ClassVar[bool] = True
    # A rule the runtime check reports too: its one declaration in optlint.runtime.codes.
    twin: ClassVar[RuleInfo | None] = None
    # Examples run by tests/test_rule_examples.py: where the rule reports and what its fix gives.
    VALID: ClassVar[tuple[Valid, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()

    def __init_subclass__(cls, twin: RuleInfo | None = None, **kwargs):
        """`class AdamWithWeightDecay(Rule, twin=ADAM_WITH_WEIGHT_DECAY)` takes its code, name, severity,
        summary and selection from the runtime declaration, so the two cannot drift apart."""
        super().__init_subclass__(**kwargs)
        if twin is not None:
            cls.twin = twin
            cls.code, cls.name, cls.severity, cls.summary = twin.code, twin.name, twin.severity, twin.summary
            cls.default_enabled = twin.default_enabled

    @classmethod
    def info(cls) -> RuleInfo:
        if cls.twin is not None:
            return cls.twin
        return RuleInfo(cls.code, cls.name, cls.severity, cls.summary, "static", cls.default_enabled)

    def check(self, ctx: FileContext) -> None:
        raise NotImplementedError
