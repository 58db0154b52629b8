"""Recall and false positives of optlint on labelled real training code (labels.toml).

The code itself is never in this repository: each project of labels.toml names a public
repository, a commit and the files that make up the project; they are read from the git snapshots
under /work/.mirror (the session's `fetch` tool puts them there), written into a temporary folder in
their relative layout, and linted there with `optlint check --isolated --no-cache`.

    .venv/bin/python benchmarks/realcode/evaluate.py                 # the table, misses, false positives
    .venv/bin/python benchmarks/realcode/evaluate.py --by-kind       # ... and recall by where the objects come from
    .venv/bin/python benchmarks/realcode/evaluate.py --project simclr --keep /tmp/rc

A finding matches a label when code and path agree and the line is the labelled one (or one of its
`alt_lines`), else within one line of it. `tolerate` entries are findings that are defensible
either way (the rule's letter flags them, the code does no harm); they count neither way and are
listed apart so that a reader can still judge them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
DEFAULT_MIRROR = Path("/work/.mirror")
KINDS = ("scope", "function", "module", "container", "framework")


@dataclass(frozen=True)
class Label:
    project: str
    code: str
    path: str
    line: int | None
    alt_lines: tuple[int, ...] = ()
    via: str = "scope"
    note: str = ""

    def lines(self) -> tuple[int, ...]:
        return () if self.line is None else (self.line, *self.alt_lines)


@dataclass(frozen=True)
class Finding:
    project: str
    code: str
    path: str
    line: int
    message: str


@dataclass
class Outcome:
    true_positives: list[tuple[Label, Finding]] = field(default_factory=list)
    misses: list[Label] = field(default_factory=list)
    false_positives: list[Finding] = field(default_factory=list)
    tolerated: list[tuple[Label, Finding]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def git_dir(mirror: Path, repo: str) -> Path | None:
    root = mirror / repo.replace("/", "+") / "repo"
    for candidate in (root / ".git", root):
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def materialise(project: dict, mirror: Path, dest: Path) -> str | None:
    """Write the project's files into dest; return why not, or None."""
    repo, commit = project["repo"], project["commit"]
    gdir = git_dir(mirror, repo)
    if gdir is None:
        return (f"{project['id']}: no snapshot of {repo} under {mirror}; "
                f"bring it with the session's fetch tool (source github:{repo}), then rerun")
    for path in project["paths"]:
        shown = subprocess.run(["git", "--git-dir", str(gdir), "show", f"{commit}:{path}"],
                               capture_output=True)
        if shown.returncode != 0:
            return (f"{project['id']}: {repo}@{commit[:12]} has no {path} in the snapshot "
                    f"({shown.stderr.decode(errors='replace').strip()}); fetch a newer snapshot")
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)
    return None


def lint(optlint: str, folder: Path, project_id: str) -> list[Finding]:
    done = subprocess.run([optlint, "check", "--no-cache", "--isolated", "--output-format", "json",
                           "-j", "1", str(folder)], capture_output=True, text=True)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip().startswith("["):
        fail(f"optlint failed on {project_id} (exit {done.returncode}): {done.stderr.strip()[:400]}")
    return [Finding(project_id, item["code"],
                    Path(item["filename"]).resolve().relative_to(folder.resolve()).as_posix(),
                    item["location"]["row"], item["message"])
            for item in json.loads(done.stdout)]


def fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(2)


def read_projects(path: Path) -> list[dict]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError) as error:
        fail(f"cannot read the labels in {path}: {error}")


def labels_of(project: dict, key: str) -> list[Label]:
    return [Label(project["id"], item["code"], item["path"], item.get("line"),
                  tuple(item.get("alt_lines", ())), item.get("via", "scope"), item.get("note", ""))
            for item in project.get(key, [])]


def take_match(finding: Finding, labels: list[Label], slack: int) -> Label | None:
    """Remove and return the first label that finding matches within slack lines."""
    for label in labels:
        if label.code != finding.code or label.path != finding.path:
            continue
        if label.line is None or any(abs(finding.line - line) <= slack for line in label.lines()):
            labels.remove(label)
            return label
    return None


def compare(project: dict, findings: list[Finding], outcome: Outcome) -> None:
    expected = labels_of(project, "expect")
    tolerated = labels_of(project, "tolerate")
    unmatched = sorted(findings, key=lambda f: (f.path, f.line, f.code))
    for slack in (0, 1):  # exact lines claim their labels before near ones do
        still = []
        for finding in unmatched:
            label = take_match(finding, expected, slack)
            if label is not None:
                outcome.true_positives.append((label, finding))
            else:
                still.append(finding)
        unmatched = still
    for finding in unmatched:
        label = next((t for t in tolerated if t.code == finding.code and t.path == finding.path
                      and (t.line is None or any(abs(finding.line - n) <= 1 for n in t.lines()))),
                     None)
        if label is not None:
            outcome.tolerated.append((label, finding))
        else:
            outcome.false_positives.append(finding)
    outcome.misses.extend(expected)


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def implemented_codes(optlint: str) -> set[str]:
    done = subprocess.run([optlint, "rules", "--output-format", "json"], capture_output=True,
                          text=True, check=True)
    return {rule["code"] for rule in json.loads(done.stdout)}


def print_table(outcome: Outcome, implemented: set[str]) -> None:
    tp = Counter(label.code for label, _ in outcome.true_positives)
    fn = Counter(label.code for label in outcome.misses)
    fp = Counter(finding.code for finding in outcome.false_positives)
    print(f"{'code':8} {'TP':>4} {'FN':>4} {'FP':>4} {'recall':>7} {'precision':>9}")
    for code in sorted(set(tp) | set(fn) | set(fp)):
        mark = "" if code in implemented else "   (not in this optlint)"
        print(f"{code:8} {tp[code]:4} {fn[code]:4} {fp[code]:4} {ratio(tp[code], tp[code] + fn[code]):>7}"
              f" {ratio(tp[code], tp[code] + fp[code]):>9}{mark}")
    total_tp, total_fn, total_fp = sum(tp.values()), sum(fn.values()), sum(fp.values())
    print(f"{'all':8} {total_tp:4} {total_fn:4} {total_fp:4} {ratio(total_tp, total_tp + total_fn):>7}"
          f" {ratio(total_tp, total_tp + total_fp):>9}")
    live_tp = sum(n for code, n in tp.items() if code in implemented)
    live_fn = sum(n for code, n in fn.items() if code in implemented)
    print(f"{'shipped':8} {live_tp:4} {live_fn:4} {total_fp:4} {ratio(live_tp, live_tp + live_fn):>7}"
          f" {ratio(live_tp, live_tp + total_fp):>9}   (codes this optlint has)")


def print_by_kind(outcome: Outcome, implemented: set[str]) -> None:
    found, missed = Counter(), Counter()
    for label, _ in outcome.true_positives:
        found[label.via] += 1
    for label in outcome.misses:
        missed[label.via] += 1
    print(f"\n{'via':10} {'TP':>4} {'FN':>4} {'recall':>7}   (labels of every code)")
    for kind in KINDS:
        print(f"{kind:10} {found[kind]:4} {missed[kind]:4} {ratio(found[kind], found[kind] + missed[kind]):>7}")
    found_live = Counter(l.via for l, _ in outcome.true_positives if l.code in implemented)
    missed_live = Counter(l.via for l in outcome.misses if l.code in implemented)
    print(f"\n{'via':10} {'TP':>4} {'FN':>4} {'recall':>7}   (codes this optlint has)")
    for kind in KINDS:
        print(f"{kind:10} {found_live[kind]:4} {missed_live[kind]:4} "
              f"{ratio(found_live[kind], found_live[kind] + missed_live[kind]):>7}")


def print_lists(outcome: Outcome) -> None:
    print("\nmisses (expected, not reported):")
    for label in sorted(outcome.misses, key=lambda l: (l.project, l.path, l.line or 0)):
        print(f"  {label.project}: {label.path}:{label.line} {label.code} [{label.via}] {label.note}")
    print("\nfalse positives (reported, not labelled):")
    for finding in outcome.false_positives:
        print(f"  {finding.project}: {finding.path}:{finding.line} {finding.code} {finding.message}")
    print("\ntolerated (the rule's letter, no harm in this code; counted neither way):")
    for label, finding in outcome.tolerated:
        print(f"  {finding.project}: {finding.path}:{finding.line} {finding.code} -- {label.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=HERE / "labels.toml")
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    parser.add_argument("--optlint", default=str(Path(".venv/bin/optlint")),
                        help="the optlint executable (default: .venv/bin/optlint of the cwd)")
    parser.add_argument("--project", action="append", help="only these project ids")
    parser.add_argument("--by-kind", action="store_true", help="recall by `via` of the labels")
    parser.add_argument("--keep", type=Path, help="materialise into this folder and keep it")
    args = parser.parse_args(argv)

    if shutil.which(args.optlint) is None:
        fail(f"no optlint at {args.optlint}; pass --optlint")
    projects = read_projects(args.labels)
    if args.project:
        projects = [p for p in projects if p["id"] in set(args.project)]
    outcome = Outcome()
    root = args.keep or Path(tempfile.mkdtemp(prefix="optlint-realcode-"))
    try:
        for project in projects:
            folder = root / project["id"]
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            why_not = materialise(project, args.mirror, folder)
            if why_not:
                outcome.skipped.append(why_not)
                continue
            compare(project, lint(args.optlint, folder, project["id"]), outcome)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)

    ran = len(projects) - len(outcome.skipped)
    files = sum(len(p["paths"]) for p in projects)
    buggy = sum(1 for p in projects if p.get("expect"))
    print(f"{ran} of {len(projects)} projects linted ({files} files; {buggy} with labelled bugs, "
          f"{len(projects) - buggy} clean)\n")
    for why_not in outcome.skipped:
        print(f"skipped: {why_not}")
    implemented = implemented_codes(args.optlint)
    print_table(outcome, implemented)
    if args.by_kind:
        print_by_kind(outcome, implemented)
    print_lists(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
