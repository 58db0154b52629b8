"""OPT107: groups that differed before the scheduler was built run at one LR; a 0-lr group trains.
Groups without tensors are left out: their LR changes nothing (OPT105 reports them)."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._schedule import groups, lrs

# The arguments whose one value for every group overwrites the groups' own LRs.
SHARED_ARGUMENTS = {"OneCycleLR": "`max_lr`", "CyclicLR": "`base_lr` and `max_lr`"}


def check(analysis: Analysis):
    before, preview = analysis.lrs_before, analysis.preview
    if before is None or preview.scheduler_name is None:
        return
    schedule, name = preview.schedule, preview.scheduler_name
    shown = [g for g in range(len(schedule)) if analysis.live[g] and schedule[g]]
    # A 0-lr group that trains has its own finding: it is not also counted among the collapsed ones.
    awakened = [g for g in shown if before[g] == 0 and any(lr != 0 for lr in schedule[g])]
    others = [g for g in shown if g not in awakened]
    collapsed = [g for g in others if any(before[g] != before[h] and schedule[g] == schedule[h] for h in others)]
    if collapsed:
        source = f" with the same {SHARED_ARGUMENTS[name]} for every group" if name in SHARED_ARGUMENTS else ""
        yield Finding(
            "OPT107",
            f"groups {groups(analysis, collapsed)} had learning rates {lrs([before[g] for g in collapsed])} "
            f"before `{name}` was built, and run at one LR at every simulated step: `{name}` overwrote them{source}.",
            hint=_per_group_hint(name, before),
        )
    for g in awakened:
        yield Finding(
            "OPT107",
            f"group {analysis.label(g)} had `lr=0` before `{name}` was built, and trains at up to "
            f"{max(schedule[g]):.4g} under the schedule.",
            hint="Freeze it with `requires_grad_(False)` instead of `lr=0`, or give the scheduler 0 for that group.",
        )


def _per_group_hint(name: str, before: list[float]) -> str:
    values = "[" + lrs(before) + "]"
    if name == "OneCycleLR":
        return f"Pass one peak per group: `OneCycleLR(optimizer, max_lr={values}, ...)`."
    if name == "CyclicLR":
        return f"Pass one value per group: `CyclicLR(optimizer, base_lr=[...], max_lr={values}, ...)`."
    return f"Give `{name}` one value per group, so that the groups keep their own LRs ({values})."
