"""flake8-bugbear style: each fixture line that should be reported says so in an `# expect:` comment.

fixtures/static/bad/*.py must produce exactly the expected (line, code) pairs; every file under
fixtures/static/good/ must produce none.
"""

import re
from pathlib import Path

import pytest

from optlint.static.runner import lint_file

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "static"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>OPT\d{3}(?:\s*,\s*OPT\d{3})*)")
BAD = sorted((ROOT / "bad").rglob("*.py"))
GOOD = sorted((ROOT / "good").rglob("*.py"))


def expected(path: Path) -> set[tuple[int, str]]:
    pairs = set()
    for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            pairs |= {(row, code.strip()) for code in match.group("codes").split(",")}
    return pairs


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_bad_fixture_reports_exactly_the_expected_lines(path):
    want = expected(path)
    assert want, f"{path.name} declares no `# expect:` comment"
    assert {(f.row, f.code) for f in lint_file(str(path))} == want


@pytest.mark.parametrize("path", GOOD, ids=[p.name for p in GOOD])
def test_good_fixture_is_clean(path):
    assert [f"{f.row}: {f.code} {f.message}" for f in lint_file(str(path))] == []
