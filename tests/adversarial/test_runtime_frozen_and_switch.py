"""Generated set-ups for OPT114 and SwitchLR: whichever tensors are frozen, whichever optimizer and zeroing,
the probe reports a frozen parameter exactly when the real next step moves it, by the amount it moves; and
SwitchLR over generated schedulers and milestones previews the if/else loop it stands for."""

from __future__ import annotations

import copy
import os

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.optim import lr_scheduler, swa_utils

import optlint

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FEW = settings(PROFILE, max_examples=max(PROFILE.max_examples // 6, 10))
OPTIMIZERS = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.1),
    "sgd-momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "sgd-decay": lambda params: torch.optim.SGD(params, lr=0.1, weight_decay=0.1),
    "adam": lambda params: torch.optim.Adam(params, lr=0.01),
    "adamw": lambda params: torch.optim.AdamW(params, lr=0.01, weight_decay=0.1),
}


def loss_fn(model, batch):
    return model(batch).pow(2).mean()


@FEW
@given(optimizer=st.sampled_from(sorted(OPTIMIZERS)), frozen=st.lists(st.booleans(), min_size=3, max_size=3),
       set_to_none=st.booleans(), warm_steps=st.integers(0, 2))
def test_a_frozen_parameter_is_reported_exactly_when_the_real_step_moves_it(optimizer, frozen, set_to_none,
                                                                              warm_steps):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    opt = OPTIMIZERS[optimizer](model.parameters())
    batch = torch.randn(4, 3)
    for _ in range(warm_steps):
        opt.zero_grad(set_to_none=set_to_none)
        loss_fn(model, batch).backward()
        opt.step()
    for parameter, freeze in zip(model.parameters(), frozen):  # the last bias trains: the loss has a gradient
        parameter.requires_grad_(not freeze)
    opt.zero_grad(set_to_none=set_to_none)
    report = optlint.probe_step(model, opt, loss_fn, batch)
    real_model, real_opt = copy.deepcopy((model, opt))
    for twin, original in zip(real_model.parameters(), model.parameters()):  # a deep copy drops `.grad`
        twin.grad = None if original.grad is None else original.grad.clone()
    real_opt.zero_grad(set_to_none=set_to_none)
    loss_fn(real_model, batch).backward()
    real_opt.step()
    names = [name for name, _ in model.named_parameters()]
    moved = {name: torch.linalg.vector_norm(after.detach() - before.detach()).item()
             for name, before, after in zip(names, model.parameters(), real_model.parameters())
             if not before.requires_grad and not torch.equal(after, before)}
    assert {c.name: c.change for c in report.frozen_changes} == moved
    assert ("OPT114" in [f.code for f in report.findings]) == bool(moved)


SCHEDULERS = {
    "cosine": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=7),
    "step": lambda opt: lr_scheduler.StepLR(opt, 2, gamma=0.5),
    "swa": lambda opt: swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=2),
    "linear": lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.2, total_iters=3),
}


@FEW
@given(names=st.lists(st.sampled_from(sorted(SCHEDULERS)), min_size=2, max_size=3),
       gaps=st.lists(st.integers(1, 4), min_size=2, max_size=2), epochs=st.integers(1, 12))
def test_switchlr_previews_the_loop_that_switches_schedulers(names, gaps, epochs):
    milestones = [sum(gaps[:i + 1]) for i in range(len(names) - 1)]
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    schedulers = [SCHEDULERS[name](opt) for name in names]
    report = optlint.check_setup(model, opt, optlint.SwitchLR(opt, schedulers, milestones), epochs=epochs)
    lrs = []
    for epoch in range(epochs):  # the if/else loop SwitchLR stands for
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        schedulers[sum(epoch >= m for m in milestones)].step()
    assert report.schedule == [lrs]
