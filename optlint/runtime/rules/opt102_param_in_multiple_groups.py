"""OPT102: a tensor held twice, in one optimizer's groups or by two optimizers of the set-up."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.naming import describe, join_and
from optlint.words import plural, verb


def check(analysis: Analysis):
    yield from _in_several_groups(analysis)
    for earlier in range(analysis.index):
        yield from _held_by_two(analysis, earlier)


def _in_several_groups(analysis: Analysis):
    coverage = analysis.coverage
    if not coverage.repeats:
        return
    groups = sorted({g for gs in coverage.repeats.values() for g in gs})
    where = (f"more than once in group {groups[0]}" if len(groups) == 1
             else f"in more than one group ({join_and(groups)})")
    yield Finding(
        "OPT102",
        f"{_tensors(analysis, coverage.repeats)} {verb(coverage.repeats, 'is', 'are')} {where}: every step updates "
        "such a tensor once per occurrence, each time with that group's `lr`, and advances its optimizer state as "
        "often.",
        hint="Keep each tensor in exactly one group: build the groups from disjoint parameter lists.",
    )


def _held_by_two(analysis: Analysis, earlier: int):
    """Tensors this optimizer and an earlier one both hold: each one's step() moves them."""
    shared = _held(analysis.optimizers[earlier]) & _held(analysis.optimizer)
    if not shared:
        return
    yield Finding(
        "OPT102",
        f"{_tensors(analysis, shared)} {verb(shared, 'is', 'are')} held by optimizer {earlier} "
        f"(`{type(analysis.optimizers[earlier]).__name__}`) and optimizer {analysis.index} "
        f"(`{type(analysis.optimizer).__name__}`): each one's `step()` updates such a tensor, so it moves twice per "
        "iteration.",
        hint="Give each parameter to one optimizer: split the model's parameters once, into disjoint lists.",
    )


def _tensors(analysis: Analysis, ids) -> str:
    """The model's names of these tensors, folded, and how many are outside the model."""
    names = analysis.coverage.names
    named = [names[key] for key in names if key in ids]  # in model order
    unnamed = len(ids) - len(named)
    return ", ".join(filter(None, [describe(analysis.coverage.tree.fold(named)) if named else "",
                                   plural(unnamed, "tensor") + " outside the model" if unnamed else ""]))


def _held(optimizer) -> set[int]:
    return {id(p) for group in optimizer.param_groups for p in group["params"]}
