"""Positions found per top-level statement (optlint.static.positions) are libcst's own PositionProvider's,
for every node of every file: the fixtures, and generated Python."""

import os
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import given, settings
from libcst.metadata import MetadataWrapper, PositionProvider

from optlint.findings import Finding
from optlint.static.parse import parse_with_python_tree
from optlint.static.positions import from_python_lines

PROFILE = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
ROOT = Path(__file__).resolve().parent.parent
# hypothesmith compiles what it generates: Python's warnings about that code are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))


def _assert_positions_are_libcsts(source: str) -> None:
    parsed = parse_with_python_tree(source, "t.py")
    if isinstance(parsed, Finding):
        return
    module, tree = parsed
    positions = from_python_lines(module, tree, source)
    if positions is None:
        return
    for node, where in MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider).items():
        assert positions(node) == where, (type(node).__name__, where)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_fixtures_positions(path):
    source = path.read_text(encoding="utf-8")
    assert from_python_lines(*parse_with_python_tree(source, "t.py"), source) is not None
    _assert_positions_are_libcsts(source)


@PROFILE
@given(hypothesmith.from_grammar())
def test_generated_pythons_positions(source):
    _assert_positions_are_libcsts(source)


@pytest.mark.parametrize("source", [
    "@decorator\n\n# between\n@other(1)\ndef f():\n    pass\n",  # decorators, lines between them
    "a = 1; b = 2\n\n\n# c\nif a: b = 3\nelse:\n    pass\n",  # several statements on one line
    "x = '''\nmany\nlines\n'''\ny = (1,\n     2)\n",  # statements over several lines
])
def test_statements_that_span_or_share_lines(source):
    _assert_positions_are_libcsts(source)


@pytest.mark.parametrize("source", ["a = 1\r\nb = 2\r\n", "a = '''x\ry'''\nb = 2\n", "a = 1\x0c\nb = 2\n"])
def test_line_breaks_other_than_newline_take_libcsts_own_pass(source):
    module, tree = parse_with_python_tree(source, "t.py")
    assert from_python_lines(module, tree, source) is None
