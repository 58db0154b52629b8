"""timm's schedulers are previewed exactly, as timm's train.py steps them (`step_update(num_updates)` after
each optimizer update, `step(epoch + 1, metric)` at each epoch's end), `lr_scale` included; groups with
`lr_scale` under a scheduler that ignores it are OPT115."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as S

import optlint
from timm_schedulers import timm_scheduler

EPOCHS, STEPS = 6, 4
SCALES = (0.25, 0.5, 1.0)


def layer_decay_setup():
    """Three layers with the `lr_scale` timm's param_groups_layer_decay gives them (its own code needs
    timm.models, hence torchvision: the groups are written as it writes them)."""
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2))
    groups = [{"params": layer.parameters(), "lr_scale": scale} for layer, scale in zip(model, SCALES)]
    return model, torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.05)


def timm_loop_lrs(optimizer, scheduler) -> list[list[float]]:
    """Each group's LR at every optimizer step of timm's train.py loop, on a copy of the real objects."""
    optimizer, scheduler = copy.deepcopy((optimizer, scheduler))
    plateau = getattr(scheduler, "lr_scheduler", None)
    metric = plateau.mode_worse if plateau is not None else None
    lrs = [[] for _ in optimizer.param_groups]
    num_updates = 0
    for epoch in range(EPOCHS):
        for _ in range(STEPS):
            for column, group in zip(lrs, optimizer.param_groups):
                column.append(group["lr"])
            num_updates += 1
            scheduler.step_update(num_updates=num_updates, metric=metric)
        scheduler.step(epoch + 1, metric)
    return lrs


RECIPES = {
    "cosine per epoch": lambda ts, o: ts.create_scheduler_v2(o, "cosine", num_epochs=EPOCHS, warmup_epochs=2,
                                                              warmup_lr=1e-5, min_lr=1e-6)[0],
    "cosine per update": lambda ts, o: ts.create_scheduler_v2(o, "cosine", num_epochs=EPOCHS, warmup_epochs=1,
                                                               step_on_epochs=False, updates_per_epoch=STEPS)[0],
    "step": lambda ts, o: ts.StepLRScheduler(o, decay_t=2, decay_rate=0.5, warmup_t=1, warmup_lr_init=1e-5),
    "multistep": lambda ts, o: ts.MultiStepLRScheduler(o, decay_t=[2, 4], decay_rate=0.1),
    "poly per update": lambda ts, o: ts.PolyLRScheduler(o, t_initial=EPOCHS * STEPS, t_in_epochs=False,
                                                        warmup_t=3, warmup_lr_init=0.0),
    "tanh": lambda ts, o: ts.TanhLRScheduler(o, t_initial=EPOCHS, warmup_t=1, warmup_lr_init=1e-5),
    "plateau": lambda ts, o: ts.PlateauLRScheduler(o, decay_rate=0.5, patience_t=1, mode="min"),
    "cosine with noise": lambda ts, o: ts.CosineLRScheduler(o, t_initial=EPOCHS, noise_range_t=(1, 4),
                                                            noise_seed=3),
}


@pytest.fixture(scope="module")
def ts():
    return timm_scheduler()


@pytest.mark.filterwarnings("ignore:PlateauLRScheduler is deprecated")
@pytest.mark.parametrize("recipe", RECIPES)
def test_preview_is_timm_stepped_as_its_train_loop_steps_it(ts, recipe):
    model, optimizer = layer_decay_setup()
    scheduler = RECIPES[recipe](ts, optimizer)
    lrs_before = [g["lr"] for g in optimizer.param_groups]
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report[0].schedule == timm_loop_lrs(optimizer, scheduler)
    assert len(set(map(tuple, report[0].schedule))) == len(SCALES), "each group keeps its lr_scale"
    assert [g["lr"] for g in optimizer.param_groups] == lrs_before, "the real groups are untouched"
    assert report.findings == [], str(report)
    assert "not a torch LR scheduler" not in str(report)


def test_per_update_schedule_is_named_per_step(ts):
    model, optimizer = layer_decay_setup()
    scheduler = RECIPES["cosine per update"](ts, optimizer)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report[0].interval == "step"
    assert "CosineLRScheduler stepped every step" in str(report)


def test_factory_of_a_timm_scheduler_is_replayed(ts):
    model, optimizer = layer_decay_setup()
    factory = RECIPES["cosine per epoch"].__get__(ts)  # lambda o: create_scheduler_v2(o, ...)[0]
    report = optlint.check_setup(model, optimizer, factory, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report[0].schedule == timm_loop_lrs(optimizer, RECIPES["cosine per epoch"](ts, optimizer))


def test_lr_scale_under_a_torch_scheduler_is_opt115():
    model, optimizer = layer_decay_setup()
    report = optlint.check_setup(model, optimizer, S.CosineAnnealingLR(optimizer, T_max=EPOCHS), epochs=EPOCHS)
    [finding] = report.findings
    assert finding.code == "OPT115"
    assert "groups 0 (`0.*`), 1 (`1.*`) and 2 (`2.*`) carry different `lr_scale`" in finding.message
    assert "`CosineAnnealingLR` does not apply `lr_scale`" in finding.message
    assert "create_scheduler_v2" in finding.hint


def test_lr_scale_folded_into_the_groups_lrs_is_clean():
    model, optimizer = layer_decay_setup()
    for group in optimizer.param_groups:
        group["lr"] *= group["lr_scale"]
    report = optlint.check_setup(model, optimizer, S.CosineAnnealingLR(optimizer, T_max=EPOCHS), epochs=EPOCHS)
    assert report.findings == [], str(report)


def test_lr_scale_without_a_scheduler_is_a_note_not_a_finding():
    """MAE's loop applies lr_scale in its own adjust_learning_rate, which no check sees: nothing is certain."""
    model, optimizer = layer_decay_setup()
    report = optlint.check_setup(model, optimizer)
    assert report.findings == []
    assert any("MAE's `adjust_learning_rate`" in note for note in report[0].notes)


def test_one_scale_for_every_group_is_no_finding():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    optimizer = torch.optim.SGD([{"params": m.parameters(), "lr_scale": 1.0} for m in model], lr=0.1)
    report = optlint.check_setup(model, optimizer, S.StepLR(optimizer, 2))
    assert report.findings == []
