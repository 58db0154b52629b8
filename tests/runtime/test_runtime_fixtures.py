"""The runtime fixtures behave as their docstrings say: the train script's assert_setup passes and
training runs; the demo set-ups carry exactly the findings they describe."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import optlint

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runtime"


def load(name: str):
    sys.path.insert(0, str(FIXTURES))
    try:
        spec = importlib.util.spec_from_file_location(f"runtime_fixture_{name}", FIXTURES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(FIXTURES))


@pytest.mark.parametrize("argv", [["--epochs", "1", "--batch-size", "32"], ["--epochs", "1", "--freeze-backbone"]])
def test_train_script_checks_its_setup_and_trains(argv, capsys):
    loss = load("train_with_assert").main(argv)
    assert loss > 0
    assert "All checks passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "factory", "codes"),
    [
        ("demo_setup", "build", ["OPT101", "OPT104"]),
        ("unfreezing_setup", "build", ["OPT112"]),
        ("gpt_pretrain", "build", []),
    ],
)
def test_fixture_setups_have_the_findings_they_describe(name, factory, codes):
    report = optlint.check_setup(*getattr(load(name), factory)(), epochs=6)
    assert [f.code for f in report.findings] == codes


@pytest.mark.parametrize(
    ("factory", "codes"),
    [
        ("adam_l2", ["OPT110", "OPT111"]),
        ("nadam_l2", ["OPT110", "OPT111"]),
        ("adam_decoupled_split", []),
        ("llama_adamw_default", ["OPT110"]),
    ],
)
def test_weight_decay_setups_have_the_opt_in_findings_they_describe_and_step_cleanly(factory, codes):
    model, optimizer, batch, loss_fn = getattr(load("weight_decay_setups"), factory)()
    report = optlint.check_setup(model, optimizer, select=["OPT1", "OPT110", "OPT111"])
    assert [f.code for f in report.findings] == codes
    assert optlint.check_setup(model, optimizer).findings == []
    assert optlint.probe_step(model, optimizer, loss_fn, batch).ok
