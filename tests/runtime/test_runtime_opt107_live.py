"""OPT107 on a live scheduler (no factory): proved from what the schedulers kept, never guessed."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

import optlint

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def backbone_and_head():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 1e-4},
                                 {"params": model[2].parameters(), "lr": 1e-2}], lr=1e-2, momentum=0.9)
    return model, optimizer


def warmup_then_onecycle(optimizer, max_lr):
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=2)
    onecycle = lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=20)
    return lr_scheduler.SequentialLR(optimizer, [warmup, onecycle], milestones=[2])


def test_a_scalar_max_lr_after_a_warmup_is_proved_by_the_warmups_base_lrs():
    model, optimizer = backbone_and_head()
    report = optlint.check_setup(model, optimizer, warmup_then_onecycle(optimizer, 1e-2), epochs=2,
                                 steps_per_epoch=10, scheduler_interval="step")
    (finding,) = [f for f in report.findings if f.code == "OPT107"]
    assert "had learning rates 0.0001, 0.01 before `SequentialLR` was built" in finding.message
    assert not any("pass a factory" in note for note in report.notes)


def test_per_group_max_lrs_after_a_warmup_are_clean():
    model, optimizer = backbone_and_head()
    report = optlint.check_setup(model, optimizer, warmup_then_onecycle(optimizer, [1e-4, 1e-2]), epochs=2,
                                 steps_per_epoch=10, scheduler_interval="step")
    assert report.findings == []


def test_a_lone_live_onecycle_proves_nothing_and_says_so():
    model, optimizer = backbone_and_head()
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=10)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=1, steps_per_epoch=10)
    assert report.findings == []
    assert any("the LRs written before it are gone" in note for note in report.notes)
