"""transformers' Adafactor with `relative_step=True, lr=None` (the T5 recipe): the preview is the LR Adafactor
really uses (its own relative step), with AdafactorSchedule or without a scheduler, in check_setup, the probe
and `optlint runtime`; no TypeError from optlint's own code."""

from __future__ import annotations

import textwrap

import pytest
import torch
from click.testing import CliRunner
from torch import nn

optimization = pytest.importorskip("transformers.optimization", reason="the `transformers` extra is not installed")

import optlint  # noqa: E402
from optlint.cli import main  # noqa: E402

STEPS = 6


def t5_recipe(scale_parameter=False, warmup_init=True):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = optimization.Adafactor(model.parameters(), scale_parameter=scale_parameter, relative_step=True,
                                       warmup_init=warmup_init, lr=None)
    return model, optimizer


def real_lrs(model, optimizer, scheduler=None) -> list[float]:
    """Ground truth: the relative step Adafactor used at each real step, read from its own state."""
    used = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        model(torch.randn(4, 4)).pow(2).mean().backward()
        optimizer.step()
        group = optimizer.param_groups[0]
        used.append(optimizer._get_lr({**group, "scale_parameter": False}, optimizer.state[group["params"][0]]))
        if scheduler is not None:
            scheduler.step()
    return used


@pytest.mark.parametrize("with_schedule", [True, False], ids=["adafactor-schedule", "no-scheduler"])
@pytest.mark.parametrize("warmup_init", [True, False])
def test_the_preview_is_adafactors_own_relative_step(with_schedule, warmup_init):
    model, optimizer = t5_recipe(warmup_init=warmup_init)
    scheduler = optimization.AdafactorSchedule(optimizer) if with_schedule else None
    report = optlint.check_setup(model, optimizer, scheduler, epochs=2, steps_per_epoch=STEPS // 2,
                                 scheduler_interval="step")
    assert report.findings == []
    assert report.schedule == [real_lrs(model, optimizer, scheduler)]
    assert any("relative_step=True sets its own LR" in note for note in report.notes)


def test_with_scale_parameter_it_says_the_per_tensor_lr_cannot_be_previewed():
    model, optimizer = t5_recipe(scale_parameter=True)
    report = optlint.check_setup(model, optimizer, optimization.AdafactorSchedule(optimizer))
    assert any("cannot be previewed" in note and "RMS" in note for note in report.notes)


def test_the_probe_reads_the_relative_step_of_this_step():
    model, optimizer = t5_recipe()
    real_lrs(model, optimizer)  # six steps taken: the next one is the seventh
    report = optlint.probe_step(model, optimizer, lambda m, x: m(x).pow(2).mean(), torch.randn(4, 4))
    assert report.groups[0].lr == pytest.approx(7e-6)


def test_optlint_runtime_checks_the_t5_recipe(tmp_path):
    path = tmp_path / "t5.py"
    path.write_text(textwrap.dedent("""
        from torch import nn
        from transformers.optimization import Adafactor, AdafactorSchedule

        def build():
            model = nn.Linear(4, 2)
            optimizer = Adafactor(model.parameters(), scale_parameter=True, relative_step=True, warmup_init=True,
                                  lr=None)
            return model, optimizer, AdafactorSchedule(optimizer)
    """), encoding="utf-8")
    result = CliRunner().invoke(main, ["runtime", f"{path}:build", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "relative_step=True sets its own LR" in result.output and "Traceback" not in result.output
