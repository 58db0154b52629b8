"""The torch objects inside the wrappers training frameworks put around them.

Names and identities must match what the user wrote: `DistributedDataParallel`/`DataParallel` keep
the model in `.module` (whose names lack the `module.` prefix), `torch.compile` in `_orig_mod`;
accelerate and Lightning wrap optimizers (`.optimizer`, `._optimizer`) and schedulers (`.scheduler`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim import lr_scheduler

MODEL_WRAPPERS = (nn.parallel.DistributedDataParallel, nn.DataParallel)
SCHEDULER_TYPES = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)


def is_scheduler(obj) -> bool:
    return isinstance(obj, SCHEDULER_TYPES)


def unwrap_model(model):
    while True:
        if isinstance(model, MODEL_WRAPPERS):
            model = model.module
        elif isinstance(getattr(model, "_orig_mod", None), nn.Module):
            model = model._orig_mod
        else:
            return model


def unwrap_optimizer(optimizer) -> tuple[object, list]:
    """The innermost torch optimizer, and every object on the way to it (all the same optimizer)."""
    chain = [optimizer]
    while True:
        inner = _inner(chain[-1], ("optimizer", "_optimizer"))
        if inner is None or not isinstance(inner, torch.optim.Optimizer) or any(inner is c for c in chain):
            return chain[-1], chain
        chain.append(inner)


def unwrap_scheduler(scheduler):
    while scheduler is not None and not is_scheduler(scheduler) and _inner(scheduler, ("scheduler",)) is not None:
        scheduler = scheduler.scheduler
    return scheduler


def _inner(obj, attributes: tuple[str, ...]):
    for attribute in attributes:
        inner = getattr(obj, attribute, None)
        if inner is not None:
            return inner
    return None
