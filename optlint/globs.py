"""Globs matched in time linear in the path: `**` crosses directories, `*` and `?` do not, `[...]`
is a character class (`[!...]` its complement).

A regex translation (`*` -> `[^/]*`) backtracks: `*a*a*a*a*a*a*a*a*a*a*a*a*b` against a 64-character
name runs for hours in `re`, and in pathspec, which translates the same way. Here a pattern is an
automaton, run on every state at once (Thompson's simulation): each character of the path costs at
most one look at each state, so a match takes len(path) x len(pattern) steps at worst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

_TOKENS = re.compile(r"(\*\*/|\*\*|\*|\?|\[!?[^\]]+\])")
_ANY, _NOT_SLASH = "any", "not-slash"


class GlobError(ValueError):
    """A pattern whose character class is not one (`[!]`, `[z-a]`)."""


@dataclass(frozen=True)
class _State:
    step: str | re.Pattern | None = None  # a character it takes, moving to the next state
    loop: str | None = None  # characters it takes, staying (_ANY or _NOT_SLASH)
    skips: tuple[int, ...] = ()  # states also reached without taking a character


class Globs:
    """Whether a text matches any of some globs, whole (like `re.fullmatch` of their union)."""

    def __init__(self, patterns: Iterable[str]):
        patterns = [p for p in patterns if p]
        self.literals = frozenset(p for p in patterns if not _TOKENS.search(p))
        self.states: list[_State] = []
        self.starts: list[int] = []
        self.accepting: set[int] = set()
        for pattern in patterns:
            if pattern not in self.literals:
                self._add(pattern)
        self.start = self._closure(self.starts)

    def fullmatch(self, text: str) -> bool:
        if text in self.literals:
            return True
        current = self.start
        for char in text:
            if not current:
                return False
            taken = set()
            for index in current:
                state = self.states[index]
                if state.loop is not None and _takes(state.loop, char):
                    taken.add(index)
                if state.step is not None and _takes(state.step, char):
                    taken.add(index + 1)
            current = self._closure(taken)
        return not self.accepting.isdisjoint(current)

    def _add(self, pattern: str) -> None:
        self.starts.append(len(self.states))
        for token in _TOKENS.split(pattern):
            if token == "**/":  # no directory at all, or any path ending in `/`
                here = len(self.states)
                self.states += [_State(skips=(here + 1, here + 2)), _State(step="/", loop=_ANY)]
            elif token in ("**", "*"):
                self.states.append(_State(loop=_ANY if token == "**" else _NOT_SLASH, skips=(len(self.states) + 1,)))
            elif token == "?":
                self.states.append(_State(step=_NOT_SLASH))
            elif token.startswith("[") and token.endswith("]") and len(token) > 2:
                self.states.append(_State(step=_character_class(token, pattern)))
            else:
                self.states += [_State(step=char) for char in token]
        self.accepting.add(len(self.states))
        self.states.append(_State())

    def _closure(self, indices: Iterable[int]) -> frozenset[int]:
        reached, pending = set(indices), list(indices)
        while pending:
            for skip in self.states[pending.pop()].skips:
                if skip not in reached:
                    reached.add(skip)
                    pending.append(skip)
        return frozenset(reached)


def _character_class(token: str, pattern: str) -> re.Pattern:
    try:
        return re.compile("[^" + token[2:] if token.startswith("[!") else token)
    except re.error as error:
        raise GlobError(f"`{pattern}` is not a valid glob: {token} is not a character class ({error.msg})") from None


def _takes(what: str | re.Pattern, char: str) -> bool:
    if what == _ANY:
        return True
    if what == _NOT_SLASH:
        return char != "/"
    if isinstance(what, str):
        return char == what
    return what.fullmatch(char) is not None
