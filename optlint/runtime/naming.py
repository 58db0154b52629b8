"""Short names for sets of parameters: `head.*`, `blocks.0-11.attn.* (48 tensors)`.

A set of parameter names is folded into the module prefixes it covers completely, then numbered
siblings (`blocks.0.attn.*` ... `blocks.11.attn.*`) merge into ranges. Pure functions, no torch.
"""

from __future__ import annotations

import bisect
import functools
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LIST_AT_MOST = 6


@dataclass(frozen=True)
class Folded:
    """One folded entry: `head.*` standing for `count` tensors, or one full name."""

    text: str
    count: int

    def __str__(self) -> str:
        return self.text if self.count == 1 else f"{self.text} ({self.count} tensors)"

    def quoted(self) -> str:
        """As a message names it: `` `head.*` (2 tensors) ``."""
        return f"`{self.text}`" if self.count == 1 else f"`{self.text}` ({self.count} tensors)"


class ModuleTree:
    """The model's parameter names, to know how many parameters live under a module prefix."""

    def __init__(self, names: Iterable[str]):
        self.names = list(names)  # in model order
        self._sorted = sorted(self.names)
        self._below: dict[str, int] = {}

    @functools.cached_property
    def order(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.names)}

    def below(self, prefix: str) -> int:
        """How many parameters are named `prefix.<something>` (a range of the sorted names: '/' follows '.')."""
        if prefix not in self._below:
            start = bisect.bisect_left(self._sorted, prefix + ".")
            self._below[prefix] = bisect.bisect_left(self._sorted, prefix + "/", start) - start
        return self._below[prefix]

    def fold(self, names: Iterable[str]) -> list[Folded]:
        """The fewest entries naming exactly `names`, in model order."""
        chosen = sorted(names, key=self.order.__getitem__)
        prefixes = [_prefixes(name) for name in chosen]
        selected = Counter(prefix for name_prefixes in prefixes for prefix in name_prefixes)
        entries: dict[tuple[str, ...], int] = {}
        for name, name_prefixes in zip(chosen, prefixes):
            key = self._widest_covered(name, name_prefixes, selected)
            entries[key] = entries.get(key, 0) + 1
        return [Folded(".".join(parts), count) for parts, count in _merge_numbered(entries).items()]

    def names_except(self, names: Iterable[str]) -> list[str]:
        excluded = set(names)
        return [name for name in self.names if name not in excluded]

    def _widest_covered(self, name: str, prefixes: list[str], selected: Counter[str]) -> tuple[str, ...]:
        for prefix in prefixes:
            if selected[prefix] >= 2 and selected[prefix] == self.below(prefix):
                return (*prefix.split("."), "*")
        return tuple(name.split("."))


def describe(folded: Sequence[Folded], at_most: int = LIST_AT_MOST) -> str:
    """`` `head.*` (2 tensors), `neck.proj.weight` ``, cut to `at_most` entries."""
    if len(folded) <= at_most:
        return ", ".join(entry.quoted() for entry in folded)
    shown, rest = folded[: at_most - 1], folded[at_most - 1 :]
    hidden = sum(entry.count for entry in rest)
    return ", ".join(entry.quoted() for entry in shown) + f" and {len(rest)} more ({hidden} tensors)"


def join_and(items) -> str:
    """'0', '0 and 1', '0, 1 and 2'."""
    words = [str(item) for item in items]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


def distinct_suffixes(names: list[str], others: list[str]) -> list[str]:
    """The shortest name endings that tell `names` from `others`, fewest first: the no-decay group of a
    transformer is `bias`, `LayerNorm.weight` (no other tensor ends so). Empty when some name ends like another."""
    taken = {tuple(parts[i:]) for parts in (name.split(".") for name in others) for i in range(len(parts))}
    found: dict[tuple[str, ...], None] = {}
    for name in names:
        parts = name.split(".")
        ending = next((tuple(parts[i:]) for i in range(len(parts) - 1, -1, -1) if tuple(parts[i:]) not in taken), None)
        if ending is None:
            return []
        found[ending] = None
    return [".".join(ending) for ending in found]


def common_prefix(names: list[str]) -> str:
    """`backbone.*` when every name is under `backbone`, `*` when they share no module."""
    shared = os.path.commonprefix(names) if names else ""
    module = shared[: shared.rfind(".") + 1] if len(names) > 1 or "." in shared else ""
    return f"{module}*"


def _prefixes(name: str) -> list[str]:
    """The module prefixes of a parameter name, widest first: `a.b.w` -> `a`, `a.b`."""
    prefixes = []
    dot = name.find(".")
    while dot != -1:
        prefixes.append(name[:dot])
        dot = name.find(".", dot + 1)
    return prefixes


def _merge_numbered(entries: dict[tuple[str, ...], int]) -> dict[tuple[str, ...], int]:
    """Merge entries that differ in one numbered component into a range, rightmost component first."""
    numbered = {i for parts in entries for i, part in enumerate(parts) if part.isdigit()}
    for position in sorted(numbered, reverse=True):
        entries = _merge_at(entries, position)
    return entries


def _merge_at(entries: dict[tuple[str, ...], int], position: int) -> dict[tuple[str, ...], int]:
    buckets: dict[tuple, list[tuple[str, ...]]] = {}
    for parts in entries:
        if len(parts) > position and parts[position].isdigit():
            key = (len(parts), parts[:position], parts[position + 1 :])
        else:
            key = (parts,)
        buckets.setdefault(key, []).append(parts)
    merged: dict[tuple[str, ...], int] = {}
    for members in buckets.values():
        if len(members) == 1:
            merged[members[0]] = entries[members[0]]
            continue
        numbers = sorted(int(parts[position]) for parts in members)
        first = members[0]
        merged[(*first[:position], _ranges(numbers), *first[position + 1 :])] = sum(entries[m] for m in members)
    return merged


def _ranges(numbers: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8'."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
