"""The schedulers of other training stacks, timm's and DeepSpeed's, stepped as their own training loops step them.

They are not torch schedulers, but deterministic functions of a count that write the groups' `lr`: the preview
replays a copy of the scheduler itself (its code, never a re-implementation) on the stand-in optimizer.
  - timm (its train.py): `step_update(num_updates)` after every optimizer update and `step(epoch + 1, metric)`
    at each epoch's end; the scheduler acts on the one its `t_in_epochs` names, and multiplies each group's
    value by the group's `lr_scale`.
  - DeepSpeed: the engine calls `lr_scheduler.step()` after every optimizer step (at each gradient
    accumulation boundary).
Neither library is imported: a scheduler is recognised by the modules of its classes.
"""

from __future__ import annotations

TIMM_BASE = ("timm.scheduler.scheduler", "Scheduler")
DEEPSPEED_SCHEDULERS = "deepspeed.runtime.lr_schedules"


def stack_of(scheduler) -> str | None:
    """"timm" or "deepspeed" for a scheduler of theirs (a user subclass too), None for anything else."""
    for cls in type(scheduler).__mro__:
        if (cls.__module__, cls.__name__) == TIMM_BASE:
            return "timm"
        if cls.__module__ == DEEPSPEED_SCHEDULERS and hasattr(scheduler, "optimizer"):
            return "deepspeed"
    return None


def applies_lr_scale(scheduler) -> bool:
    """Whether the scheduler multiplies each group's LR by its `lr_scale`: timm's do (Scheduler.update_groups)."""
    return stack_of(scheduler) == "timm" and getattr(scheduler, "param_group_field", None) == "lr"


def interval(scheduler) -> str:
    """When the scheduler's LR changes: each epoch for a timm scheduler with `t_in_epochs`, else each step."""
    if stack_of(scheduler) == "timm" and scheduler.t_in_epochs:
        return "epoch"
    return "step"


def step_after(scheduler, k: int, steps_per_epoch: int) -> None:
    """What the stack's loop calls after optimizer step `k` (0-based)."""
    if stack_of(scheduler) == "deepspeed":
        scheduler.step()
        return
    metric = _worst_metric(scheduler)
    scheduler.step_update(num_updates=k + 1, metric=metric)
    if (k + 1) % steps_per_epoch == 0:
        scheduler.step((k + 1) // steps_per_epoch, metric)


def _worst_metric(scheduler):
    """For timm's PlateauLRScheduler (a torch ReduceLROnPlateau inside): a metric that never improves, the
    earliest possible cuts, as the preview assumes for torch's; None for the others, which read none."""
    plateau = getattr(scheduler, "lr_scheduler", None)
    return getattr(plateau, "mode_worse", None)


def deepspeed_peak_note(scheduler, engine) -> str | None:
    """DeepSpeed#7303: WarmupLR and WarmupDecayLR warm every group up to their own `warmup_max_lr` (WarmupDecayLR's
    default is 0.001), whatever `lr` the DeepSpeed config gives the optimizer."""
    peaks = getattr(scheduler, "max_lrs", None)
    optimizer_params = getattr(type(engine), "optimizer_params", None)
    if stack_of(scheduler) != "deepspeed" or peaks is None or optimizer_params is None:
        return None
    lr = (optimizer_params(engine) or {}).get("lr")
    if lr is None or all(float(peak) == lr for peak in peaks):
        return None
    shown = ", ".join(f"{float(peak):.4g}" for peak in dict.fromkeys(peaks))
    return (f"{type(scheduler).__name__} warms the LR up to its warmup_max_lr ({shown}), not to the optimizer's "
            f"lr={lr:.4g} from the DeepSpeed config: the scheduler's value wins (DeepSpeed#7303; WarmupDecayLR's "
            "default is 0.001). Set the scheduler's params.warmup_max_lr to the LR you meant")
