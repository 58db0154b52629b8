"""OPT109: the scheduler steps another optimizer; this one keeps its LRs for the whole run."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._schedule import lrs


def check(analysis: Analysis):
    if analysis.other_scheduler is None:
        return
    name, other = analysis.other_scheduler
    yield Finding(
        "OPT109",
        f"the scheduler (`{name}`) drives another `{type(other).__name__}` optimizer, not this "
        f"`{type(analysis.optimizer).__name__}`: `scheduler.step()` changes that one's LRs, and this optimizer keeps "
        f"`lr={lrs(analysis.lrs_now)}` for the whole run.",
        hint=f"Build the scheduler from the optimizer you step: `{name}(optimizer, ...)`, after the last "
             "`optimizer = ...`.",
    )
