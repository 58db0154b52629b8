"""OPT113: the schedule is sized for another run: it sits at its floor for a long stretch, a cosine passes `T_max`
and rises again, or the run ends before half of the scheduler's horizon.

All three are read off the previewed curve and the replayed scheduler's own horizon (`total_steps`, `T_max`,
`total_iters`, a Hugging Face lambda's `num_training_steps`, SequentialLR milestones before the last one's); the
fitting horizon is the one that spreads the same shape over the run's scheduler steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch.optim import lr_scheduler

from optlint.findings import Finding
from optlint.runtime import simulate
from optlint.runtime.analysis import Analysis
from optlint.runtime.report import every

AT_FLOOR_AT_MOST = 0.10  # of the run's steps
USED_AT_LEAST = 0.5  # of the horizon
RISE_AT_LEAST = 0.01  # of the curve's range: float noise is not a rise
HORIZONS = ((lr_scheduler.OneCycleLR, "total_steps"), (lr_scheduler.CosineAnnealingLR, "T_max"),
            (lr_scheduler.LinearLR, "total_iters"), (lr_scheduler.PolynomialLR, "total_iters"))


@dataclass(frozen=True)
class Horizon:
    steps: int  # scheduler steps from its start to its end
    name: str  # the setting of the scheduler that ends it: `T_max`
    value: int  # that setting's value (the horizon less the milestones before it)

    def fitting(self, steps: int) -> str:
        """`T_max=250`: the setting that makes the horizon `steps`."""
        return f"`{self.name}={self.value + steps - self.steps}`"


def check(analysis: Analysis):
    preview = analysis.preview
    # Without the run's length (check_setup's default 5 epochs of 1 step) the preview is no run to fit; with groups
    # the scheduler never saw, OPT112 stepped the replay past the run.
    if (preview.replay is None or preview.stop or preview.assumes_a_metric or not preview.plan.length_known
            or preview.known_groups is not None):
        return
    live = [g for g, alive in enumerate(analysis.live) if alive]
    if not live:
        return
    lrs = preview.schedule[live[0]]  # the groups of one scheduler share its shape
    horizon = horizon_of(preview.replay)
    yield from _rises_after_t_max(analysis, lrs, horizon)
    yield from _sits_at_floor(analysis, lrs, horizon)
    yield from _horizon_unused(analysis, lrs, horizon)


def horizon_of(scheduler) -> Horizon | None:
    """Where the scheduler's schedule ends, counted in its own steps; None for one without an end."""
    children = getattr(scheduler, "_schedulers", None)
    if isinstance(scheduler, lr_scheduler.SequentialLR):
        last = horizon_of(children[-1])
        start = scheduler._milestones[-1]
        return Horizon(start + last.steps, last.name, last.value) if last else None
    if children is not None:  # ChainedScheduler: every child steps each time; the longest ends it
        return max(filter(None, map(horizon_of, children)), key=lambda h: h.steps, default=None)
    for cls, name in HORIZONS:
        if isinstance(scheduler, cls):
            return Horizon(getattr(scheduler, name), name, getattr(scheduler, name))
    for function in getattr(scheduler, "lr_lambdas", ()):
        steps = getattr(function, "keywords", {}).get("num_training_steps")
        if isinstance(steps, int):
            return Horizon(steps, "num_training_steps", steps)
    return None


def _rises_after_t_max(analysis: Analysis, lrs: list[float], horizon: Horizon | None):
    if not any(isinstance(s, lr_scheduler.CosineAnnealingLR) for s in simulate.leaves(analysis.preview.replay)):
        return
    low = lrs.index(min(lrs))
    high = max(range(low, len(lrs)), key=lrs.__getitem__)
    spread = max(lrs) - lrs[low]
    if not (max(lrs[:low + 1]) > lrs[low] and lrs[high] - lrs[low] > RISE_AT_LEAST * spread):
        return
    plan = analysis.preview.plan
    fit = _fit(analysis, low, horizon)
    yield Finding(
        "OPT113",
        f"the cosine reaches its minimum ({lrs[low]:.4g}) at optimizer step {low} and rises again, to "
        f"{lrs[high]:.4g} by step {high}: `T_max` is shorter than the run ({_run(plan)}){fit}.",
        hint="Set T_max to the number of times the loop steps the scheduler (CosineAnnealingWarmRestarts restarts "
             "on purpose).",
    )


def _sits_at_floor(analysis: Analysis, lrs: list[float], horizon: Horizon | None):
    floors = [0.0, *(s.eta_min for s in simulate.leaves(analysis.preview.replay) if hasattr(s, "eta_min"))]
    last = lrs[-1]
    if not any(_same(last, floor) for floor in floors) or max(lrs) <= last:
        return
    start = len(lrs)
    while start > 0 and _same(lrs[start - 1], last):
        start -= 1
    if len(lrs) - start <= AT_FLOOR_AT_MOST * len(lrs):
        return
    plan = analysis.preview.plan
    yield Finding(
        "OPT113",
        f"the LR reaches {last:.4g} at optimizer step {start} and stays there for the last {len(lrs) - start} of the "
        f"run's {len(lrs)} steps ({_run(plan)}): that part of the run trains at the floor"
        f"{_fit(analysis, start, horizon)}.",
        hint=_hint(plan),
    )


def _horizon_unused(analysis: Analysis, lrs: list[float], horizon: Horizon | None):
    preview = analysis.preview
    plan = preview.plan
    if horizon is None or len(lrs) >= simulate.MAX_PREVIEW_STEPS:
        return
    used = simulate.position(preview.replay)
    if used >= USED_AT_LEAST * horizon.steps:
        return
    yield Finding(
        "OPT113",
        f"the run ends (optimizer step {len(lrs)}, {_run(plan)}) after {used} of the {horizon.steps} steps of "
        f"`{preview.scheduler_name}`'s schedule: the LR never gets past {used / horizon.steps:.0%} of its shape; "
        f"{horizon.fitting(used)} would fit.",
        hint=_hint(plan),
    )


def _hint(plan: simulate.Plan) -> str:
    unit = "epochs" if plan.interval == "epoch" else "optimizer steps (HF: len(loader) // accumulation * epochs)"
    return f"Size the schedule to the times the loop steps it, in {unit}; or pass the run's real length."


def _fit(analysis: Analysis, k: int, horizon: Horizon | None) -> str:
    """`; `T_max=250` would fit`: the horizon that spreads what the schedule does up to step `k` over the run."""
    if horizon is None:
        return ""
    preview = analysis.preview
    loop_steps = preview.plan.scheduler_steps_before(preview.plan.steps)
    # the scheduler's own steps per `scheduler.step()` of the loop: accelerate's wrapper makes one call several
    per_call = (simulate.position(preview.replay) - preview.replay_start) / loop_steps if loop_steps else 1
    extra = round(per_call * (loop_steps - preview.plan.scheduler_steps_before(k)))
    return f"; {horizon.fitting(horizon.steps + extra)} would fit"


def _run(plan: simulate.Plan) -> str:
    return f"the scheduler stepped {every(plan.interval, plan.frequency)}"


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)
