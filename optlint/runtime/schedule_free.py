"""The LR of the Schedule-Free optimizers (the `schedulefree` package: AdamWScheduleFree, SGDScheduleFree,
RAdamScheduleFree and their variants), which schedule inside `step()`: `lr` times a linear warm-up over
`warmup_steps` (RAdam: times its rectification), kept in each group's `scheduled_lr` "for logging". No formula is
re-implemented: the preview steps the optimizer's own `step()` on the stand-in, with zero gradients, and reads
`scheduled_lr`. They are recognised by their group keys; `schedulefree` is never imported.
"""

from __future__ import annotations

import torch

KEYS = ("scheduled_lr", "train_mode", "k")


def is_schedule_free(optimizer) -> bool:
    return bool(optimizer.param_groups) and all(key in group for group in optimizer.param_groups for key in KEYS)


def prepare(standin) -> None:
    """Zero gradients (the update is then the weight decay of a 1-element tensor, which the preview ignores) and
    train mode, which `step()` requires."""
    for group in standin.param_groups:
        group["train_mode"] = True
        for tensor in group["params"]:
            tensor.grad = torch.zeros_like(tensor)


def lrs_of_next_step(standin) -> list[float]:
    """Take one step with the optimizer's own code: the LR each group used, as it logs it."""
    standin.step(lambda: None)
    return [float(group["scheduled_lr"]) for group in standin.param_groups]


def note(optimizer, scheduled: bool) -> str:
    name = type(optimizer).__name__
    extra = (": an LR scheduler on top multiplies `lr` by a second schedule, which Schedule-Free is built to "
             "do without" if scheduled else "")
    return (f"{name} schedules inside step() (its warm-up over warmup_steps; RAdam's rectification): the preview shows the LR of each step as "
            f"it logs it (`scheduled_lr`), replayed with {name}'s own step(){extra}")
