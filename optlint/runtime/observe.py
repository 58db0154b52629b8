"""Record each optimizer's group LRs at the moment its first scheduler is built.

`OneCycleLR` and `CyclicLR` overwrite every group's `lr` in their constructor, so the LRs the user
wrote are gone once a factory returns. While `optlint runtime` runs the factory (or a training
callback waits for the framework to build the scheduler), the constructors of torch's scheduler
classes are wrapped to read the optimizer's LRs before the real constructor runs; arguments, results
and the built objects are exactly what they would have been.

Recorders may overlap (a callback's recording while `optlint runtime` records): the constructors are
wrapped once, while at least one recorder is open, and restored when the last one stops.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch
from torch.optim import lr_scheduler

from optlint.runtime.simulate import lr_list
from optlint.runtime.unwrap import SCHEDULER_TYPES


class Recorder:
    """`recorded`: {id(optimizer): its group LRs before the first scheduler was built on it}, from `start()`
    until `stop()`."""

    def __init__(self):
        self.recorded: dict[int, list[float]] = {}
        self._seen: list = []  # keeps recorded optimizers alive, so that no id is reused during the recording

    def start(self) -> Recorder:
        if not any(recorder is self for recorder in _OPEN):
            if not _OPEN:
                _wrap_constructors()
            _OPEN.append(self)
        return self

    def stop(self) -> dict[int, list[float]]:
        """Stop recording (again is harmless); the LRs recorded."""
        if any(recorder is self for recorder in _OPEN):
            _OPEN[:] = [recorder for recorder in _OPEN if recorder is not self]
            if not _OPEN:
                _restore_constructors()
        self._seen = []
        return self.recorded

    def saw(self, optimizer) -> None:
        if id(optimizer) not in self.recorded and all(_is_number(g.get("lr")) for g in optimizer.param_groups):
            self.recorded[id(optimizer)] = lr_list(optimizer)
            self._seen.append(optimizer)


_OPEN: list[Recorder] = []
_ORIGINALS: dict[type, object] = {}


@contextlib.contextmanager
def recording_lrs_before_schedulers() -> Iterator[dict[int, list[float]]]:
    """Yields {id(optimizer): its group LRs before the first scheduler was built on it}."""
    recorder = Recorder().start()
    try:
        yield recorder.recorded
    finally:
        recorder.stop()


def _wrap_constructors() -> None:
    _ORIGINALS.update({cls: vars(cls)["__init__"] for cls in _scheduler_classes() if "__init__" in vars(cls)})
    for cls, init in _ORIGINALS.items():
        cls.__init__ = _observed(init)


def _restore_constructors() -> None:
    for cls, init in _ORIGINALS.items():
        cls.__init__ = init
    _ORIGINALS.clear()


def _observed(init):
    @functools.wraps(init)
    def observed(self, *args, **kwargs):
        optimizer = kwargs.get("optimizer", args[0] if args else None)
        if isinstance(optimizer, torch.optim.Optimizer):
            for recorder in _OPEN:
                recorder.saw(optimizer)
        return init(self, *args, **kwargs)

    return observed


def _is_number(value) -> bool:
    """An LR to record: Adafactor's `lr=None` (relative steps) is none, and no stranger may raise in the user's call."""
    return isinstance(value, (int, float)) or (isinstance(value, torch.Tensor) and value.numel() == 1)


def _scheduler_classes() -> list[type]:
    return [
        cls for cls in vars(lr_scheduler).values()
        if isinstance(cls, type) and issubclass(cls, SCHEDULER_TYPES) and cls.__module__ == lr_scheduler.__name__
    ]
