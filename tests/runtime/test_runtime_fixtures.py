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
