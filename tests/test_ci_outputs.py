"""What CI services read: repository-relative paths, GitLab Code Quality, JUnit, ruff's JSON fields,
--output-file, the --statistics total, and the file-level `# optlint: noqa`."""

import contextlib
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.findings import Finding
from optlint.report import render

BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3)\n"
TWO = BAD + "sched = torch.optim.lr_scheduler.StepLR(opt, step=10)\n"


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "train.py").write_text(BAD)
    (root / "sub").mkdir()
    (root / "sub" / "model.py").write_text(TWO)
    return root


def check(cwd: Path, *args: str, input: str | None = None):
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *args], input=input)


def test_github_annotations_name_files_relative_to_the_repository(repo):
    lines = check(repo, "--output-format", "github", ".").stdout.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "::error file=sub/model.py", "::error file=sub/model.py", "::error file=train.py"]
    inside = check(repo / "sub", "--output-format", "github", ".").stdout
    assert inside.startswith("::error file=sub/model.py,")


def test_sarif_paths_are_relative_to_the_repository_root(repo):
    run = json.loads(check(repo / "sub", "--output-format", "sarif", ".").stdout)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "sub/model.py", "uriBaseId": "%SRCROOT%"}


def test_stdin_stays_a_dash_in_a_repositorys_subfolder(repo):
    assert check(repo / "sub", "--output-format", "github", "-", input=BAD).stdout.startswith("::error file=-,")


def test_outside_a_repository_paths_are_as_given_without_dot_slash(tmp_path):
    (tmp_path / "train.py").write_text(BAD)
    assert check(tmp_path, "--output-format", "github", ".").stdout.startswith("::error file=train.py,")


def test_gitlab_code_quality_report(repo):
    issues = json.loads(check(repo, "--output-format", "gitlab", ".").stdout)
    first = issues[0]
    assert first["check_name"] == "OPT001" and first["description"].startswith("OPT001: `Adam()` has no keyword")
    assert first["severity"] == "major"
    assert first["location"] == {"path": "sub/model.py",
                                 "positions": {"begin": {"line": 2, "column": 32}, "end": {"line": 2, "column": 45}}}
    assert len({issue["fingerprint"] for issue in issues}) == len(issues) == 3


def test_gitlab_fingerprints_survive_moved_lines_and_stay_unique(tmp_path):
    def fingerprints(*rows):
        return [i["fingerprint"] for i in json.loads(render("gitlab", [
            Finding("OPT001", "same message", "train.py", row, 1, row, 2) for row in rows]))]

    assert fingerprints(3) == fingerprints(30)  # a line added above is not a new finding
    twice = fingerprints(3, 9)
    assert len(set(twice)) == 2 and twice[0] == fingerprints(3)[0]


def test_gitlab_warnings_are_minor():
    [issue] = json.loads(render("gitlab", [Finding("OPT014", "m", "t.py")]))
    assert issue["severity"] == "minor"


def test_junit_has_a_suite_per_file_and_a_failure_per_finding(repo):
    report = ElementTree.fromstring(check(repo, "--output-format", "junit", ".").stdout)
    assert (report.get("name"), report.get("tests"), report.get("failures")) == ("optlint", "3", "3")
    suites = {suite.get("name"): suite for suite in report}
    assert list(suites) == ["sub/model.py", "train.py"]
    cases = list(suites["sub/model.py"])
    assert [case.get("name") for case in cases] == ["optlint.OPT001", "optlint.OPT002"]
    assert (cases[0].get("classname"), cases[0].get("line"), cases[0].get("column")) == ("sub/model", "2", "32")
    failure = cases[0].find("failure")
    assert failure.get("message").startswith("`Adam()` has no keyword `learning_rate`")
    assert failure.text.startswith("line 2, col 32, `Adam()`")


def test_junit_of_a_clean_run_is_one_passing_case(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = check(tmp_path, "--output-format", "junit", ".")
    report = ElementTree.fromstring(result.stdout)
    [suite] = report
    [case] = suite
    assert result.exit_code == 0 and report.get("failures") == "0" and case.find("failure") is None


def test_json_has_the_fields_of_ruffs_json(repo):
    [first, *_] = json.loads(check(repo, "--output-format", "json", "train.py").stdout)
    assert first["noqa_row"] == 2 and first["cell"] is None
    assert first["url"].startswith("file://") and first["url"].endswith("/OPT001.md")
    assert Path(first["url"].removeprefix("file://")).is_file()
    [edit] = first["fix"]["edits"]
    assert first["fix"]["applicability"] == "safe"
    assert (edit["location"], edit["end_location"]) == ({"row": 2, "column": 32}, {"row": 2, "column": 45})
    assert BAD[edit["start"]:edit["end"]] == "learning_rate" and edit["content"] == "lr"  # optlint's own keys stay


def test_json_edit_locations_count_crlf_line_ends(tmp_path):
    (tmp_path / "train.py").write_bytes(BAD.replace("\n", "\r\n").encode())
    [finding] = json.loads(check(tmp_path, "--output-format", "json", "train.py").stdout)
    assert finding["fix"]["edits"][0]["location"] == {"row": 2, "column": 32}


def test_output_file_gets_the_report_and_stdout_nothing(repo):
    result = check(repo, "--output-format", "gitlab", "--output-file", "quality.json", ".")
    assert result.exit_code == 1 and result.stdout == ""
    assert len(json.loads((repo / "quality.json").read_text())) == 3
    assert [p.name for p in repo.iterdir() if p.name.endswith(".optlint")] == []  # no temporary left


def test_output_file_that_cannot_be_written_is_one_error_line(repo):
    result = check(repo, "--output-file", "missing/dir/report.txt", ".")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "optlint: error: cannot write the report to missing/dir/report.txt: No such file or directory"]


def test_output_file_text_has_no_colour(repo, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    check(repo, "-o", "report.txt", ".")
    text = (repo / "report.txt").read_text()
    assert "\x1b[" not in text and text.endswith("Found 3 problems in 2 files: 3 errors (2 fixable with --fix).\n")


def test_statistics_end_with_the_total(repo):
    lines = check(repo, "--statistics", ".").stdout.splitlines()
    assert lines[-1] == "Found 3 problems in 2 files: 3 errors (2 fixable with --fix)."
    assert lines[:-1] == check(repo, "--statistics", "-q", ".").stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["2", "OPT001"], ["1", "OPT002"]]


@pytest.mark.parametrize(("directive", "left"), [
    ("# optlint: noqa", []),
    ("# optlint: noqa: OPT001", ["OPT002"]),
    ("#OPTLINT:NOQA: opt002, OPT001", []),
    ("# optlint: noqa: OPT9", ["OPT001", "OPT002"]),  # not a valid code list: no directive, never a blanket one
    ("x = 1  # optlint: noqa", ["OPT001", "OPT002"]),  # not on a line of its own
    ('"""\n# optlint: noqa\n"""', ["OPT001", "OPT002"]),  # inside a string
])
def test_file_level_noqa(tmp_path, directive, left):
    (tmp_path / "train.py").write_text(TWO.replace("\n", f"\n{directive}\n", 1))
    codes = [f["code"] for f in json.loads(check(tmp_path, "--output-format", "json", "train.py").stdout)]
    assert codes == left


def test_file_level_noqa_does_not_hide_a_syntax_error(tmp_path):
    (tmp_path / "train.py").write_text("# optlint: noqa\nopt = torch.optim.Adam(\n")
    result = check(tmp_path, "train.py")
    assert result.exit_code == 2 and "OPT000" in result.stdout
