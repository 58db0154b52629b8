"""`optlint probe MODULE:FACTORY`: the probe table, JSON, the plot, exit codes and the factory contract."""

from __future__ import annotations

import json
import sys

import pytest
import torch
from click.testing import CliRunner

from optlint.cli import main
from test_runtime_cli import FIXTURES, assert_bad_input, factory_file

SETUP = f"{FIXTURES}/probe_setup.py"
MODEL = "import torch\nfrom torch import nn\nmodel = nn.Linear(4, 2)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
BATCH = "(torch.randn(3, 4), torch.tensor([0, 1, 1]))"


def probe(*args: str):
    return CliRunner().invoke(main, ["probe", *args])


def test_the_table_shows_each_group_and_the_unused_head_exits_1():
    result = probe(f"{SETUP}:build", "--device", "cpu")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "One AdamW step on a copy: the model and optimizer passed in are unchanged. Loss 2.432."
    header = next(line for line in lines if line.startswith("group"))
    assert header.split() == ["group", "parameters", "lr", "‖w‖", "‖Δw‖", "‖Δw‖/‖w‖", "‖grad‖", "no", "grad", "reading"]
    assert "Rule of thumb: ‖Δw‖/‖w‖ around 1e-3 per step." in result.stdout
    assert "problem: group 2 (head_dist.*): none of its tensors received a gradient" in result.stdout
    assert lines[lines.index(header) + 1].split()[:2] == ["0", "*"] and "* but head.*, head_dist.*" in result.stdout


def test_json_groups_differ_about_100x_and_the_clean_dict_factory_exits_0():
    result = probe(f"{SETUP}:build_clean", "--output-format", "json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    backbone, head = data["groups"]
    assert data["ok"] and data["problems"] == [] and (backbone["lr"], head["lr"]) == (1e-5, 1e-3)
    assert 30 < head["ratio"] / backbone["ratio"] < 300
    assert all(g["first_step_sign_like"] for g in data["groups"])


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "ratios.png"
    result = probe(f"{SETUP}:build", "--plot", str(path), "--device", "cpu")
    assert result.exit_code == 1 and path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert result.stderr.splitlines() == [f"optlint: wrote the plot to {path}"]


def test_plot_without_matplotlib_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert_bad_input(probe(f"{SETUP}:build_clean", "--plot", str(tmp_path / "r.png")), "--plot needs matplotlib")


def test_a_scheduler_sets_the_lr_of_the_step_and_is_named(tmp_path):
    body = MODEL + ("from torch.optim.lr_scheduler import LinearLR\ndef build():\n"
                    f"    return model, opt, LinearLR(opt, start_factor=0.1), {BATCH}, nn.CrossEntropyLoss()\n")
    result = probe(f"{factory_file(tmp_path, body)}:build", "--output-format", "json")
    data = json.loads(result.stdout)
    assert data["scheduler"] == "LinearLR" and data["groups"][0]["lr"] == pytest.approx(0.01)


@pytest.mark.parametrize(("body", "message"), [
    (MODEL + "def build():\n    return model, opt\n", "build() returned no batch and loss function"),
    (MODEL + "from torch.optim.lr_scheduler import StepLR\ndef build():\n"
     f"    return model, opt, StepLR(opt, 1), {BATCH}\n", "4 values with a scheduler third"),
    (MODEL + f"def build():\n    return {{'model': model, 'optimiser': opt, 'batch': {BATCH}}}\n",
     "a dict with an unknown key 'optimiser'"),
    (MODEL + f"def build():\n    return model, opt, {BATCH}, lambda m, b: m(b[0])\n",
     "the step on the set-up from build() raised TypeError: loss_fn must return the scalar loss tensor"),
    (MODEL + "def build():\n    return model, opt, torch.randn(3, 5), nn.MSELoss()\n",
     "the batch must be (inputs, targets)"),
], ids=["no-batch", "scheduler-in-a-4-tuple", "misspelt-key", "loss-not-scalar", "loss-module-without-targets"])
def test_bad_factories_are_one_line(tmp_path, body, message):
    assert_bad_input(probe(f"{factory_file(tmp_path, body)}:build"), message)


def test_meta_is_not_a_device_the_probe_can_step_on():
    assert_bad_input(probe(f"{SETUP}:build", "--device", "meta"), "--device")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the refusal needs a CPU-only one")
def test_cuda_without_a_gpu_suggests_a_device_the_probe_takes():
    result = probe(f"{SETUP}:build", "--device", "cuda")
    assert_bad_input(result, "no CUDA device is available")
    assert result.stderr.splitlines()[-1] == "HINT: use --device cpu"


def test_runtime_accepts_a_factory_written_for_the_probe():
    result = CliRunner().invoke(main, ["runtime", f"{SETUP}:build", "--device", "cpu"])
    assert result.exit_code == 0 and result.stdout.rstrip().endswith("All checks passed."), result.output
