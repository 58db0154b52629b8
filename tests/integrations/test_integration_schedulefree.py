"""Schedule-Free optimizers (schedulefree 1.4): the preview is the LR each step really uses, as the optimizer
logs it (`scheduled_lr`), replayed with its own step(); ScheduleFreeWrapper is looked through."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

schedulefree = pytest.importorskip("schedulefree", reason="the `schedulefree` extra is not installed")

import optlint  # noqa: E402

STEPS = 6
OPTIMIZERS = {"adamw": (schedulefree.AdamWScheduleFree, {"warmup_steps": 3}),
              "sgd": (schedulefree.SGDScheduleFree, {"warmup_steps": 4, "momentum": 0.9}),
              "radam": (schedulefree.RAdamScheduleFree, {})}


def model_and(cls, **options):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return model, cls(model.parameters(), lr=1e-2, **options)


def real_lrs(model, optimizer, scheduler=None) -> list[list[float]]:
    """Ground truth: `scheduled_lr` after each real step, what the optimizer used."""
    optimizer.train()
    used = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        model(torch.randn(4, 4)).pow(2).mean().backward()
        optimizer.step()
        used.append([group["scheduled_lr"] for group in optimizer.param_groups])
        if scheduler is not None:
            scheduler.step()
    return [list(lrs) for lrs in zip(*used)]


@pytest.mark.parametrize(("cls", "options"), OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_the_preview_is_the_lr_each_step_uses(cls, options):
    model, optimizer = model_and(cls, **options)
    before = [p.detach().clone() for p in model.parameters()]
    report = optlint.check_setup(model, optimizer, epochs=2, steps_per_epoch=STEPS // 2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert optimizer.param_groups[0]["k"] == 0 and not optimizer.param_groups[0]["train_mode"]
    assert report.findings == []
    assert report.schedule == real_lrs(model, optimizer)
    assert any("schedules inside step()" in note for note in report.notes)


def test_a_scheduler_on_top_is_previewed_with_it_and_noted():
    model, optimizer = model_and(schedulefree.AdamWScheduleFree, warmup_steps=2)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=1, steps_per_epoch=STEPS,
                                 scheduler_interval="step")
    assert report.schedule == real_lrs(model, optimizer, scheduler)
    assert any("a second schedule" in note for note in report.notes)


def test_the_wrapper_is_looked_through():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    base = torch.optim.SGD(model.parameters(), lr=0.0025)  # RMSprop: the wrapper's `z` in its state breaks it
    wrapper = schedulefree.ScheduleFreeWrapper(base, momentum=0.9, weight_decay_at_y=0.1)
    report = optlint.check_setup(model, wrapper, lambda opt: lr_scheduler.ExponentialLR(opt, 0.5), epochs=3)
    assert report.findings == [] and report.optimizer_name == "SGD"
    scheduler, used = lr_scheduler.ExponentialLR(base, 0.5), []
    wrapper.train()
    for _ in range(3):  # one step an epoch: the LR the base optimizer steps with, as the wrapper hands it on
        wrapper.zero_grad()
        model(torch.randn(4, 4)).pow(2).mean().backward()
        used.append(base.param_groups[0]["lr"])
        wrapper.step()
        scheduler.step()
    assert report.schedule == [used]


def test_the_wrapper_missing_a_head_is_caught():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    wrapper = schedulefree.ScheduleFreeWrapper(torch.optim.SGD(model[0].parameters(), lr=0.1))
    report = optlint.check_setup(model, wrapper)
    assert [f.code for f in report.findings] == ["OPT101"]
