"""SetupReport (table, to_dict), assert_setup, select/ignore and argument checks."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
from torch.optim import lr_scheduler as S

import optlint
from runtime_models import Classifier, differential_groups


def test_public_names_are_the_runtime_api():
    assert issubclass(optlint.OptimizerSetupError, AssertionError)
    assert optlint.SetupReport.__name__ == "SetupReport"
    assert optlint.check_setup.__module__ == optlint.assert_setup.__module__ == "optlint.runtime.api"


def test_table_has_one_row_per_epoch_and_one_column_per_group():
    model = Classifier()
    optimizer = torch.optim.SGD(differential_groups(model, 1e-3, 1e-1), lr=0.1)
    report = optlint.check_setup(model, optimizer, lambda o: S.StepLR(o, step_size=2, gamma=0.1), epochs=4)
    text = str(report)
    table = text.split("Learning rate per group over 4 epochs:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[0].split() == ["epoch", "0:", "backbone.*", "1:", "head.*"]
    assert [row.split() for row in table[1:]] == [
        ["0", "0.001", "0.1"], ["1", "0.001", "0.1"], ["2", "0.0001", "0.01"], ["3", "0.0001", "0.01"]]
    assert text.endswith("All checks passed.")


def test_table_shows_the_first_step_of_each_epoch_with_per_step_schedulers():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=40),
                                 epochs=4, steps_per_epoch=10)
    assert report.interval == "step" and len(report.schedule[0]) == 40
    assert "4 epochs, 10 steps each (at the first step of each epoch)" in str(report)
    rows = str(report).split("each epoch):\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert [float(row.split()[1]) for row in rows] == [float(f"{report.schedule[0][k]:.4g}") for k in (0, 10, 20, 30)]


def test_long_previews_elide_the_middle_epochs():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    report = optlint.check_setup(model, optimizer, lambda o: S.ExponentialLR(o, gamma=0.9), epochs=100)
    rows = str(report).split("over 100 epochs:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(rows) < 30 and rows[-1].split()[0] == "99" and any("..." in row for row in rows)


def test_findings_are_printed_with_severity_name_and_hint():
    model = Classifier()
    optimizer = torch.optim.AdamW(model.backbone.parameters())
    text = str(optlint.check_setup(model, optimizer))
    assert "OPT101 [error] param-not-in-optimizer: 2 trainable parameters" in text
    assert "\n    HINT: Add `{'params': model.head.parameters()}`" in text
    assert text.endswith("Found 1 problem: 1 error.")


def test_to_dict_is_json_with_the_documented_shape():
    model = Classifier()
    optimizer = torch.optim.AdamW(model.backbone.parameters(), lr=1e-3)
    report = optlint.check_setup(model, optimizer, lambda o: S.LambdaLR(o, lambda e: math.inf if e == 2 else 1.0),
                                 epochs=3, steps_per_epoch=2)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["ok"] is False
    assert [f["code"] for f in data["findings"]] == ["OPT101", "OPT108"]
    assert set(data["findings"][0]) == {"code", "name", "severity", "message", "hint"}
    assert data["findings"][1]["severity"] == "error"
    assert data["groups"][0]["index"] == 0 and data["groups"][0]["tensors"] == 8
    assert data["groups"][0]["params"][0] == "backbone.0.weight"
    assert data["schedule"]["epochs"] == 3 and data["schedule"]["steps_per_epoch"] == 2
    assert data["schedule"]["interval"] == "epoch"
    assert data["schedule"]["lr"] == [[0.001, 0.001, 0.001, 0.001, "inf", "inf"]]


def test_report_groups_describe_each_group():
    model = Classifier()
    optimizer = torch.optim.SGD(differential_groups(model, 1e-3, 1e-1), lr=0.1)
    head = optlint.check_setup(model, optimizer).groups[1]
    assert (head.index, head.label, head.lr, head.tensors, head.elements) == (1, "head.*", 0.1, 2, 36)
    assert head.names == ("head.weight", "head.bias")


def test_assert_setup_returns_the_report_when_ok_and_raises_with_the_report_otherwise():
    model = Classifier()
    assert optlint.assert_setup(model, torch.optim.AdamW(model.parameters())).ok
    optimizer = torch.optim.AdamW(model.backbone.parameters())
    with pytest.raises(optlint.OptimizerSetupError) as raised:
        optlint.assert_setup(model, optimizer)
    assert raised.value.report.findings[0].code == "OPT101"
    assert str(raised.value) == str(raised.value.report)


def test_warnings_raise_only_when_strict():
    model = Classifier()
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters())
    assert [f.code for f in optlint.assert_setup(model, optimizer).findings] == ["OPT103"]
    with pytest.raises(optlint.OptimizerSetupError):
        optlint.assert_setup(model, optimizer, strict=True)


def test_select_and_ignore_filter_by_code_or_prefix():
    model = Classifier()
    model.backbone.requires_grad_(False)
    twin = copy.deepcopy(model)
    optimizer = torch.optim.AdamW([*model.backbone.parameters(), *twin.head.parameters()])
    everything = [f.code for f in optlint.check_setup(model, optimizer).findings]
    assert everything == ["OPT101", "OPT103", "OPT104"]
    assert [f.code for f in optlint.check_setup(model, optimizer, select=["OPT103"]).findings] == ["OPT103"]
    assert [f.code for f in optlint.check_setup(model, optimizer, ignore=["opt104"]).findings] == ["OPT101", "OPT103"]
    assert optlint.check_setup(model, optimizer, select=["OPT10"], ignore=["OPT101", "OPT103", "OPT104"]).ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive int"),
        ({"steps_per_epoch": 2.5}, "steps_per_epoch must be a positive int"),
        ({"scheduler_interval": "batch"}, "scheduler_interval must be one of auto, epoch, step"),
        ({"select": ["OPT001"]}, "matches no runtime rule"),
    ],
)
def test_bad_arguments_are_value_errors(kwargs, message):
    model = Classifier()
    with pytest.raises(ValueError, match=message):
        optlint.check_setup(model, torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_optimizer_without_groups_is_refused():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.param_groups.clear()
    with pytest.raises(ValueError, match="has no param groups"):
        optlint.check_setup(model, optimizer)


def test_plateau_preview_states_its_metric_assumption():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    report = optlint.check_setup(model, optimizer, S.ReduceLROnPlateau(optimizer, patience=1), epochs=4)
    assert report.schedule == [[0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]]  # cut after two epochs without improvement
    assert "the preview assumes it never improves" in str(report)
