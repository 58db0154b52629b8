"""libcst's node validation: skipped on the parser's thread for text CPython accepts, kept elsewhere."""

from pathlib import Path

import libcst as cst
import pytest

from optlint.findings import Finding
from optlint.static.parse import parse

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def validated(monkeypatch) -> list[str]:
    """The values of the Name nodes libcst validates."""
    seen: list[str] = []
    check = cst.Name._validate

    def counting(node):
        seen.append(node.value)
        check(node)

    monkeypatch.setattr(cst.Name, "_validate", counting)
    return seen


def test_nodes_parsed_from_text_python_accepts_are_not_validated_again(validated):
    assert isinstance(parse("optimizer = SGD(params)\n", "t.py"), cst.Module)
    assert validated == []


def test_nodes_built_by_hand_are_still_validated(validated):
    parse("x = 1\n", "t.py")
    assert cst.Name("made").value == "made" and validated == ["made"]
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_text_python_refuses_is_validated_and_gives_opt000(validated):
    outcome = parse('x = b"a" "b"\n', "t.py")
    assert isinstance(outcome, Finding) and outcome.code == "OPT000"
    assert "x" in validated


@pytest.mark.parametrize("path", sorted((ROOT / "fixtures").rglob("*.py")), ids=lambda p: p.name)
def test_the_tree_equals_libcsts_validated_parse(path):
    text = path.read_text()
    assert parse(text, str(path)).deep_equals(cst.parse_module(text))
