"""OPT106: a param-group key that misspells a real hyper-parameter is kept and ignored by torch."""

from __future__ import annotations

import pytest
import torch

import optlint
from runtime_models import Classifier


def group_key_findings(optimizer, model):
    return [f for f in optlint.check_setup(model, optimizer).findings if f.code == "OPT106"]


def test_torch_keeps_a_misspelled_key_and_runs_with_the_default_lr():
    model = Classifier()
    optimizer = torch.optim.AdamW([{"params": model.parameters(), "learning_rate": 1e-5}], lr=1e-3)
    assert optimizer.param_groups[0]["lr"] == 1e-3 and optimizer.param_groups[0]["learning_rate"] == 1e-5


@pytest.mark.parametrize(
    ("cls", "key", "meant"),
    [
        (torch.optim.AdamW, "learning_rate", "lr"),
        (torch.optim.AdamW, "Lr", "lr"),
        (torch.optim.AdamW, "weightdecay", "weight_decay"),
        (torch.optim.Adam, "beta1", "betas"),
        (torch.optim.SGD, "momentun", "momentum"),
        (torch.optim.SGD, "nestrov", "nesterov"),
    ],
)
def test_misspelled_group_key_is_found_with_what_was_meant(cls, key, meant):
    model = Classifier()
    optimizer = cls([{"params": model.backbone.parameters()}, {"params": model.head.parameters(), key: 0.5}], lr=0.1)
    [found] = group_key_findings(optimizer, model)
    assert f"group 1 has key `{key}`" in found.message and f"Did you mean `{meant}`" in found.message
    assert found.severity == "error"


def test_message_says_which_value_the_group_really_runs_with():
    model = Classifier()
    optimizer = torch.optim.AdamW([{"params": model.parameters(), "learning_rate": 1e-5}])
    [found] = group_key_findings(optimizer, model)
    assert "the group runs with `lr=0.001` (the optimizer's default)" in found.message


@pytest.mark.parametrize("key", ["name", "layer_id", "lr_scale", "tag", "param_names_backup", "initial_lr", "max_lr"])
def test_metadata_and_scheduler_keys_are_never_flagged(key):
    model = Classifier()
    optimizer = torch.optim.AdamW([{"params": model.parameters(), key: "backbone"}])
    assert group_key_findings(optimizer, model) == []


class Lion(torch.optim.Optimizer):
    """A user optimizer: its own hyper-parameters are what its groups may hold."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(torch.sign(p.grad), alpha=-group["lr"])


def test_user_optimizer_keys_come_from_its_defaults():
    model = Classifier()
    optimizer = Lion([{"params": model.backbone.parameters(), "weight_decy": 0.1},
                      {"params": model.head.parameters(), "name": "head"}])
    [found] = group_key_findings(optimizer, model)
    assert "`weight_decy`, which `Lion` ignores" in found.message and "`weight_decay`" in found.message
