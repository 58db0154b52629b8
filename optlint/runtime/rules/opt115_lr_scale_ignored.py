"""OPT115: groups carry `lr_scale` (timm's `layer_decay`, the MAE/BEiT recipes) that the scheduler never applies.

Optimizers ignore the key; timm's schedulers multiply each group's LR by it (their `update_groups`), torch's,
Hugging Face's, Lightning's and DeepSpeed's do not. What is certain: groups with different scales that run at
one LR at every simulated step. Without a scheduler a loop of one's own may apply the scale (MAE's
`adjust_learning_rate` does, each iteration), which the check cannot see: a note says so, no finding.
"""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._schedule import groups


def check(analysis: Analysis):
    scaled = _scaled_groups(analysis)
    preview = analysis.preview
    if not scaled or preview.scheduler_name is None or preview.applies_lr_scale:
        return
    same = [g for g in scaled
            if any(preview.schedule[g] == preview.schedule[h] for h in scaled if _scale(analysis, h) != _scale(analysis, g))]
    if same:
        yield Finding(
            "OPT115",
            f"groups {groups(analysis, same)} carry different `lr_scale` values but run at one LR at every simulated "
            f"step: `{analysis.preview.scheduler_name}` does not apply `lr_scale` (timm's schedulers do), so the "
            "layer-wise LR decay is off.",
            hint="Step a timm scheduler (`timm.scheduler.create_scheduler_v2(optimizer, ...)`), or fold the scale "
                 "into each group's LR before building this one: `group['lr'] = base_lr * group['lr_scale']`.",
        )


def notes(analysis: Analysis):
    if analysis.preview.scheduler_name is None and len({_scale(analysis, g) for g in _scaled_groups(analysis)}) > 1:
        yield ("groups carry different `lr_scale` values and no scheduler applies them: unless the training loop "
               "sets `lr = base_lr * lr_scale` itself (as MAE's `adjust_learning_rate` does), every group trains "
               "at the unscaled LR (OPT115)")


def _scaled_groups(analysis: Analysis) -> list[int]:
    return [g for g, group in enumerate(analysis.groups)
            if isinstance(group.get("lr_scale"), (int, float)) and not isinstance(group["lr_scale"], bool)
            and analysis.live[g]]


def _scale(analysis: Analysis, g: int) -> float:
    return float(analysis.groups[g]["lr_scale"])
