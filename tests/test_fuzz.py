"""No crash on any program: generated programs (hypothesmith) and mutated fixtures.

For every input, `lint_source` returns (or, for valid Python that libcst cannot parse, raises
UnsupportedSyntax, which the runner reports); a file Python cannot parse gives exactly one OPT000
finding, a file it parses gives none; every finding, its end and its fix's edits lie inside the
file. `make fuzz` runs the same properties with many more, fresh examples (HYPOTHESIS_PROFILE=fuzz).
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static.engine import lint_source
from optlint.static.files import split_lines
from optlint.static.parse import UnsupportedSyntax

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "static").rglob("*.py"))
SOURCES = [path.read_text(encoding="utf-8") for path in FIXTURES]
FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
# Per example: a whole fixture to lint costs most; a mutant usually stops early at OPT000.
SPLICED = settings(FUZZ, max_examples=FUZZ.max_examples // 3)
MUTATED = settings(FUZZ, max_examples=FUZZ.max_examples * 8 // 3)

# hypothesmith compiles what it generates: Python's warnings about that code are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def python_parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError:
        return False
    return True


def assert_lints_soundly(source: str) -> None:
    try:
        findings = lint_source(source, "fuzzed.py")
    except UnsupportedSyntax:  # reported as an internal error line, never as the user's syntax error
        assert python_parses(source)
        return
    lines = split_lines(source)

    def inside(row: int, column: int) -> bool:
        return 1 <= row <= len(lines) and 1 <= column <= len(lines[row - 1]) + 1

    for f in findings:
        assert inside(f.row, f.column), (f, len(lines))
        assert inside(f.end_row, f.end_column), (f, len(lines))
        assert (f.row, f.column) <= (f.end_row, f.end_column), f
        for edit in f.fix.edits if f.fix else ():
            assert 0 <= edit.start <= edit.end <= len(source), (f, edit)
    syntax_errors = [f for f in findings if f.code == "OPT000"]
    if python_parses(source):
        assert not syntax_errors, syntax_errors
    elif not syntax_errors:  # Python refuses it: only libcst's wider grammar (newer syntax) may accept it
        cst.parse_module(source)
    else:
        assert findings == syntax_errors and len(syntax_errors) == 1, findings


# -- mutations of the fixtures: each takes the lines (with their ends) and returns new ones ---------------
TOKEN = re.compile(r"\w+|[^\w\s]")


def delete_line(draw, lines):
    del lines[draw(st.integers(0, len(lines) - 1))]
    return lines


def duplicate_line(draw, lines):
    lines.insert(draw(st.integers(0, len(lines))), lines[draw(st.integers(0, len(lines) - 1))])
    return lines


def swap_lines(draw, lines):
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def break_indentation(draw, lines):
    i = draw(st.integers(0, len(lines) - 1))
    body = lines[i].lstrip(" \t")
    indent = lines[i][: len(lines[i]) - len(body)]
    lines[i] = draw(st.sampled_from(["", " ", "\t", indent + " ", indent + "\t", indent[:-1]])) + body
    return lines


def swap_tokens(draw, lines):
    i = draw(st.integers(0, len(lines) - 1))
    tokens = list(TOKEN.finditer(lines[i]))
    if len(tokens) >= 2:
        j = draw(st.integers(0, len(tokens) - 2))
        a, b = tokens[j], tokens[j + 1]
        line = lines[i]
        lines[i] = line[: a.start()] + b.group() + line[a.end() : b.start()] + a.group() + line[b.end() :]
    return lines


def insert_junk(draw, lines):
    i = draw(st.integers(0, len(lines) - 1))
    at = draw(st.integers(0, len(lines[i])))
    junk = draw(st.sampled_from(["(", ")", "[", "]", "{", ":", ",", ".", "=", "\\", "'", '"', '"""', "#", "\t",
                                 "\n", "\r", "\f", "\x00", "\u00e9", "lambda", "async ", "yield"]))
    lines[i] = lines[i][:at] + junk + lines[i][at:]
    return lines


MUTATIONS = [delete_line, duplicate_line, swap_lines, break_indentation, swap_tokens, insert_junk]


@st.composite
def mutated_fixtures(draw) -> str:
    lines = split_lines(draw(st.sampled_from(SOURCES)), keepends=True)
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=4)):
        if lines:
            lines = mutation(draw, lines)
    return "".join(lines)


@FUZZ
@given(hypothesmith.from_grammar())
def test_generated_programs_lint_without_crash(source):
    assert_lints_soundly(source)


@SPLICED
@given(st.sampled_from(SOURCES), hypothesmith.from_grammar())
def test_fixtures_followed_by_generated_code_lint_without_crash(fixture, program):
    assert_lints_soundly(fixture + "\n" + program)


@MUTATED
@given(mutated_fixtures())
def test_mutated_fixtures_lint_without_crash(source):
    assert_lints_soundly(source)


def test_mutations_do_break_fixtures():
    """The mutated-fixture test would prove little if its mutations never made invalid source."""
    broken = []

    @FUZZ
    @given(mutated_fixtures())
    def collect(source):
        broken.append(not python_parses(source))

    collect()
    assert 0.2 < sum(broken) / len(broken) < 0.95
