"""Generated attacks on the runtime preview's isolation from the real run.

Schedule functions that advance mutable state they close over (a list, a dict, a counter object, a
nested dict of lists, a module global), given as a lambda, a bound method or a callable object, in a
live scheduler or a factory; failures at random points (in the factory before or after it touched the
real optimizer, in the schedule function at some step). Property: the real optimizer's param groups (every
key), its state, the scheduler's state_dict and every closed-over value are the same before and after
check_setup / assert_setup, whether it returns or raises.
"""

from __future__ import annotations

import os

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.optim import lr_scheduler as S

import optlint

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=PROFILE.max_examples // 2)  # each example runs a check: a few ms
GLOBAL_STATE = {"calls": 0, "seen": []}


class Counter:
    def __init__(self):
        self.calls = 0
        self.momentum = [0.9]

    def advance(self, epoch):
        self.calls += 1
        self.momentum.append(self.momentum[-1] * 0.99)
        return 0.9 ** epoch


class CountingModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)
        self.calls = 0

    def advance(self, epoch):
        self.calls += 1
        return 1.0 / (1 + epoch)


class Failure(Exception):
    """Raised by the generated user code: the check may pass it on, never the real run's state."""


def holders(model: CountingModel) -> dict:
    """What a schedule function can close over, by kind."""
    return {"list": [0], "dict": {"calls": 0}, "counter": Counter(), "nested": {"history": [[0]]},
            "global": GLOBAL_STATE, "model": model}


def advance(holder, epoch: int) -> float:
    """Change the holder as a warm-up counter or a momentum schedule would; return an LR factor."""
    if isinstance(holder, list):
        holder.append(epoch)
    elif isinstance(holder, Counter | CountingModel):
        return holder.advance(epoch)
    elif "history" in holder:
        holder["history"][-1].append(epoch)
        holder["history"].append([epoch])
    else:
        holder["calls"] += 1
        holder.setdefault("seen", []).append(epoch)
    return 0.5 ** epoch


def failing_at(holder, fail_at: int | None, epoch: int) -> float:
    if fail_at is not None and epoch >= fail_at:
        raise Failure(f"the schedule fails at epoch {epoch}")
    return advance(holder, epoch)


class Schedule:
    """A callable object that keeps its state in its attributes."""

    def __init__(self, holder, fail_at: int | None):
        self.holder, self.fail_at = holder, fail_at

    def __call__(self, epoch):
        return failing_at(self.holder, self.fail_at, epoch)


def schedule_function(kind: str, holder, fail_at: int | None):
    if kind == "lambda":
        return lambda epoch: failing_at(holder, fail_at, epoch)
    if kind == "bound_method" and isinstance(holder, Counter | CountingModel):
        return holder.advance
    return Schedule(holder, fail_at)


def snapshot(optimizer, scheduler, holder_values: dict) -> dict:
    return {
        "groups": [{key: [id(p) for p in value] if key == "params" else _plain(value)
                    for key, value in group.items()} for group in optimizer.param_groups],
        "state": {id(p): _plain(s) for p, s in optimizer.state.items()},
        "step_patched": "step" in vars(optimizer),
        "scheduler": _plain(scheduler.state_dict()) if scheduler is not None else None,
        "held": {name: _plain(value) for name, value in holder_values.items()},
    }


def _plain(value):
    """A comparable copy: tensors as lists, objects as their attributes."""
    if torch.is_tensor(value):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, nn.Module):
        return {k: _plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    if hasattr(value, "__dict__") and not callable(value):
        return _plain(vars(value))
    return value


@st.composite
def setups(draw):
    model = CountingModel()
    held = holders(model)
    holder_name = draw(st.sampled_from(sorted(held)))
    kind = draw(st.sampled_from(["lambda", "bound_method", "callable_object"]))
    fail_at = draw(st.none() | st.integers(1, 5))
    function = schedule_function(kind, held[holder_name], fail_at)
    scheduler_class = draw(st.sampled_from([S.LambdaLR, S.MultiplicativeLR]))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.layer.weight.grad = torch.ones_like(model.layer.weight)
    optimizer.step()  # a momentum buffer in the state
    as_factory = draw(st.booleans())
    factory_failure = draw(st.sampled_from([None, "before", "after_touching_the_real_optimizer"])) if as_factory else None

    def factory(opt):
        if factory_failure == "before":
            raise Failure("the factory fails before building")
        if factory_failure:
            S.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
            advance(held[holder_name], 0)
            raise Failure("the factory fails after touching the real optimizer")
        return scheduler_class(opt, function)

    scheduler = factory if as_factory else scheduler_class(optimizer, function)
    epochs, steps = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    return model, optimizer, scheduler, held, dict(epochs=epochs, steps_per_epoch=steps)


@FUZZ
@given(setups(), st.booleans())
def test_the_real_run_is_the_same_after_the_check_whether_it_returns_or_raises(setup, asserted):
    model, optimizer, scheduler, held, length = setup
    live = scheduler if isinstance(scheduler, S.LRScheduler) else None
    before = snapshot(optimizer, live, held)
    check = optlint.assert_setup if asserted else optlint.check_setup
    try:
        check(model, optimizer, scheduler, **length)
    except (Failure, optlint.OptimizerSetupError, ValueError, TypeError):
        pass  # SchedulerSimulationError is a ValueError
    after = snapshot(optimizer, live, held)
    assert after == before
