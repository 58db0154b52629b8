"""The torch facts behind the runtime rules (OPT101-OPT109), proved on the installed torch."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.optim import lr_scheduler as S

from ground_truth import RECIPES
from optlint.runtime.analysis import OVERWRITE_GROUP_LRS


def two_params():
    return torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))


def test_zero_grad_leaves_parameters_outside_the_optimizer_alone():  # OPT101
    inside, outside = two_params()
    optimizer = torch.optim.SGD([inside], lr=0.1)
    inside.grad, outside.grad = torch.ones(1), torch.ones(1)
    optimizer.zero_grad()
    optimizer.step()
    assert inside.grad is None and torch.equal(outside.grad, torch.ones(1)) and outside.item() == 0


@pytest.mark.parametrize("foreach", [False, True])
def test_a_tensor_held_twice_is_updated_twice_and_its_state_advances_twice(foreach):  # OPT102
    twice, once = two_params()
    optimizer = torch.optim.AdamW([{"params": [twice]}, {"params": [once]}], lr=1.0, foreach=foreach)
    optimizer.param_groups[1]["params"].append(twice)
    twice.grad, once.grad = torch.ones(1), torch.ones(1)
    optimizer.step()
    assert optimizer.state[twice]["step"] == 2 and optimizer.state[once]["step"] == 1
    assert twice.item() < 1.9 * once.item() < 0


def test_torch_refuses_duplicates_only_when_the_optimizer_is_built():  # OPT102
    a, _ = two_params()
    with pytest.raises(ValueError, match="more than one parameter group"):
        torch.optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)


def test_frozen_parameters_are_skipped_without_state_or_weight_decay():  # OPT103
    frozen, trained = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    frozen.requires_grad_(False)
    optimizer = torch.optim.AdamW([frozen, trained], lr=0.1, weight_decay=0.5)
    trained.grad = torch.ones(1)
    optimizer.step()
    assert frozen.item() == 1.0 and frozen not in optimizer.state and trained in optimizer.state


def test_an_empty_group_beside_others_is_accepted():  # OPT105
    a, _ = two_params()
    optimizer = torch.optim.SGD([{"params": torch.nn.ReLU().parameters(), "lr": 1.0}, {"params": [a]}], lr=0.1)
    assert optimizer.param_groups[0]["params"] == []
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD(torch.nn.ReLU().parameters(), lr=0.1)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_exactly_onecycle_and_cyclic_overwrite_the_group_lrs_they_are_built_with(name):  # OPT107
    a, b = two_params()
    optimizer = torch.optim.SGD([{"params": [a], "lr": 1e-4}, {"params": [b], "lr": 1e-2}], lr=0.1, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = RECIPES[name](optimizer)
    kept = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups] == [1e-4, 1e-2]
    assert kept != isinstance(scheduler, OVERWRITE_GROUP_LRS)


def test_optimizers_check_the_lr_only_when_built():  # OPT108
    a, _ = two_params()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        torch.optim.SGD([a], lr=-0.1)
    optimizer = torch.optim.SGD([a], lr=0.1)
    scheduler = S.LambdaLR(optimizer, lambda epoch: -1.0)
    a.grad = torch.ones(1)
    optimizer.step()
    assert scheduler.get_last_lr() == [-0.1] and a.item() == pytest.approx(0.1)  # climbed the gradient


def test_a_scheduler_only_writes_the_optimizer_it_was_built_with():  # OPT109
    a, _ = two_params()
    old = torch.optim.SGD([a], lr=0.1)
    scheduler = S.StepLR(old, step_size=1, gamma=0.5)
    new = torch.optim.SGD([a], lr=0.1)
    with pytest.warns(UserWarning, match="before `optimizer.step"):  # torch only notices `old` never steps
        for _ in range(3):
            new.step()
            scheduler.step()
    assert new.param_groups[0]["lr"] == 0.1 and old.param_groups[0]["lr"] == 0.0125
