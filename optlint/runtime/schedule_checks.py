"""Findings about the simulated schedule: OPT107, OPT108, OPT109, OPT112."""

from __future__ import annotations

import math

from optlint.findings import Finding
from optlint.runtime.naming import join_and
from optlint.runtime.simulate import Preview

# The arguments whose one value for every group overwrites the groups' own LRs.
SHARED_ARGUMENTS = {"OneCycleLR": "max_lr", "CyclicLR": "base_lr and max_lr"}


def flattened_lrs(preview: Preview, lrs_before: list[float] | None, labels: list[str],
                  live: list[bool]) -> list[Finding]:
    """OPT107: groups that differed before the scheduler was built run at one LR; a 0-lr group trains.
    Groups without tensors are left out: their LR changes nothing (OPT105 reports them)."""
    if lrs_before is None or preview.scheduler_name is None:
        return []
    schedule, name = preview.schedule, preview.scheduler_name
    groups = [g for g in range(len(schedule)) if live[g] and schedule[g]]
    # A 0-lr group that trains has its own finding: it is not also counted among the collapsed ones.
    awakened = [g for g in groups if lrs_before[g] == 0 and any(lr != 0 for lr in schedule[g])]
    others = [g for g in groups if g not in awakened]
    collapsed = [g for g in others
                 if any(lrs_before[g] != lrs_before[h] and schedule[g] == schedule[h] for h in others)]
    findings = []
    if collapsed:
        source = f" with the same {SHARED_ARGUMENTS[name]} for every group" if name in SHARED_ARGUMENTS else ""
        findings.append(Finding(
            "OPT107",
            f"groups {_numbers(collapsed, labels)} had learning rates {_lrs([lrs_before[g] for g in collapsed])} "
            f"before {name} was built, and run at one LR at every simulated step: {name} overwrote them{source}.",
            hint=_per_group_hint(name, lrs_before),
        ))
    for g in awakened:
        findings.append(Finding(
            "OPT107",
            f"group {_group(g, labels)} had lr=0 before {name} was built, and trains at up to "
            f"{max(schedule[g]):.4g} under the schedule.",
            hint="freeze it with requires_grad_(False) instead of lr=0, or give the scheduler 0 for that group",
        ))
    return findings


def invalid_lrs(preview: Preview, labels: list[str], steps_per_epoch: int) -> list[Finding]:
    """OPT108: the first negative, NaN or infinite LR, and the other groups it happens to."""
    firsts = [(k, g, lr) for g, lrs in enumerate(preview.schedule)
              for k, lr in enumerate(lrs) if lr < 0 or not math.isfinite(lr)][:1]
    if not firsts:
        return []
    k, g, lr = firsts[0]
    others = [h for h, lrs in enumerate(preview.schedule) if h != g and any(x < 0 or not math.isfinite(x) for x in lrs)]
    also = f" ({'group' if len(others) == 1 else 'groups'} {_numbers(others, labels)} too)" if others else ""
    if lr < 0:
        why = ("a negative LR climbs the loss instead of descending it, and torch checks LRs only when the "
               "optimizer is built")
        hint = "keep the schedule at or above 0, e.g. lambda epoch: max(0.0, 1 - epoch / total_epochs)"
    else:
        why = "one optimizer step with it turns every parameter of the group into NaN or inf"
        hint = "check the schedule's formula at that step (a division by zero, a lambda used past its range)"
    return [Finding(
        "OPT108",
        f"group {_group(g, labels)} gets lr={lr:.4g} at epoch {k // steps_per_epoch} (optimizer step {k}){also}: "
        f"{why}.",
        hint=hint,
    )]


def bound_elsewhere(scheduler_name: str, other, optimizer, lrs: list[float]) -> Finding:
    """OPT109: the scheduler steps another optimizer; this one keeps its LRs for the whole run."""
    return Finding(
        "OPT109",
        f"the scheduler ({scheduler_name}) drives another {type(other).__name__} optimizer, not this "
        f"{type(optimizer).__name__}: scheduler.step() changes that one's LRs, and this optimizer keeps "
        f"lr={_lrs(lrs)} for the whole run.",
        hint=f"build the scheduler from the optimizer you step: {scheduler_name}(optimizer, ...), after the last "
        "`optimizer = ...`",
    )


def groups_added_later(preview: Preview, labels: list[str], *, raises_later: bool, rescaler: str | None,
                       steps_per_epoch: int) -> list[Finding]:
    """OPT112: groups the scheduler never saw; where torch raises, or how it rescales them."""
    known = preview.known_groups
    if known is None:
        return []
    new = list(range(known, len(preview.schedule)))
    added = (f"group {_numbers(new, labels)} {'was' if len(new) == 1 else 'were'} added after "
             f"{preview.scheduler_name} was built (it knows {known} of {len(preview.schedule)} groups)")
    stop = preview.stop or preview.later_stop
    if stop:
        where = "" if preview.stop else ", past the preview"
        fact = (f"scheduler.step() after optimizer step {stop.step} (epoch {stop.epoch}{where}) raises "
                f"{stop.error}")
    elif raises_later:
        fact = "torch raises at a later scheduler.step() for such groups (not reached within the simulated steps)"
    elif rescaler:
        fact = _rescaled(preview, new, rescaler, steps_per_epoch)
    else:
        return []
    return [Finding(
        "OPT112",
        f"{added}: {fact}.",
        hint="build the scheduler after the last add_param_group, or pass every group up front (frozen with "
        "requires_grad_(False)); to keep a running schedule's position, rebuild it with last_epoch=",
    )]


def _rescaled(preview: Preview, new: list[int], rescaler: str, steps_per_epoch: int) -> str:
    parts = []
    for g in new:
        lrs = preview.schedule[g]
        k = max(range(len(lrs)), key=lambda i: _distance(lrs[i], lrs[0]))
        runs = f"runs at {lrs[k]:.4g} by epoch {k // steps_per_epoch}"
        parts.append(f"added with lr={lrs[0]:.4g}, it {runs}" if len(new) == 1 else
                     f"group {g}, added with lr={lrs[0]:.4g}, {runs}")
    return f"{rescaler} silently rescales {'it' if len(new) == 1 else 'them'}: " + "; ".join(parts)


def _distance(lr: float, start: float) -> float:
    if lr <= 0 or start <= 0 or not math.isfinite(lr):
        return 0.0 if lr == start else math.inf
    return abs(math.log(lr / start))


def _per_group_hint(name: str, lrs: list[float]) -> str:
    values = "[" + ", ".join(f"{lr:.4g}" for lr in lrs) + "]"
    if name == "OneCycleLR":
        return f"pass one peak per group: OneCycleLR(optimizer, max_lr={values}, ...)"
    if name == "CyclicLR":
        return f"pass one value per group: CyclicLR(optimizer, base_lr=[...], max_lr={values}, ...)"
    return f"give {name} one value per group, so that the groups keep their own LRs ({values})"


def _group(g: int, labels: list[str]) -> str:
    return f"{g} ({labels[g]})"


def _numbers(groups: list[int], labels: list[str] | None = None) -> str:
    return join_and(_group(g, labels) if labels else g for g in groups)


def _lrs(lrs: list[float]) -> str:
    return ", ".join(f"{lr:.4g}" for lr in lrs)
