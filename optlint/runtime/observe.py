"""Record each optimizer's group LRs at the moment its first scheduler is built.

`OneCycleLR` and `CyclicLR` overwrite every group's `lr` in their constructor, so the LRs the user
wrote are gone once a factory returns. While `optlint runtime` runs the factory, the constructors of
torch's scheduler classes are wrapped to read the optimizer's LRs before the real constructor runs;
arguments, results and the built objects are exactly what they would have been.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch
from torch.optim import lr_scheduler

from optlint.runtime.simulate import lr_list
from optlint.runtime.unwrap import SCHEDULER_TYPES


@contextlib.contextmanager
def recording_lrs_before_schedulers() -> Iterator[dict[int, list[float]]]:
    """Yields {id(optimizer): its group LRs before the first scheduler was built on it}."""
    recorded: dict[int, list[float]] = {}
    seen: list = []  # keeps recorded optimizers alive, so that no id is reused during the run
    originals = {cls: vars(cls)["__init__"] for cls in _scheduler_classes() if "__init__" in vars(cls)}
    for cls, init in originals.items():
        cls.__init__ = _observed(init, recorded, seen)
    try:
        yield recorded
    finally:
        for cls, init in originals.items():
            cls.__init__ = init


def _observed(init, recorded: dict[int, list[float]], seen: list):
    @functools.wraps(init)
    def observed(self, *args, **kwargs):
        optimizer = kwargs.get("optimizer", args[0] if args else None)
        if isinstance(optimizer, torch.optim.Optimizer) and id(optimizer) not in recorded:
            recorded[id(optimizer)] = lr_list(optimizer)
            seen.append(optimizer)
        return init(self, *args, **kwargs)

    return observed


def _scheduler_classes() -> list[type]:
    return [
        cls for cls in vars(lr_scheduler).values()
        if isinstance(cls, type) and issubclass(cls, SCHEDULER_TYPES) and cls.__module__ == lr_scheduler.__name__
    ]
