"""Several optimizers that together train one model: Muon for the hidden matrices and AdamW for the rest,
a GAN's generator and discriminator optimizers. How `check_setup` takes them: which scheduler goes with
which optimizer, and the note each part of the report carries (the check itself is pipeline.py's).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from optlint.runtime.unwrap import is_scheduler, unwrap_optimizer, unwrap_scheduler


def is_several(optimizer) -> bool:
    """A list or tuple of optimizers (a list of tensors is a mistake that the one-optimizer check names)."""
    return isinstance(optimizer, (list, tuple)) and bool(optimizer) and all(
        isinstance(unwrap_optimizer(o)[0], torch.optim.Optimizer) for o in optimizer)


def schedulers_for(optimizers: Sequence, scheduler) -> list:
    """One scheduler (or None, or a factory) per optimizer: a list given in their order, or one live
    scheduler placed with the optimizer it drives (with the first when it drives none: OPT109 says so)."""
    if isinstance(scheduler, (list, tuple)):
        if len(scheduler) != len(optimizers):
            raise ValueError(f"{len(optimizers)} optimizers but {len(scheduler)} schedulers: give one per optimizer, "
                             "in the same order (None for an optimizer without one)")
        return list(scheduler)
    placed: list = [None] * len(optimizers)
    if scheduler is None:
        return placed
    live = unwrap_scheduler(scheduler)
    if not is_scheduler(live):
        raise ValueError("a scheduler factory fits any optimizer: with several optimizers, pass a list with one "
                         "entry per optimizer, e.g. scheduler=[factory, None]")
    drives = [i for i, optimizer in enumerate(optimizers)
              if any(live.optimizer is a for a in unwrap_optimizer(optimizer)[1])]
    placed[drives[0] if drives else 0] = scheduler
    return placed


def note_for(index: int, count: int) -> str:
    others = "the others hold" if count > 2 else "the other holds"
    return f"optimizer {index} of the {count} given; the parameters {others} are not missing from this one"
