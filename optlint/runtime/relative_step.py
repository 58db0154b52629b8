"""The LR of transformers' `Adafactor` with `relative_step=True` (the T5 recipe, `lr=None`), which ignores the
group's `lr` and every LR scheduler: at its k-th step (from 1) it uses `min(1e-2, 1/√k)` (`1e-6·k` instead of
1e-2 with `warmup_init`), times the tensor's RMS (at least `eps[1]`) with `scale_parameter`. The relative
step is computed by Adafactor's own `_get_lr`, found on the optimizer's class: transformers is never imported.
"""

from __future__ import annotations


def uses_relative_step(optimizer, group: dict) -> bool:
    return group.get("relative_step") is True and callable(getattr(type(optimizer), "_get_lr", None))


def relative_lr(optimizer, group: dict, step: int) -> float:
    """The relative step size of a group at optimizer step `step` (0-based), before the tensor's RMS scales it."""
    unscaled = {**group, "scale_parameter": False}
    return float(type(optimizer)._get_lr(unscaled, {"step": step + 1, "RMS": 0.0}))


def steps_taken(optimizer, group: dict) -> int:
    """How many steps the optimizer took on this group: the `step` of its first tensor's state."""
    state = optimizer.state.get(group["params"][0], {}) if group["params"] else {}
    return int(state.get("step", 0))


def note(optimizer, groups: list[int]) -> str:
    which = "every group" if len(groups) == len(optimizer.param_groups) else "groups " + ", ".join(map(str, groups))
    scaled = any(optimizer.param_groups[g].get("scale_parameter") for g in groups)
    rms = (": with scale_parameter=True each tensor's step is that times its RMS (at least eps[1]), which changes "
           "as it trains, so the real per-tensor LR cannot be previewed" if scaled else "")
    return (f"{type(optimizer).__name__} with relative_step=True sets its own LR for {which}, ignoring `lr` and any LR "
            f"scheduler (AdafactorSchedule only reports it): the preview shows its relative step size, computed by "
            f"{type(optimizer).__name__}._get_lr{rms}")
