"""OPT116: the scheduler raises at a `scheduler.step()` of the simulated run; the real run crashes there."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.report import every


def check(analysis: Analysis):
    preview = analysis.preview
    stop, plan = preview.stop, preview.plan
    if stop is None or preview.known_groups is not None:  # a group the scheduler never saw: OPT112 says why
        return
    yield Finding(
        "OPT116",
        f"`{preview.scheduler_name}.step()` after optimizer step {stop.step} (epoch {stop.epoch}) raises "
        f"{stop.error}; the preview ran {plan.steps} optimizer steps, {plan.steps_per_epoch} per epoch, stepping "
        f"the scheduler {every(plan.interval, plan.frequency)}: the real run crashes there too, unless it is shorter.",
        hint=_hint(stop.error, plan.scheduler_steps_before(plan.steps)),
    )


def _hint(error: str, steps: int) -> str:
    if "Tried to step" in error:
        return (f"Size the OneCycleLR to the run: total_steps={steps}, the times the run steps it, "
                "or give the preview the run's real length (epochs, steps_per_epoch).")
    return ("Make the scheduler valid for every step of the run (a lambda used past its range, a scheduler that "
            "needs a metric), or preview the run's real length (epochs, steps_per_epoch).")
