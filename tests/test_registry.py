"""One registry entry per code: a rule that both passes check (OPT111) is declared once and shared."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.findings import RuleInfo, Severity, _by_code, registry
from optlint.runtime.codes import ADAM_WITH_WEIGHT_DECAY, RUNTIME_RULES
from optlint.static.rules import all_rules

ADAM_WITH_DECAY = "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)\n"


def test_the_static_twin_reports_the_runtime_declaration_itself():
    [rule] = [rule for rule in all_rules() if rule.code == "OPT111"]
    assert rule.info() is ADAM_WITH_WEIGHT_DECAY is registry()["OPT111"]
    assert ADAM_WITH_WEIGHT_DECAY in RUNTIME_RULES and registry()["OPT111"].kinds == ("static", "runtime")


def test_a_code_declared_twice_must_be_declared_identically():
    info = RuleInfo("OPT900", "some-rule", Severity.WARNING, "Something.")
    assert _by_code([info, dataclasses.replace(info)]) == {"OPT900": info}
    with pytest.raises(ValueError, match="OPT900 is declared twice with different metadata"):
        _by_code([info, dataclasses.replace(info, severity=Severity.ERROR)])


def test_the_registry_is_sorted_and_holds_each_code_once():
    codes = list(registry())
    assert codes == sorted(set(codes))


def test_rules_lists_the_twin_once_as_static_and_runtime_opt_in():
    rules = json.loads(CliRunner().invoke(main, ["rules", "--output-format", "json"]).stdout)
    [twin] = [rule for rule in rules if rule["code"] == "OPT111"]
    assert twin["kind"] == "static+runtime" and twin["default_enabled"] is False


@pytest.mark.parametrize(("args", "reported"), [
    ([], False), (["--select", "OPT1"], False), (["--select", "OPT111"], True), (["--extend-select", "OPT111"], True),
])
def test_static_opt111_runs_only_when_selected_by_full_code(tmp_path, args, reported):
    path = tmp_path / "train.py"
    path.write_text(ADAM_WITH_DECAY, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--isolated", *args, str(path)])
    assert ("OPT111 [warning]" in result.stdout) is reported, result.stdout
