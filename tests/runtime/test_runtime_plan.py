"""A plan replays the loop a framework runs: a scheduler stepped every few epochs or batches (Lightning's
`frequency`), gradient accumulation, a run that stops mid-epoch (`max_steps`). The preview must equal
the LRs of the real optimizer and scheduler stepped by such a loop."""

from __future__ import annotations

import copy
import math
import warnings

import pytest
import torch

from optlint.runtime.api import check_plan
from optlint.runtime.simulate import Plan
from ground_truth import RECIPES
from runtime_models import TinyViT, differential_groups


def batch_loop(optimizer, scheduler, *, epochs, batches, accumulate, interval, frequency, max_steps=None):
    """Lightning's loop, written out: an optimizer step after every `accumulate` batches and at the last
    batch of an epoch; a "step" scheduler after an optimizer step whose batch count (from the epoch's
    start) is a multiple of `frequency`; an "epoch" scheduler after every `frequency`-th full epoch."""
    optimizer, scheduler = copy.deepcopy((optimizer, scheduler))
    lrs, steps = [[] for _ in optimizer.param_groups], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(epochs):
            for batch in range(batches):
                if (batch + 1) % accumulate and batch != batches - 1:
                    continue
                for g, group in enumerate(optimizer.param_groups):
                    lrs[g].append(float(group["lr"]))
                optimizer.step()
                steps += 1
                if interval == "step" and (batch + 1) % frequency == 0:
                    scheduler.step()
                if steps == max_steps:
                    return lrs
            if interval == "epoch" and (epoch + 1) % frequency == 0:
                scheduler.step()
    return lrs


LOOPS = [
    dict(epochs=6, batches=5, accumulate=1, interval="epoch", frequency=2),
    dict(epochs=3, batches=7, accumulate=1, interval="step", frequency=3),
    dict(epochs=3, batches=7, accumulate=2, interval="step", frequency=2),
    dict(epochs=3, batches=7, accumulate=2, interval="step", frequency=3),
    dict(epochs=4, batches=5, accumulate=2, interval="epoch", frequency=1, max_steps=10),
    dict(epochs=4, batches=5, accumulate=1, interval="step", frequency=1, max_steps=13),
]


@pytest.mark.parametrize("loop", LOOPS, ids=lambda loop: "-".join(f"{k}{v}" for k, v in loop.items()))
@pytest.mark.parametrize("name", ["StepLR", "LambdaLR", "CosineAnnealingWarmRestarts"])
def test_a_plan_previews_what_the_loop_gives(name, loop):
    model = TinyViT()
    optimizer = torch.optim.SGD(differential_groups(model), lr=0.1)
    scheduler = RECIPES[name](optimizer)
    steps_per_epoch = math.ceil(loop["batches"] / loop["accumulate"])
    total = min(loop["epochs"] * steps_per_epoch, loop.get("max_steps") or math.inf)
    plan = Plan(math.ceil(total / steps_per_epoch), steps_per_epoch, loop["interval"], loop["frequency"],
                batches_per_step=loop["accumulate"], batches_per_epoch=loop["batches"], total_steps=total)
    report = check_plan(model, optimizer, scheduler, plan)
    assert report.schedule == batch_loop(optimizer, scheduler, **loop)
    assert report.frequency == loop["frequency"]


def test_the_headline_says_how_often_the_scheduler_steps():
    model = TinyViT()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = RECIPES["StepLR"](optimizer)
    report = check_plan(model, optimizer, scheduler, Plan(4, 3, "epoch", frequency=2))
    assert "StepLR stepped every 2 epochs" in str(report).splitlines()[0]
    assert report.to_dict()["schedule"]["frequency"] == 2


def test_a_scheduler_the_loop_never_steps_keeps_its_lr_and_the_probe_ends():
    model = TinyViT()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = RECIPES["LambdaLR"](optimizer)
    optimizer.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.01})
    plan = Plan(3, 4, "step", frequency=10)  # 4 batches an epoch: the batch count never reaches 10
    report = check_plan(model, optimizer, scheduler, plan)
    assert report.schedule[0] == [0.1 * 0.25] * 12
