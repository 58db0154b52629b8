"""A rule's examples (Fixit's `Valid`/`Invalid`): snippets that pin what the rule reports, where, and
what `--fix` makes of it. tests/test_rule_examples.py runs every rule's examples.

Snippets are written as indented triple-quoted strings; they are dedented, and the newline after the
opening quotes dropped, so positions are counted in the snippet as it reads. A rule reports only its
own code (a runtime twin shares it), so an example names positions, never codes. `problems` is the
generic check (Fixit's testing.py): it lints and fixes the way `optlint check --fix` does.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from optlint.findings import Finding
    from optlint.static.rule import Rule


def snippet(text: str) -> str:
    """The text of a triple-quoted snippet: dedented, without the newline that opens it."""
    return textwrap.dedent(text).removeprefix("\n")


@dataclass(frozen=True)
class Valid:
    """A snippet that gives no finding of the rule."""

    source: str

    def __post_init__(self):
        object.__setattr__(self, "source", snippet(self.source))


@dataclass(frozen=True)
class Invalid:
    """A snippet that gives exactly the findings at `at` ("row:column", 1-based; a tuple for several).

    `fixed`: the text after `optlint check --fix`, which then gives no finding of the rule; None when
    no finding of the snippet carries a fix. `message`: a part of every finding's message.
    """

    source: str
    at: str | tuple[str, ...]
    fixed: str | None = None
    message: str | None = None
    positions: tuple[tuple[int, int], ...] = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "source", snippet(self.source))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", snippet(self.fixed))
        spots = (self.at,) if isinstance(self.at, str) else self.at
        object.__setattr__(self, "positions", tuple(sorted(_position(spot) for spot in spots)))


def _position(spot: str) -> tuple[int, int]:
    row, _, column = spot.partition(":")
    if not (row.isdigit() and column.isdigit()):
        raise ValueError(f"at={spot!r}: write the finding's row:column, as in at=\"3:12\"")
    return int(row), int(column)


def fixable(invalid: Iterable[Invalid]) -> bool:
    """A rule offers a fix when one of its examples shows it (Fixit derives AUTOFIX the same way)."""
    return any(example.fixed is not None for example in invalid)


def problems(rule: type[Rule], example: Valid | Invalid) -> list[str]:
    """How `rule` differs from its example; empty when the example holds."""
    found = _findings(rule, example.source)
    if isinstance(example, Valid):
        return [f"unexpected finding at {f.row}:{f.column}" for f in found]
    at = sorted((f.row, f.column) for f in found)
    if at != list(example.positions):
        return [f"findings at {_spots(at)}, expected at {_spots(example.positions)}"]
    wrong = [f.message for f in found if example.message is not None and example.message not in f.message]
    return [f"message without {example.message!r}: {m}" for m in wrong] + _fix_problems(rule, example, found)


def _fix_problems(rule: type[Rule], example: Invalid, found: list[Finding]) -> list[str]:
    from optlint.static.fix import fix_text

    if example.fixed is None:
        return [f"unexpected fix at {f.row}:{f.column}" for f in found if f.fix is not None]
    result = fix_text(example.source, lambda text: _findings(rule, text))  # the passes of `--fix`
    if result.text != example.fixed:
        return [f"--fix gives {result.text!r}, expected {example.fixed!r}"]
    return [f"the fixed text still has a finding at {f.row}:{f.column}" for f in result.remaining]


def _findings(rule: type[Rule], text: str) -> list[Finding]:
    """What `optlint check` reports of `rule` with only it selected."""
    from optlint.static.runner import lint_text

    return [f for f in lint_text(text, "example.py", rules=[rule]) if f.code == rule.code]


def _spots(positions) -> str:
    return ", ".join(f"{row}:{column}" for row, column in positions) or "nowhere"
