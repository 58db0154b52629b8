"""What a static rule is and sees (Fixit-style: one small class per file, examples beside it).

A rule reads the file's semantic model and calls `ctx.report(node, message, ...)`. Adding a rule
means adding its module under `optlint/static/rules/` (its class declares `code` and its logic), its
page `rules/OPTxxx.md` (the declaration: name, severity, fix, ... see optlint.registry) and fixtures:
the engine and the registry find them by themselves. A rule module imports this module, its
examples and `optlint.static.semantic`, which answers every question about the code (tests/test_semantic.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from optlint import facts as torch_facts
from optlint.registry import RuleInfo, registry
from optlint.static.semantic.model import SemanticModel


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


@dataclass
class Report:
    code: str
    node: cst.CSTNode
    message: str
    hint: str | None
    fix_title: str | None
    edits: tuple[Replace | Swap, ...]
    safe: bool


@dataclass
class FileContext:
    """What a rule sees: the tree, the semantic model, the torch facts, and `report`."""

    module: cst.Module
    model: SemanticModel
    source: str  # the text the module was parsed from (`module.code` would generate it again)
    settings: dict = field(default_factory=dict)  # rule settings from [tool.optlint]: see optlint.config.SETTINGS
    reports: list[Report] = field(default_factory=list)
    current_code: str = ""

    @property
    def facts(self) -> torch_facts.TorchFacts:
        return self.model.facts

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        hint: str | None = None,
        fix: str | None = None,
        edits: Iterable[Replace | Swap] = (),
        safe: bool = True,
    ) -> None:
        self.reports.append(Report(self.current_code, node, message, hint, fix, tuple(edits), safe))


class Rule:
    """A rule class declares its `code` and its logic; the rest of it is its page's declaration."""

    code: ClassVar[str]
    # `Valid`/`Invalid` examples (optlint.static.examples), run by tests/test_rule_examples.py: where the
    # rule reports and what its fix gives.
    VALID: ClassVar[tuple] = ()
    INVALID: ClassVar[tuple] = ()

    @classmethod
    def info(cls) -> RuleInfo:
        return registry()[cls.code]

    def check(self, ctx: FileContext) -> None:
        raise NotImplementedError
