"""Several optimizers that together train one model: Muon for the hidden matrices, AdamW for the rest."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, OneCycleLR, StepLR

import optlint
from optlint.runtime.report import SetupReport

REPO = Path(__file__).resolve().parents[2]


def split_model():
    """The usual Muon split: 2-D hidden weights to Muon; embeddings, norms, biases and the head to AdamW."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 8), nn.Linear(8, 10))
    hidden = [p for name, p in model.named_parameters() if p.ndim == 2 and name[0] in "13"]
    rest = [p for name, p in model.named_parameters() if not (p.ndim == 2 and name[0] in "13")]
    return model, hidden, rest


def test_muon_and_adamw_split_is_one_clean_setup_and_each_part_is_its_own_check():
    model, hidden, rest = split_model()
    muon, adamw = torch.optim.Muon(hidden, lr=0.02), torch.optim.AdamW(rest, lr=3e-4)
    schedulers = [CosineAnnealingLR(muon, T_max=5), LinearLR(adamw, start_factor=0.1, total_iters=3)]
    reports = optlint.check_setup(model, [muon, adamw], schedulers)
    assert isinstance(reports, SetupReport) and reports.ok and reports.findings == []
    assert [report.optimizer_name for report in reports] == ["Muon", "AdamW"]
    for report, optimizer, scheduler in zip(reports, (muon, adamw), schedulers):
        alone = optlint.check_setup(model, optimizer, scheduler)
        assert [finding.code for finding in alone.findings] == ["OPT101"]  # alone, the other half is missing
        assert (report.groups, report.schedule, report.scheduler_name) == (
            alone.groups, alone.schedule, alone.scheduler_name)


def test_a_parameter_no_optimizer_holds_is_reported_once():
    model, hidden, rest = split_model()
    head_bias = model[4].bias
    reports = optlint.check_setup(model, [torch.optim.Muon(hidden), torch.optim.AdamW([p for p in rest if p is not head_bias])])
    missing = [finding for finding in reports.findings if finding.code == "OPT101"]
    assert len(missing) == 1 and not reports.ok
    assert missing[0].message == ("1 trainable parameter of the model is in no param group of any optimizer: `4.bias`: "
                                  "no optimizer updates it, so it keeps its initial value.")
    assert reports[0].findings == missing


def test_a_tensor_two_optimizers_hold_moves_twice_per_iteration():
    weight = nn.Parameter(torch.ones(2))
    weight.grad = torch.ones(2)
    first, second = torch.optim.SGD([weight], lr=0.1), torch.optim.SGD([weight], lr=0.1)
    first.step()
    second.step()
    assert torch.allclose(weight.detach(), torch.full((2,), 0.8))  # torch: both updates land, nothing raises
    model, hidden, rest = split_model()
    reports = optlint.check_setup(model, [torch.optim.Muon(hidden), torch.optim.AdamW(hidden + rest)])
    [finding] = reports.findings
    assert finding.code == "OPT102" and "(2 tensors) are held by optimizer 0 (`Muon`) and optimizer 1 (`AdamW`)" in (
        finding.message)
    assert reports[1].findings == [finding]  # filed with the later optimizer


def test_one_scheduler_goes_with_the_optimizer_it_drives():
    model, hidden, rest = split_model()
    muon, adamw = torch.optim.Muon(hidden), torch.optim.AdamW(rest)
    scheduler = LinearLR(adamw, start_factor=0.5, total_iters=2)
    reports = optlint.check_setup(model, (muon, adamw), scheduler)
    assert [report.scheduler_name for report in reports] == [None, "LinearLR"]
    assert reports[1].schedule == optlint.check_setup(model, adamw, scheduler).schedule


def test_a_scheduler_of_neither_optimizer_is_opt109():
    model, hidden, rest = split_model()
    stranger = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    reports = optlint.check_setup(model, [torch.optim.Muon(hidden), torch.optim.AdamW(rest)], StepLR(stranger, 1))
    assert [finding.code for finding in reports.findings] == ["OPT109"]


def test_factories_in_a_list_are_applied_to_their_own_optimizer():
    model, hidden, rest = split_model()
    adamw = torch.optim.AdamW(rest, lr=3e-4)
    reports = optlint.check_setup(model, [torch.optim.Muon(hidden), adamw],
                                  [None, lambda opt: OneCycleLR(opt, max_lr=1e-3, total_steps=10)], epochs=3)
    assert [report.scheduler_name for report in reports] == [None, "OneCycleLR"]
    assert adamw.param_groups[0]["lr"] == 3e-4  # the factory ran on a stand-in


@pytest.mark.parametrize(("schedulers", "message"), [
    ([None], "2 optimizers but 1 schedulers"),
    (lambda opt: StepLR(opt, 1), "pass a list with one entry per optimizer"),
])
def test_schedulers_that_cannot_be_placed_are_a_clear_error(schedulers, message):
    model, hidden, rest = split_model()
    with pytest.raises(ValueError, match=message):
        optlint.check_setup(model, [torch.optim.Muon(hidden), torch.optim.AdamW(rest)], schedulers)


def test_a_list_of_tensors_is_still_no_optimizer():
    model, _, _ = split_model()
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer or a list of them, got list"):
        optlint.check_setup(model, list(model.parameters()))


def test_assert_setup_raises_with_every_optimizer_in_the_message_and_json_has_each():
    model, hidden, rest = split_model()
    optimizers = [torch.optim.Muon(hidden), torch.optim.AdamW(rest[1:])]
    with pytest.raises(optlint.OptimizerSetupError) as raised:
        optlint.assert_setup(model, optimizers)
    text = str(raised.value)
    assert text.startswith("Muon: ") and "\nAdamW: " in text and "OPT101" in text
    shown = json.loads(json.dumps(raised.value.report.to_dict()))
    assert shown["ok"] is False and [part["optimizer"] for part in shown["optimizers"]] == ["Muon", "AdamW"]


def test_the_real_optimizers_and_schedulers_are_untouched():
    model, hidden, rest = split_model()
    muon, adamw = torch.optim.Muon(hidden, lr=0.02), torch.optim.AdamW(rest, lr=3e-4)
    schedulers = [CosineAnnealingLR(muon, T_max=5), LinearLR(adamw, start_factor=0.1, total_iters=3)]
    before = [repr(o.state_dict()) for o in (muon, adamw, *schedulers)]
    optlint.check_setup(model, [muon, adamw], schedulers, epochs=4)
    assert [repr(o.state_dict()) for o in (muon, adamw, *schedulers)] == before


FACTORY = textwrap.dedent('''
    import torch
    from torch import nn

    def build():
        model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
        hidden = [model[0].weight]
        rest = [p for p in model.parameters() if p is not model[0].weight]
        muon, adamw = torch.optim.Muon(hidden, lr=0.02), torch.optim.AdamW(rest, lr=3e-4)
        return model, [muon, adamw], [torch.optim.lr_scheduler.StepLR(muon, 2), None]

    def build_for_probe():
        model, optimizers, _ = build()
        return model, optimizers, torch.ones(3, 4), lambda out: out.sum()
''')


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "optlint", *args], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_optlint_runtime_checks_a_factory_that_returns_several_optimizers(tmp_path):
    (tmp_path / "train.py").write_text(FACTORY)
    result = run_cli("runtime", "train.py:build", "--device", "cpu", "--output-format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert [part["optimizer"] for part in shown["optimizers"]] == ["Muon", "AdamW"]
    assert [part["scheduler"] for part in shown["optimizers"]] == ["StepLR", None]
    chart = run_cli("runtime", "train.py:build", "--device", "cpu", "--plot", "-", cwd=tmp_path)
    assert chart.returncode == 0 and "\nMuon:\n" in chart.stdout and "\nAdamW:\n" in chart.stdout


def test_the_probe_says_it_steps_one_optimizer(tmp_path):
    (tmp_path / "train.py").write_text(FACTORY)
    result = run_cli("probe", "train.py:build_for_probe", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2 and "returned 2 optimizers; the probe steps one" in result.stderr
