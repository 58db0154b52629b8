"""One declaration per rule, in its page's front matter: the registry, the rule classes and the pages agree."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.registry import RuleInfo, Severity, _declaration, doc_page, docs_dir, metadata_line, registry
from optlint.runtime.codes import RUNTIME_RULES
from optlint.static.rules import all_rules

ADAM_WITH_DECAY = "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)\n"
ENGINE_CODES = {"OPT000"}  # reported by the engine itself, not by a rule class
RUNTIME_PAGE = ('---\nname: some-rule\nseverity: warning\nkind: runtime\nopt_in: true\ntwin: OPT003\n'
                'summary: "A `thing`: bad."\n---\n\n## What it does\nText.\n')


def test_each_static_rule_class_has_a_static_declaration_and_each_static_declaration_a_class():
    classes = {rule.code for rule in all_rules()}
    declared = {code for code, info in registry().items() if "static" in info.kinds}
    assert classes == declared - ENGINE_CODES
    assert all(rule.info() is registry()[rule.code] for rule in all_rules())


def test_the_runtime_rules_are_the_declarations_of_kind_runtime_and_opt111_is_both():
    assert [info.code for info in RUNTIME_RULES] == [c for c, i in registry().items() if "runtime" in i.kinds]
    assert registry()["OPT111"].kinds == ("static", "runtime") and registry()["OPT111"] in RUNTIME_RULES


def test_a_runtime_twin_names_a_static_rule_once_and_its_page_says_so():
    twins = {code: info.twin for code, info in registry().items() if info.twin}
    assert twins, "no twin declared"
    assert len(set(twins.values())) == len(twins)
    for code, twin in twins.items():
        assert registry()[twin].kinds == ("static",), f"{code}: twin {twin} is not a static rule"
        assert twin in doc_page(code), f"{code}: the page does not name its twin {twin}"


def test_the_front_matter_reads_the_same_as_yaml():
    yaml = pytest.importorskip("yaml")
    for page in docs_dir().glob("OPT*.md"):
        front = yaml.safe_load(page.read_text(encoding="utf-8").split("---\n")[1])
        info = registry()[page.stem]
        assert front.pop("opt_in") is (not info.default_enabled)
        assert front == {key: value for key, value in {
            "name": info.name, "severity": str(info.severity), "kind": info.kind, "fix": info.fix,
            "twin": info.twin, "summary": info.summary}.items() if value is not None}, page.name


def test_a_declaration_is_read_and_its_page_header_rendered(tmp_path):
    page = tmp_path / "OPT900.md"
    page.write_text(RUNTIME_PAGE, encoding="utf-8")
    info = _declaration(page)
    assert info == RuleInfo("OPT900", "some-rule", Severity.WARNING, "A `thing`: bad.", "runtime",
                            default_enabled=False, twin="OPT003")
    assert metadata_line(info) == ('**Severity:** warning · **Kind:** runtime · **Opt-in:** `select=["OPT900"]`, '
                                   "`optlint runtime --select OPT900`")


@pytest.mark.parametrize(("change", "problem"), [
    (("kind: runtime", "kind: static"), "unexpected key 'twin' for a static rule"),
    (("twin: OPT003", "fix: safe"), "unexpected key 'fix' for a runtime rule"),
    (("name: some-rule\n", ""), "missing key 'name'"),
    (("severity: warning", "severity: fatal"), "severity must be one of error, warning, not 'fatal'"),
    (("opt_in: true", "opt_in: yes"), "opt_in must be one of false, true, not 'yes'"),
    (("twin: OPT003", "name: other"), "expected one 'key: value' per key, got 'name: other'"),
    (("twin: OPT003", "twin OPT003"), "expected one 'key: value' per key, got 'twin OPT003'"),
    (("twin: OPT003", "twin: "), "expected one 'key: value' per key, got 'twin: '"),
    (('bad."', 'bad.'), 'summary is not a valid JSON string: "A `thing`: bad.'),
    (("---\nname", "name"), "the page must open with its declaration between two '---' lines"),
])
def test_a_broken_declaration_names_its_page_and_what_is_wrong(tmp_path, change, problem):
    page = tmp_path / "OPT900.md"
    page.write_text(RUNTIME_PAGE.replace(*change), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        _declaration(page)
    assert str(error.value) == f"{page}: {problem}"


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
