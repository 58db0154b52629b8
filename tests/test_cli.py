"""The command line's contract: exit statuses, --quiet, --exit-zero, --statistics, --version, explain, rules."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint import __version__
from optlint.cli import main
from optlint.registry import doc_page, registry

BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3, zzz=1)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(BAD)
    return tmp_path


def invoke(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_quiet_prints_the_findings_and_nothing_else(project):
    result = invoke("check", "-q", "train.py")
    assert result.exit_code == 1
    assert [line.split(": ")[0] for line in result.output.splitlines() if not line.startswith(" ")] == [
        "train.py:2:32", "train.py:2:52"]
    assert "Found" not in result.output


def test_exit_zero_keeps_findings_but_not_errors_quiet(project):
    assert invoke("check", "--exit-zero", "train.py").exit_code == 0
    assert invoke("check", "--exit-zero", "train.py", "missing.py").exit_code == 2


def test_statistics_replace_the_findings(project):
    result = invoke("check", "--statistics", "train.py")
    assert result.output.splitlines() == ["2  OPT001  [*] unknown-optimizer-kwarg",
                                          "Found 2 problems in 1 file: 2 errors (1 fixable with --fix)."]
    assert result.exit_code == 1
    rows = json.loads(invoke("check", "--statistics", "--output-format", "json", "train.py").output)
    assert rows == [{"code": "OPT001", "name": "unknown-optimizer-kwarg", "count": 2, "fixable": True}]


def test_summary_counts_fixable_findings(project):
    assert "Found 2 problems in 1 file: 2 errors (1 fixable with --fix)." in invoke("check", "train.py").output


def test_version_reads_like_other_tools():
    assert invoke("--version").output == f"optlint {__version__}\n"
    assert invoke("-V").output == f"optlint {__version__}\n"


def test_check_help_groups_its_options():
    text = invoke("check", "--help").output
    for heading in ("Rule selection:", "File selection:", "Fixes:", "Output:", "Configuration:"):
        assert heading in text
    assert text.index("--select") < text.index("--exclude") < text.index("--fix") < text.index("--output-format")


def test_explain_prints_the_rule_page():
    result = invoke("explain", "opt001")
    assert result.exit_code == 0 and result.output == doc_page("OPT001").rstrip() + "\n"


def test_explain_unknown_code_suggests_one():
    result = invoke("explain", "OPT0001")
    assert result.exit_code == 2 and "unknown rule code 'OPT0001'. Did you mean OPT001?" in result.output


def test_explain_a_prefix_names_the_codes_it_covers():
    result = invoke("explain", "opt01")
    named = [code for code in registry() if code.startswith("OPT01")]
    assert result.exit_code == 2 and f"'OPT01' is a prefix, not a rule code: it names {', '.join(named)}." in result.output


def test_explain_json_and_all():
    page = json.loads(invoke("explain", "OPT002", "--output-format", "json").output)
    assert page["name"] == "unknown-scheduler-kwarg" and page["explanation"].startswith("# OPT002 ")
    every = json.loads(invoke("explain", "--all", "--output-format", "json").output)
    assert [p["code"] for p in every] == list(registry())
    assert invoke("explain").exit_code == 2


def test_rules_lists_every_code():
    rows = json.loads(invoke("rules", "--output-format", "json").output)
    assert [r["code"] for r in rows] == list(registry())
    assert invoke("rules").output.splitlines()[1].startswith("OPT001  unknown-optimizer-kwarg")


@pytest.mark.parametrize("paths", [("train.py", "train.py"), (".", "train.py"), ("train.py", "./train.py"),
                                   ("train.py", "{cwd}/train.py"), (".", "./")])
def test_a_file_named_twice_is_linted_once(project, paths):
    result = invoke("check", "-q", "--no-cache", *(p.format(cwd=project) for p in paths))
    assert result.exit_code == 1
    assert len([line for line in result.output.splitlines() if "OPT001" in line]) == 2, result.output


def test_a_symbolic_link_is_a_file_of_its_own(project):
    Path("link.py").symlink_to("train.py")
    result = invoke("check", "-q", "--no-cache", ".")
    assert sorted(line.split(":")[0] for line in result.output.splitlines() if "OPT001" in line) == [
        "./link.py", "./link.py", "./train.py", "./train.py"]


def test_a_missing_path_named_twice_is_reported_once(project):
    result = invoke("check", "-q", "missing.py", "missing.py", "train.py")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["optlint: error: missing.py: no such file or directory"]


@pytest.mark.parametrize("flag", ["--diff", "--add-noqa"])
def test_a_file_that_does_not_parse_says_why_it_exits_2_where_findings_are_not_printed(project, flag):
    Path("broken.py").write_text("def f(:\n")
    result = invoke("check", flag, "broken.py", "train.py")
    assert result.exit_code == 2
    assert "optlint: error: broken.py:1:7: Syntax error: invalid syntax" in result.output.splitlines()


def test_stdin_filename_without_paths_reads_stdin_not_the_folder(project):
    Path("other.py").write_text(BAD)
    result = invoke("check", "-q", "--stdin-filename", "piped.py", input=BAD)
    assert result.exit_code == 1
    assert {line.split(":")[0] for line in result.output.splitlines() if "OPT001" in line} == {"piped.py"}


def test_a_path_that_cannot_be_read_is_no_passed_check(project):
    result = invoke("check", "missing.py")
    assert result.exit_code == 2
    assert "All checks passed" not in result.output
    assert "No problems found in 0 files, but see the 1 error above." in result.output.splitlines()
