"""OPT112: groups added after the scheduler was built, which it never saw: where torch raises for them,
or how it rescales them."""

from __future__ import annotations

import math

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._schedule import groups
from optlint.words import plural


def check(analysis: Analysis):
    preview = analysis.preview
    known = preview.known_groups
    if known is None:
        return
    new = list(range(known, len(preview.schedule)))
    added = (f"group {groups(analysis, new)} {'was' if len(new) == 1 else 'were'} added after "
             f"`{preview.scheduler_name}` was built (it knows {known} of {plural(len(preview.schedule), 'group')})")
    stop = preview.stop or preview.later_stop
    if stop:
        where = "" if preview.stop else ", past the preview"
        fact = (f"`scheduler.step()` after optimizer step {stop.step} (epoch {stop.epoch}{where}) raises "
                f"{stop.error}")
    elif preview.raises_later:
        fact = "torch raises at a later `scheduler.step()` for such groups (not reached within the simulated steps)"
    elif preview.rescaler:
        fact = _rescaled(analysis, new)
    else:
        return
    yield Finding(
        "OPT112",
        f"{added}: {fact}.",
        hint="Build the scheduler after the last `add_param_group`, or pass every group up front (frozen with "
             "`requires_grad_(False)`); to keep a running schedule's position, rebuild it with `last_epoch=`.",
    )


def _rescaled(analysis: Analysis, new: list[int]) -> str:
    preview = analysis.preview
    parts = []
    for g in new:
        lrs = preview.schedule[g]
        k = max(range(len(lrs)), key=lambda i: _distance(lrs[i], lrs[0]))
        runs = f"runs at {lrs[k]:.4g} by epoch {k // preview.plan.steps_per_epoch}"
        parts.append(f"added with `lr={lrs[0]:.4g}`, it {runs}" if len(new) == 1 else
                     f"group {g}, added with `lr={lrs[0]:.4g}`, {runs}")
    return f"`{preview.rescaler}` silently rescales {'it' if len(new) == 1 else 'them'}: " + "; ".join(parts)


def _distance(lr: float, start: float) -> float:
    if lr <= 0 or start <= 0 or not math.isfinite(lr):
        return 0.0 if lr == start else math.inf
    return abs(math.log(lr / start))
