"""A rule's examples (Fixit's `Valid`/`Invalid`): snippets that pin what the rule reports, where, and
what `--fix` makes of it. tests/test_rule_examples.py runs every rule's examples.

Snippets are written as indented triple-quoted strings; they are dedented, and the newline after the
opening quotes dropped, so positions are counted in the snippet as it reads. A rule reports only its
own code (a runtime twin shares it), so an example names positions, never codes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Iterable


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
    row, column = spot.split(":")
    return int(row), int(column)


def fixable(invalid: Iterable[Invalid]) -> bool:
    """A rule offers a fix when one of its examples shows it (Fixit derives AUTOFIX the same way)."""
    return any(example.fixed is not None for example in invalid)
