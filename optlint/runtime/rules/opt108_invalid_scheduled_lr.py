"""OPT108: the first negative, NaN or infinite LR of the schedule, and the other groups it happens to."""

from __future__ import annotations

import math

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._schedule import groups


def check(analysis: Analysis):
    schedule = analysis.preview.schedule
    firsts = [(k, g, lr) for g, lrs in enumerate(schedule) for k, lr in enumerate(lrs) if _invalid(lr)][:1]
    if not firsts:
        return
    k, g, lr = firsts[0]
    others = [h for h, lrs in enumerate(schedule) if h != g and any(map(_invalid, lrs))]
    also = f" ({'group' if len(others) == 1 else 'groups'} {groups(analysis, others)} too)" if others else ""
    if lr < 0:
        why = ("a negative LR climbs the loss instead of descending it, and torch checks LRs only when the "
               "optimizer is built")
        hint = "Keep the schedule at or above 0, e.g. `lambda epoch: max(0.0, 1 - epoch / total_epochs)`."
    else:
        why = "one optimizer step with it turns every parameter of the group into NaN or inf"
        hint = "Check the schedule's formula at that step (a division by zero, a lambda used past its range)."
    steps_per_epoch = analysis.preview.plan.steps_per_epoch
    yield Finding(
        "OPT108",
        f"group {analysis.label(g)} gets `lr={lr:.4g}` at epoch {k // steps_per_epoch} (optimizer step {k}){also}: "
        f"{why}.",
        hint=hint,
    )


def _invalid(lr: float) -> bool:
    return lr < 0 or not math.isfinite(lr)
