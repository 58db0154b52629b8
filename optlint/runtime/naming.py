"""Short names for sets of parameters: `head.*`, `blocks.0-11.attn.* (48 tensors)`.

A set of parameter names is folded into the module prefixes it covers completely, then numbered
siblings (`blocks.0.attn.*` ... `blocks.11.attn.*`) merge into ranges. Pure functions, no torch.
"""

from __future__ import annotations

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


class ModuleTree:
    """How many parameters live under each module prefix of a model, to know what a prefix covers."""

    def __init__(self, names: Iterable[str]):
        self.order: dict[str, int] = {}
        self.below: Counter[str] = Counter()
        for index, name in enumerate(names):
            self.order[name] = index
            self.below.update(_prefixes(name))

    def fold(self, names: Iterable[str]) -> list[Folded]:
        """The fewest entries naming exactly `names`, in model order."""
        chosen = list(names)
        selected = Counter(prefix for name in chosen for prefix in _prefixes(name))
        entries: dict[tuple[str, ...], int] = {}
        for name in sorted(chosen, key=lambda n: self.order.get(n, len(self.order))):
            key = self._widest_covered(name, selected)
            entries[key] = entries.get(key, 0) + 1
        return [Folded(".".join(parts), count) for parts, count in _merge_numbered(entries).items()]

    def _widest_covered(self, name: str, selected: Counter[str]) -> tuple[str, ...]:
        for prefix in _prefixes(name):
            if selected[prefix] >= 2 and selected[prefix] == self.below[prefix]:
                return (*prefix.split("."), "*")
        return tuple(name.split("."))


def describe(folded: Sequence[Folded], at_most: int = LIST_AT_MOST) -> str:
    """`head.* (2 tensors), neck.proj.weight`, cut to `at_most` entries."""
    if len(folded) <= at_most:
        return ", ".join(map(str, folded))
    shown, rest = folded[: at_most - 1], folded[at_most - 1 :]
    hidden = sum(entry.count for entry in rest)
    return ", ".join(map(str, shown)) + f" and {len(rest)} more ({hidden} tensors)"


def common_prefix(names: Iterable[str]) -> str:
    """`backbone.*` when every name is under `backbone`, `*` when they share no module."""
    shared = os.path.commonprefix([name.split(".")[:-1] for name in names])
    return ".".join([*shared, "*"])


def _prefixes(name: str) -> list[str]:
    """The module prefixes of a parameter name, widest first: `a.b.w` -> `a`, `a.b`."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _merge_numbered(entries: dict[tuple[str, ...], int]) -> dict[tuple[str, ...], int]:
    """Merge entries that differ in one numbered component into a range, rightmost component first."""
    longest = max((len(parts) for parts in entries), default=0)
    for position in reversed(range(longest)):
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
