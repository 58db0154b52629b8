"""Output formats: SARIF against the official 2.1.0 schema, GitHub annotations, text with source and colour,
statistics."""

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.registry import doc_page, registry
from optlint.report import FORMATS, render, statistics
from optlint.static.command import use_color
from optlint.static.engine import lint_source

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SOURCE = (
    "import torch\n"
    "\n"
    "opt = torch.optim.Adam(model.parameters(), learning_rate=1e-3, rate2=0.1)\n"
    "sched = torch.optim.lr_scheduler.StepLR(opt, step=10)\n"
)


@pytest.fixture
def findings():
    found = lint_source(SOURCE, "src/train.py")
    assert [f.code for f in found] == ["OPT001", "OPT001", "OPT002"]
    return found


def test_every_format_has_its_own_module():
    for fmt in FORMATS:
        assert render(fmt, []) is not None


def test_sarif_is_valid_against_the_official_schema(findings, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    log = json.loads(render("sarif", findings))
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER).validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_carries_rule_metadata_and_help_from_the_rule_pages(findings):
    run = json.loads(render("sarif", findings))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c for c, info in registry().items() if "static" in info.kinds]
    opt001 = rules[[r["id"] for r in rules].index("OPT001")]
    assert opt001["name"] == "unknown-optimizer-kwarg"
    assert opt001["help"]["markdown"] == doc_page("OPT001")
    assert opt001["fullDescription"]["text"].startswith("Flags a call of a `torch.optim` optimizer class")
    assert opt001["defaultConfiguration"]["level"] == "error"


def test_sarif_results_point_at_the_finding_relative_to_the_source_root(findings):
    result = json.loads(render("sarif", findings))["runs"][0]["results"][0]
    region = result["locations"][0]["physicalLocation"]["region"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert result["ruleId"] == "OPT001" and result["level"] == "error"
    assert location == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
    assert (region["startLine"], region["startColumn"]) == (3, 44)
    assert (region["endLine"], region["endColumn"]) == (3, 44 + len("learning_rate"))
    assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "lr"


def test_sarif_of_a_clean_run_is_valid_and_empty():
    log = json.loads(render("sarif", []))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_github_annotations_use_workflow_commands(findings):
    lines = render("github", findings).splitlines()
    assert lines[0].startswith(
        "::error file=src/train.py,line=3,col=44,endLine=3,endColumn=57,title=OPT001 unknown-optimizer-kwarg::"
        "`Adam()` has no keyword `learning_rate`")
    assert lines[0].endswith("%0AHINT: Write `lr=`.")
    assert len(lines) == 3


def test_github_annotation_escapes_what_would_end_the_command():
    from optlint.findings import Finding

    finding = Finding("OPT001", "50% of: a, b\nnext", "dir,with:odd%name.py", 1, 1, 1, 2)
    line = render("github", [finding])
    assert "file=dir%2Cwith%3Aodd%25name.py," in line
    assert line.endswith("::50% of: a, b%0Anext".replace("%", "%25", 1))
    assert "\n" not in line


def test_show_source_puts_a_caret_under_the_reported_span(findings):
    lines = SOURCE.splitlines()
    text = render("text", findings[:1], show_source=True, source=lambda name: lines)
    assert text.splitlines()[1:5] == [
        "  |",
        "3 | opt = torch.optim.Adam(model.parameters(), learning_rate=1e-3, rate2=0.1)",
        "  |                                            ^^^^^^^^^^^^^",
        "  |",
    ]


def test_show_source_aligns_the_caret_after_tabs():
    from optlint.findings import Finding

    line = "\tif x:\topt = Adam(p, learning_rate=1)"
    column = line.index("learning_rate") + 1
    finding = Finding("OPT001", "m", "t.py", 1, column, 1, column + len("learning_rate"))
    shown, caret = render("text", [finding], show_source=True, source=lambda name: [line]).splitlines()[2:4]
    assert caret.index("^") == shown.index("learning_rate")


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert use_color(Stream(True)) and not use_color(Stream(False))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Stream(True))
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_color(Stream(False))


def test_text_is_plain_when_piped_and_coloured_when_asked(findings):
    assert "\x1b[" not in render("text", findings, color=False)
    assert "\x1b[1msrc/train.py\x1b[0m" in render("text", findings, color=True)


def test_cli_output_has_no_colour_when_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--show-source", "-"], input=SOURCE)
    assert result.exit_code == 1 and "\x1b[" not in result.output
    assert "^^^^" in result.output


def test_statistics_count_findings_per_code(findings):
    assert statistics.render(findings).splitlines() == [
        "2  OPT001  [*] unknown-optimizer-kwarg",
        "1  OPT002      unknown-scheduler-kwarg",
    ]
    rows = json.loads(statistics.render(findings, "json"))
    assert rows[0] == {"code": "OPT001", "name": "unknown-optimizer-kwarg", "count": 2, "fixable": True}
