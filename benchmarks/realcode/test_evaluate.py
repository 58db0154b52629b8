"""How evaluate.py matches findings to labels and reads projects from snapshots.

    .venv/bin/python -m pytest benchmarks/realcode/test_evaluate.py -q -p no:cacheprovider
"""

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evaluate  # noqa: E402


def finding(code: str, path: str, line: int) -> evaluate.Finding:
    return evaluate.Finding("p", code, path, line, "")


def run_compare(project: dict, findings: list[evaluate.Finding]) -> evaluate.Outcome:
    outcome = evaluate.Outcome()
    evaluate.compare({"id": "p", **project}, findings, outcome)
    return outcome


def test_an_exact_line_claims_its_label_before_a_neighbour_does():
    project = {"expect": [{"code": "OPT011", "path": "a.py", "line": 11},
                          {"code": "OPT011", "path": "a.py", "line": 10}]}
    outcome = run_compare(project, [finding("OPT011", "a.py", 10), finding("OPT011", "a.py", 11)])
    assert sorted((l.line, f.line) for l, f in outcome.true_positives) == [(10, 10), (11, 11)]
    assert outcome.misses == [] and outcome.false_positives == []


def test_one_line_of_slack_then_misses_and_false_positives():
    project = {"expect": [{"code": "OPT002", "path": "a.py", "line": 5},
                          {"code": "OPT014", "path": "a.py", "line": 9}]}
    outcome = run_compare(project, [finding("OPT002", "a.py", 6), finding("OPT014", "a.py", 11),
                                    finding("OPT014", "b.py", 9)])
    assert [l.code for l, _ in outcome.true_positives] == ["OPT002"]
    assert [l.line for l in outcome.misses] == [9]
    assert [(f.path, f.line) for f in outcome.false_positives] == [("a.py", 11), ("b.py", 9)]


def test_alt_lines_and_tolerated_findings():
    project = {"expect": [{"code": "OPT002", "path": "a.py", "line": 20, "alt_lines": [13]}],
               "tolerate": [{"code": "OPT023", "path": "a.py"}]}
    outcome = run_compare(project, [finding("OPT002", "a.py", 13), finding("OPT023", "a.py", 99)])
    assert len(outcome.true_positives) == 1
    assert [f.line for _, f in outcome.tolerated] == [99]
    assert outcome.false_positives == [] and outcome.misses == []


def test_materialise_writes_the_layout_or_says_what_to_fetch(tmp_path):
    work = tmp_path / "owner+name" / "repo"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "train.py").write_text("x = 1\n")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    project = {"id": "p", "repo": "owner/name", "commit": commit, "paths": ["pkg/train.py"]}

    assert evaluate.materialise(project, tmp_path, tmp_path / "out") is None
    assert (tmp_path / "out" / "pkg" / "train.py").read_text() == "x = 1\n"

    missing = evaluate.materialise({**project, "repo": "other/repo"}, tmp_path, tmp_path / "o2")
    assert "github:other/repo" in missing
    absent = evaluate.materialise({**project, "paths": ["nope.py"]}, tmp_path, tmp_path / "o3")
    assert "no nope.py" in absent
