"""flake8-bugbear style: each fixture line that should be reported says so in an `# expect:` comment.

fixtures/static/bad/*.py must produce exactly the expected (line, code) pairs; every file under
fixtures/static/good/ must produce none. The same holds for the notebooks of fixtures/notebooks/ (the
comment sits in a cell: (cell, row in cell, code)) and the documents of fixtures/markdown/ (the comment
sits in a code block: (row of the document, code)).
"""

import json
import re
from pathlib import Path

import pytest

from optlint.static.runner import lint_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ROOT = FIXTURES / "static"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>OPT\d{3}(?:\s*,\s*OPT\d{3})*)")
BAD = sorted((ROOT / "bad").rglob("*.py"))
GOOD = sorted((ROOT / "good").rglob("*.py"))


NOTEBOOKS = {kind: sorted((FIXTURES / "notebooks" / kind).glob("*.ipynb")) for kind in ("bad", "good")}
DOCUMENTS = {kind: sorted(p for p in (FIXTURES / "markdown" / kind).iterdir()) for kind in ("bad", "good")}


def expected(path: Path) -> set[tuple[int, str]]:
    return expected_in(path.read_text(encoding="utf-8"))


def expected_in(text: str) -> set[tuple[int, str]]:
    pairs = set()
    for row, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            pairs |= {(row, code.strip()) for code in match.group("codes").split(",")}
    return pairs


def expected_in_cells(path: Path) -> set[tuple[int, int, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return {(number, row, code) for number, cell in enumerate(cells, start=1)
            for row, code in expected_in("".join(cell["source"]))}


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_fixture_reports_exactly_the_expected_lines(path):
    want = expected(path)
    assert want, f"{path.name} declares no `# expect:` comment"
    assert {(f.row, f.code) for f in lint_file(str(path))} == want


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_good_fixture_is_clean(path):
    assert [f"{f.row}: {f.code} {f.message}" for f in lint_file(str(path))] == []


@pytest.mark.parametrize("path", NOTEBOOKS["bad"], ids=[p.name for p in NOTEBOOKS["bad"]])
def test_bad_notebook_reports_exactly_the_expected_cell_lines(path):
    want = expected_in_cells(path)
    assert want, f"{path.name} declares no `# expect:` comment"
    assert {(f.cell, f.row, f.code) for f in lint_file(str(path))} == want


@pytest.mark.parametrize("path", DOCUMENTS["bad"], ids=[p.name for p in DOCUMENTS["bad"]])
def test_bad_document_reports_exactly_the_expected_lines(path):
    want = expected(path)
    assert want, f"{path.name} declares no `# expect:` comment"
    assert {(f.row, f.code) for f in lint_file(str(path))} == want


@pytest.mark.parametrize("path", NOTEBOOKS["good"] + DOCUMENTS["good"],
                         ids=[p.name for p in NOTEBOOKS["good"] + DOCUMENTS["good"]])
def test_good_notebook_or_document_is_clean(path):
    assert [f"{f.cell}:{f.row}: {f.code} {f.message}" for f in lint_file(str(path))] == []
