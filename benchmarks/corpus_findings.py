"""Lint the benchmark corpus with every rule; print the findings per code with file:line, and every
internal error (there must be none: the script exits 1 if there is one).

--check-prefilter also runs every file the prefilter skips through the engine (slow: all of the
corpus goes through libcst) and prints any finding it would have hidden: there must be none.

    .venv/bin/python benchmarks/corpus_findings.py [--check-prefilter]
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import fetch_corpus

from optlint.findings import Finding
from optlint.static import files
from optlint.static.runner import lint_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-prefilter", action="store_true", help="lint the files the prefilter skips too")
    args = parser.parse_args()
    corpus = fetch_corpus.corpus()

    result = lint_paths([str(corpus)])
    print(f"{result.files_checked} files linted, {len(result.findings)} findings, {len(result.errors)} internal errors")
    _print_by_code(result.findings, corpus)
    for error in result.errors:
        print(f"ERROR {error}")
    hidden = _hidden_by_prefilter(corpus) if args.check_prefilter else []
    if args.check_prefilter:
        print(f"\nfindings in files the prefilter skips: {len(hidden)}")
        _print_by_code(hidden, corpus)
    sys.exit(1 if result.errors or hidden else 0)


def _print_by_code(findings: list[Finding], corpus: Path) -> None:
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for finding in sorted(findings, key=Finding.sort_key):
        by_code[finding.code].append(finding)
    for code, found in sorted(by_code.items()):
        print(f"\n{code}: {len(found)}")
        for f in found:
            print(f"  {Path(f.filename).relative_to(corpus)}:{f.row}:{f.column}: {f.message}")


def _hidden_by_prefilter(corpus: Path) -> list[Finding]:
    skipped = []
    for path in files.discover([str(corpus)]):
        if isinstance(path, files.InputError):
            continue
        try:
            text = files.decode(files.read(path), path).text
        except (files.InputError, UnicodeDecodeError, SyntaxError, LookupError):
            continue
        if not files.can_hold_finding(text) or not _code_can_hold_finding(text):
            skipped.append((text, path))
    with ProcessPoolExecutor() as pool:
        found = pool.map(_lint_unfiltered, *zip(*skipped), chunksize=16)
        return [f for findings in found for f in findings if f.code != "OPT000"]


def _code_can_hold_finding(text: str) -> bool:
    try:
        return files.code_can_hold_finding(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError):
        return True  # the engine parses it (and reports OPT000)


def _lint_unfiltered(text: str, path: str) -> list[Finding]:
    from optlint.static.engine import lint_source

    try:
        return lint_source(text, path, prefilter=False)
    except Exception:  # noqa: BLE001 - a file no real run parses; its findings are the question here
        return []


if __name__ == "__main__":
    main()
