"""The SWA recipe (CosineAnnealingLR, then SWALR from epoch k, torch.optim.swa_utils) as `optlint.SwitchLR`:
the preview equals the LRs of the recipe's own if/else loop on the real schedulers, in check_setup and in
`optlint runtime`; a loop stepping SwitchLR runs the same LRs as the if/else."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.optim import lr_scheduler, swa_utils

import optlint
from optlint.cli import main

EPOCHS, SWA_START = 12, 5


def recipe(anneal_strategy="cos"):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    swa = swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3, anneal_strategy=anneal_strategy)
    return model, optimizer, cosine, swa


def if_else_loop(optimizer, cosine, swa) -> list[float]:
    """Ground truth: the loop of the torch docs, one LR per epoch."""
    lrs = []
    for epoch in range(EPOCHS):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if epoch > SWA_START:
            swa.step()
        else:
            cosine.step()
    return lrs


@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
def test_the_preview_is_the_swa_loop(anneal_strategy):
    model, optimizer, cosine, swa = recipe(anneal_strategy)
    switch = optlint.SwitchLR(optimizer, [cosine, swa], milestones=[SWA_START + 1])
    report = optlint.check_setup(model, optimizer, switch, epochs=EPOCHS)
    assert report.findings == [] and report.scheduler_name == "SwitchLR"
    truth = if_else_loop(optimizer, cosine, swa)
    assert report.schedule == [truth]
    assert truth[SWA_START + 1] != truth[SWA_START + 2] and truth[-1] == pytest.approx(0.02)


def test_stepping_switchlr_in_the_loop_runs_the_same_lrs():
    _, optimizer, cosine, swa = recipe()
    truth = if_else_loop(optimizer, cosine, swa)
    _, optimizer, cosine, swa = recipe()
    switch, lrs = optlint.SwitchLR(optimizer, [cosine, swa], milestones=[SWA_START + 1]), []
    for _ in range(EPOCHS):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        switch.step()
    assert lrs == truth and switch.get_last_lr() == [optimizer.param_groups[0]["lr"]]


def test_a_resumed_switch_continues_from_its_state():
    _, optimizer, cosine, swa = recipe()
    switch = optlint.SwitchLR(optimizer, [cosine, swa], milestones=[SWA_START + 1])
    for _ in range(SWA_START + 2):
        optimizer.step()
        switch.step()
    _, fresh_optimizer, fresh_cosine, fresh_swa = recipe()
    resumed = optlint.SwitchLR(fresh_optimizer, [fresh_cosine, fresh_swa], milestones=[SWA_START + 1])
    fresh_optimizer.load_state_dict(optimizer.state_dict())
    resumed.load_state_dict(switch.state_dict())
    optimizer.step()
    switch.step()
    fresh_optimizer.step()
    resumed.step()
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize(("schedulers", "milestones", "message"), [
    (1, [3], "two schedulers or more and one milestone fewer"),
    (2, [0], "increasing positive ints"),
    (2, [3, 4], "two schedulers or more and one milestone fewer"),
])
def test_a_switch_that_cannot_be_stepped_is_refused(schedulers, milestones, message):
    _, optimizer, cosine, swa = recipe()
    with pytest.raises(ValueError, match=message):
        optlint.SwitchLR(optimizer, [cosine, swa][:schedulers], milestones=milestones)


def test_a_scheduler_of_another_optimizer_is_refused():
    _, optimizer, cosine, _ = recipe()
    _, other, _, swa = recipe()
    with pytest.raises(ValueError, match="scheduler 1 \\(SWALR\\) is not bound to the optimizer given"):
        optlint.SwitchLR(optimizer, [cosine, swa], milestones=[3])


def test_optlint_runtime_previews_the_recipe(tmp_path):
    path = tmp_path / "swa.py"
    path.write_text(textwrap.dedent(f"""
        import torch
        from torch import nn
        from torch.optim import lr_scheduler, swa_utils
        from optlint import SwitchLR

        def build():
            model = nn.Linear(4, 2)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            cosine = lr_scheduler.CosineAnnealingLR(optimizer, T_max={EPOCHS})
            swa = swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3)
            return model, optimizer, SwitchLR(optimizer, [cosine, swa], milestones=[{SWA_START + 1}])
    """), encoding="utf-8")
    result = CliRunner().invoke(main, ["runtime", f"{path}:build", "--device", "cpu", "--epochs", str(EPOCHS),
                                       "--output-format", "json"])
    assert result.exit_code == 0, result.output
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    truth = if_else_loop(optimizer, lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS),
                         swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3))
    assert json.loads(result.stdout)["schedule"]["lr"] == [truth]
