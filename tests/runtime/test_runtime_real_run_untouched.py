"""The preview never changes the real run: not the optimizer, not the scheduler, not what their functions
close over or read as globals, also when a factory raises; and it copies no tensor of the model."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as S

import optlint

WARMUP_STEPS_TAKEN = [0]  # a module global that a schedule function advances


class Uncopyable(nn.Parameter):
    """A parameter standing for a large one: copying it fails the test."""

    def __deepcopy__(self, memo):
        raise AssertionError("the preview copied a parameter of the model")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(2, 2)
        self.big = Uncopyable(torch.zeros(4, 4))
        self.schedule_calls = 0

    def lr_at(self, epoch: int) -> float:
        self.schedule_calls += 1
        return 0.5 ** epoch


def sgd(model: nn.Module, **settings) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, **settings)


def real_schedule(optimizer, scheduler, epochs: int) -> list[float]:
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def test_a_lambda_that_closes_over_a_warmup_counter_is_not_advanced():
    taken = [0]

    def warmup(epoch):
        taken[0] += 1
        return min(1.0, taken[0] / 3)

    model = Net()
    optimizer = sgd(model)
    scheduler = S.LambdaLR(optimizer, warmup)
    report = optlint.assert_setup(model, optimizer, scheduler, epochs=4)
    assert taken == [1]  # the constructor's one call, and no more
    assert report.schedule[0] == real_schedule(optimizer, scheduler, 4)


def test_a_factory_whose_lambda_advances_a_global_leaves_the_global_alone():
    def warmup(epoch):
        WARMUP_STEPS_TAKEN[0] += 1
        return 1.0

    model = Net()
    before = list(WARMUP_STEPS_TAKEN)
    optlint.check_setup(model, sgd(model), lambda opt: S.LambdaLR(opt, warmup), epochs=4)
    assert WARMUP_STEPS_TAKEN == before


def test_a_bound_method_of_the_model_runs_on_a_copy_of_its_attributes_and_copies_no_parameter():
    model = Net()
    optimizer = sgd(model)
    scheduler = S.LambdaLR(optimizer, model.lr_at)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=4)
    assert model.schedule_calls == 1
    assert report.schedule[0] == [0.1, 0.05, 0.025, 0.0125]


def test_a_bound_method_of_another_object_holding_model_parts_copies_no_parameter():
    class Recipe:
        def __init__(self, model):
            self.body, self.big = model.body, model.big

        def lr_at(self, epoch):
            return 1.0 if self.big.shape == (4, 4) else 0.0

    model = Net()
    optimizer = sgd(model)
    report = optlint.check_setup(model, optimizer, S.LambdaLR(optimizer, Recipe(model).lr_at), epochs=2)
    assert report.schedule[0] == [0.1, 0.1]


class HalvingLR(S.LRScheduler):
    """A user subclass that keeps `optimizer.param_groups` and reads the LRs from there."""

    def __init__(self, optimizer):
        self.groups = optimizer.param_groups
        super().__init__(optimizer)

    def get_lr(self):
        return [group["lr"] * 0.5 if self.last_epoch else group["lr"] for group in self.groups]


def test_a_subclass_that_keeps_param_groups_previews_its_real_schedule_without_copying_parameters():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = HalvingLR(optimizer)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=4)
    assert report.schedule[0] == [1.0, 0.5, 0.25, 0.125] == real_schedule(optimizer, scheduler, 4)


def test_a_factory_that_raises_after_touching_the_real_optimizer_leaves_it_as_it_was():
    model = Net()
    optimizer = sgd(model, nesterov=True)
    groups_before = [dict(group) for group in optimizer.param_groups]

    def factory(opt):
        S.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)  # writes lr, momentum, initial_lr, max_lr ...
        raise RuntimeError("warm-up steps unknown")

    with pytest.raises(RuntimeError, match="warm-up steps unknown"):
        optlint.check_setup(model, optimizer, factory)
    assert [dict(group) for group in optimizer.param_groups] == groups_before
    assert "step" not in vars(optimizer)


def test_what_cannot_be_copied_is_shared_and_said_so():
    lock = threading.Lock()

    def constant(epoch):
        with lock:
            return 1.0

    model = Net()
    optimizer = sgd(model)
    report = optlint.check_setup(model, optimizer, S.LambdaLR(optimizer, constant), epochs=2)
    assert ("the preview shares lock with the real run, as it cannot be copied: what the scheduler changes "
            "there, the real run sees") in report.notes


def test_a_run_longer_than_the_cap_is_previewed_up_to_it_and_says_so():
    model = Net()
    optimizer = sgd(model)
    report = optlint.check_setup(model, optimizer, S.StepLR(optimizer, 1, gamma=0.5), epochs=201,
                                 steps_per_epoch=1000)
    assert len(report.schedule[0]) == 100_000
    assert report.notes == ["the preview is cut at optimizer step 100,000 of the run's 201,000 (optlint "
                            "previews 100,000 steps at most): the LRs after it are not checked"]
