"""OPT114 in the one-step probe: a frozen parameter that torch still steps (a zero gradient kept by
`zero_grad(set_to_none=False)`, then SGD momentum or AdamW's decay), a frozen BatchNorm in train mode; the
amounts equal what a real step of the same objects does."""

from __future__ import annotations


import pytest
import torch
from torch import nn

import optlint


def loss_fn(model, batch):
    return model(batch).pow(2).mean()


def trained_then_frozen(optimizer_class, set_to_none: bool, **options):
    """Three steps on everything, then the first layer frozen, zeroed as the loop zeroes."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = optimizer_class(model.parameters(), lr=0.1, **options)
    batch = torch.randn(4, 8)
    for _ in range(3):
        optimizer.zero_grad(set_to_none=set_to_none)
        loss_fn(model, batch).backward()
        optimizer.step()
    model[0].requires_grad_(False)
    optimizer.zero_grad(set_to_none=set_to_none)
    return model, optimizer, batch


def next_real_step(model, optimizer, batch):
    """The loop's next step on the real objects: ‖Δ‖ of the frozen weight."""
    before = model[0].weight.detach().clone()
    optimizer.zero_grad(set_to_none=False)
    loss_fn(model, batch).backward()
    optimizer.step()
    return torch.linalg.vector_norm(model[0].weight.detach() - before).item()


@pytest.mark.parametrize(("optimizer_class", "options"), [(torch.optim.SGD, {"momentum": 0.9}),
                                                           (torch.optim.AdamW, {"weight_decay": 0.1})],
                         ids=["sgd-momentum", "adamw-decay"])
def test_a_frozen_parameter_with_a_zero_grad_moves_as_the_real_step_moves_it(optimizer_class, options):
    model, optimizer, batch = trained_then_frozen(optimizer_class, set_to_none=False, **options)
    original = model[0].weight.detach().clone()
    report = optlint.probe_step(model, optimizer, loss_fn, batch)
    assert torch.equal(model[0].weight, original) and torch.equal(model[0].weight.grad, torch.zeros(8, 8))
    (finding,) = [f for f in report.findings if f.code == "OPT114"]
    weight = next(c for c in report.frozen_changes if c.name == "0.weight")
    assert weight.change == pytest.approx(next_real_step(model, optimizer, batch), rel=1e-6) and weight.change > 0
    assert "`0.weight` (group 0) by" in finding.message and "`.grad` is not None" in finding.message
    assert "set_to_none=True" in finding.hint


def test_a_frozen_parameter_without_a_grad_is_clean():
    model, optimizer, batch = trained_then_frozen(torch.optim.SGD, set_to_none=True, momentum=0.9)
    report = optlint.probe_step(model, optimizer, loss_fn, batch)
    assert report.findings == [] and next_real_step_without_grad(model, optimizer, batch) == 0


def next_real_step_without_grad(model, optimizer, batch) -> float:
    before = model[0].weight.detach().clone()
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model, batch).backward()
    optimizer.step()
    return torch.linalg.vector_norm(model[0].weight.detach() - before).item()


def test_frozen_parameters_left_out_of_the_optimizer_are_clean():
    model, _, batch = trained_then_frozen(torch.optim.SGD, set_to_none=False, momentum=0.9)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    assert optlint.probe_step(model, optimizer, loss_fn, batch).findings == []


def test_in_place_the_real_frozen_weight_moves_by_the_reported_amount():
    model, optimizer, batch = trained_then_frozen(torch.optim.SGD, set_to_none=False, momentum=0.9)
    before = model[0].weight.detach().clone()
    report = optlint.probe_step(model, optimizer, loss_fn, batch, in_place=True)
    moved = torch.linalg.vector_norm(model[0].weight.detach() - before).item()
    assert [c.change for c in report.frozen_changes if c.name == "0.weight"] == [pytest.approx(moved)] and moved > 0


class FrozenBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8))
        self.head = nn.Linear(8, 2)
        self.backbone.requires_grad_(False)

    def forward(self, x):
        return self.head(self.backbone(x))


@pytest.mark.parametrize("backbone_mode", ["train", "eval"])
def test_a_frozen_batchnorm_in_train_mode_moves_its_statistics(backbone_mode):
    torch.manual_seed(0)
    model = FrozenBackbone().train()
    getattr(model.backbone, backbone_mode)()
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=1e-3)
    batch = torch.randn(16, 8) + 3
    running_mean = model.backbone[1].running_mean.clone()
    report = optlint.probe_step(model, optimizer, loss_fn, batch)
    assert torch.equal(model.backbone[1].running_mean, running_mean)  # the probe stepped a copy
    if backbone_mode == "eval":
        assert report.findings == []
        return
    (finding,) = report.findings
    assert finding.code == "OPT114" and "`backbone.1.running_mean` by" in finding.message
    assert "train mode" in finding.message and "eval()" in finding.hint
    model(batch)  # the real forward moves it by the amount reported
    moved = torch.linalg.vector_norm(model.backbone[1].running_mean - running_mean).item()
    assert [c.change for c in report.frozen_changes if c.name.endswith("running_mean")] == [pytest.approx(moved)]
