"""OPT107, OPT108, OPT109 on real set-ups, and the correct versions that must stay silent."""

from __future__ import annotations

import math

import pytest
import torch
from torch.optim import lr_scheduler as S

import optlint
from ground_truth import stepped
from runtime_models import Classifier, TinyViT, decay_groups, differential_groups


def codes(report) -> list[str]:
    return [f.code for f in report.findings]


def finding(report, code: str):
    [match] = [f for f in report.findings if f.code == code]
    return match


def finetune():
    model = TinyViT()
    return model, torch.optim.AdamW(differential_groups(model, 1e-5, 1e-3))


@pytest.mark.parametrize(
    "factory",
    [
        pytest.param(lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=100), id="OneCycleLR"),
        pytest.param(lambda o: S.CyclicLR(o, base_lr=1e-5, max_lr=1e-3, step_size_up=4), id="CyclicLR"),
    ],
)
def test_scalar_cycle_scheduler_flattens_differential_lrs(factory):
    model, optimizer = finetune()
    report = optlint.check_setup(model, optimizer, factory, epochs=3, steps_per_epoch=4)
    found = finding(report, "OPT107")
    assert found.severity == "warning" and report.ok
    assert "had learning rates 1e-05, 0.001" in found.message
    assert report.schedule[0] == report.schedule[1]


def test_onecycle_hint_names_one_peak_per_group():
    model, optimizer = finetune()
    found = finding(optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=50)),
                    "OPT107")
    assert "max_lr=[1e-05, 0.001]" in found.hint


def test_per_group_peaks_keep_differential_lrs():
    model, optimizer = finetune()
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=[1e-5, 1e-3], total_steps=12),
                                 epochs=3, steps_per_epoch=4)  # sized to the run: OPT113 is silent too
    assert report.findings == []
    assert all(a < b for a, b in zip(*report.schedule))


def test_decay_groups_with_one_lr_are_uniform_on_purpose():
    model = TinyViT()
    optimizer = torch.optim.AdamW(decay_groups(model), lr=1e-3)
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=50))
    assert report.findings == []


def test_group_frozen_with_lr_zero_trains_under_onecycle():
    model = Classifier()
    optimizer = torch.optim.SGD([{"params": model.backbone.parameters(), "lr": 0.0},
                                 {"params": model.head.parameters(), "lr": 0.1}], momentum=0.9)
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20),
                                 epochs=2, steps_per_epoch=5)
    assert report.schedule[0] == report.schedule[1]  # collapsed too, but the lr=0 finding says it all: one finding
    message = finding(report, "OPT107").message
    assert "group 0 (`backbone.*`) had `lr=0` before `OneCycleLR` was built, and trains at up to 0.1" in message


def test_equal_peaks_given_as_a_list_are_not_called_a_scalar():
    model, optimizer = finetune()
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=[1e-3, 1e-3], total_steps=50))
    message = finding(report, "OPT107").message
    assert "`OneCycleLR` overwrote them with the same `max_lr` for every group" in message
    assert "scalar" not in message


def test_lr_zero_group_stays_at_zero_under_cosine():
    model = Classifier()
    optimizer = torch.optim.SGD([{"params": model.backbone.parameters(), "lr": 0.0},
                                 {"params": model.head.parameters(), "lr": 0.1}])
    report = optlint.check_setup(model, optimizer, lambda o: S.CosineAnnealingLR(o, T_max=10))
    assert report.findings == []


def test_onecycle_instance_cannot_know_the_lrs_it_overwrote_and_says_how_to_check_them():
    model, optimizer = finetune()
    scheduler = S.OneCycleLR(optimizer, max_lr=1e-3, total_steps=50)
    report = optlint.check_setup(model, optimizer, scheduler)
    assert "OPT107" not in codes(report)
    assert any("pass a factory" in note for note in report.notes)


def test_negative_lambda_lr_is_found_with_group_and_epoch():
    model, optimizer = finetune()
    scheduler = S.LambdaLR(optimizer, lambda epoch: 1 - epoch / 4)  # linear decay that overshoots its horizon
    report = optlint.check_setup(model, optimizer, scheduler, epochs=8)
    found = finding(report, "OPT108")
    assert "group 0" in found.message and "at epoch 5 (optimizer step 5)" in found.message
    assert "(group 1 (`head.*`) too)" in found.message
    assert not report.ok


def test_clamped_lambda_lr_is_clean():
    model, optimizer = finetune()
    scheduler = S.LambdaLR(optimizer, lambda epoch: max(0.0, 1 - epoch / 4))
    assert optlint.check_setup(model, optimizer, scheduler, epochs=8).findings == []


def test_nan_lr_is_found():
    model, optimizer = finetune()
    scheduler = S.LambdaLR(optimizer, lambda epoch: math.nan if epoch == 3 else 1.0)
    found = finding(optlint.check_setup(model, optimizer, scheduler), "OPT108")
    assert "`lr=nan` at epoch 3" in found.message


def test_scheduler_bound_to_another_optimizer():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = S.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)  # switched optimizers, kept the old scheduler
    report = optlint.check_setup(model, optimizer, scheduler, epochs=3)
    found = finding(report, "OPT109")
    assert "drives another `SGD` optimizer, not this `AdamW`" in found.message
    assert report.schedule == [[1e-4] * 3]  # what really happens: this optimizer's LR never changes


def test_sequential_lr_bound_to_another_optimizer():
    model = Classifier()
    old = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = S.SequentialLR(old, [S.LinearLR(old, 0.1, total_iters=2), S.ExponentialLR(old, 0.9)], milestones=[2])
    assert "OPT109" in codes(optlint.check_setup(model, torch.optim.SGD(model.parameters(), lr=0.1), scheduler))


class WrappedOptimizer(torch.optim.Optimizer):
    """Shaped like accelerate's AcceleratedOptimizer: a torch Optimizer that forwards to `.optimizer`."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    @property
    def param_groups(self):
        return self.optimizer.param_groups

    @property
    def defaults(self):
        return self.optimizer.defaults

    @property
    def state(self):
        return self.optimizer.state

    def step(self, closure=None):
        return self.optimizer.step(closure)

    def __getstate__(self):
        return dict(vars(self))

    def __setstate__(self, state):
        vars(self).update(state)


@pytest.mark.parametrize("bind_to_wrapper", [True, False], ids=["scheduler-on-wrapper", "scheduler-on-inner"])
def test_framework_wrappers_of_the_same_optimizer_are_not_another_optimizer(bind_to_wrapper):
    model, inner = finetune()
    wrapped = WrappedOptimizer(inner)
    scheduler = S.CosineAnnealingLR(wrapped if bind_to_wrapper else inner, T_max=4)
    report = optlint.check_setup(model, wrapped, scheduler)
    assert report.findings == []
    assert report.schedule == stepped(inner, scheduler, epochs=5, steps=1)


def test_factory_that_builds_on_the_real_optimizer_is_refused_and_changes_nothing():
    model, optimizer = finetune()
    groups_before = [dict(g) for g in optimizer.param_groups]
    with pytest.raises(ValueError, match="on the optimizer it is given"):
        optlint.check_setup(model, optimizer, lambda opt: S.OneCycleLR(optimizer, max_lr=1e-2, total_steps=10))
    assert [dict(g) for g in optimizer.param_groups] == groups_before
    assert "step" not in vars(optimizer)


def test_scheduler_that_raises_in_the_preview_is_an_error_naming_the_step():
    model, optimizer = finetune()
    scheduler = S.OneCycleLR(optimizer, max_lr=[1e-5, 1e-3], total_steps=6)
    [finding] = optlint.check_setup(model, optimizer, scheduler, epochs=2, steps_per_epoch=4).findings
    assert finding.code == "OPT116" and "after optimizer step 6 (epoch 1) raises ValueError" in finding.message
    report = optlint.check_setup(model, optimizer, scheduler, epochs=2, steps_per_epoch=3)
    assert report.findings == []
