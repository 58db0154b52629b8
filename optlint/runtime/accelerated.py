"""Accelerate's `AcceleratedScheduler`: how the loop's `scheduler.step()` steps the scheduler inside.

After each optimizer step it steps the wrapped scheduler `num_processes` times (once with `split_batches`),
since every process saw a batch; while gradients accumulate (not synced) it does not step it, and with the
plugin's `adjust_scheduler` counts the call in `_step_count` (which ends a OneCycleLR early). The preview runs
accelerate's own `step()` on a shadow of the wrapper that holds the replayed scheduler, with the gradient
state of each batch of an optimizer step, as the `*_no_trainer` examples call it (`scheduler.step()` after
every batch inside `accelerator.accumulate`). Nothing here imports accelerate: a wrapper is recognised by
its class, which exists only where accelerate was imported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from optlint.runtime.simulate import step_scheduler


@dataclass
class _Batch:
    """The gradient state accelerate's `step()` reads, for one batch."""

    sync_gradients: bool
    adjust_scheduler: bool


def is_accelerated(scheduler) -> bool:
    cls = type(scheduler)
    return cls.__name__ == "AcceleratedScheduler" and cls.__module__.startswith("accelerate.")


def stepping(wrapper):
    """For `simulate.preview`: the function one optimizer step's `scheduler.step()` calls run on a replay."""
    batches = max(1, wrapper.gradient_state.num_steps) if wrapper.step_with_optimizer else 1
    adjust = wrapper.gradient_state.adjust_scheduler

    def for_replay(replay):
        shadow = copy.copy(wrapper)
        shadow.scheduler = _Metric(replay)
        shadow.optimizers = []  # the preview assumes no optimizer step is skipped (a float16 overflow)

        def step():
            for batch in range(batches):
                shadow.gradient_state = _Batch(sync_gradients=batch == batches - 1, adjust_scheduler=adjust)
                type(wrapper).step(shadow)

        return step

    return for_replay


class _Metric:
    """The replay as accelerate steps it: `step()` feeds a ReduceLROnPlateau the preview's worst metric."""

    def __init__(self, replay):
        self.replay = replay

    def step(self):
        step_scheduler(self.replay)

    def __getattr__(self, name):  # `total_steps`, `_step_count`: read and written on the replay itself
        return getattr(self.replay, name)

    def __setattr__(self, name, value):
        if name == "replay":
            object.__setattr__(self, name, value)
        else:
            setattr(self.replay, name, value)


def note(wrapper) -> str:
    """What the preview models, in words."""
    from accelerate.state import AcceleratorState  # imported already: the wrapper is accelerate's

    if not wrapper.step_with_optimizer:
        return "accelerate steps the scheduler at every call (step_scheduler_with_optimizer=False)"
    processes = 1 if wrapper.split_batches else AcceleratorState().num_processes
    accumulated = wrapper.gradient_state.num_steps
    words = [f"accelerate steps the scheduler {processes} time{'s' if processes != 1 else ''} per optimizer step"
             + (" (split_batches)" if wrapper.split_batches else f" ({processes} processes)")]
    if accumulated > 1:
        words.append(f"not while the {accumulated - 1} batches before it accumulate gradients")
    return ", ".join(words) + ": the preview does the same, assuming no optimizer step is skipped"
