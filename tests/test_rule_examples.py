"""Fixit-style: every rule's VALID snippets give none of its findings, every INVALID snippet one."""

import pytest

from optlint.static.engine import lint_source
from optlint.static.rules import all_rules

VALID = [(rule, src) for rule in all_rules() for src in rule.VALID]
INVALID = [(rule, src) for rule in all_rules() for src in rule.INVALID]


def _ids(cases):
    return [f"{rule.code}-{i}" for i, (rule, _) in enumerate(cases)]


@pytest.mark.parametrize(("rule", "source"), VALID, ids=_ids(VALID))
def test_valid_snippet_gives_no_finding(rule, source):
    assert [f for f in lint_source(source, rules=[rule]) if f.code == rule.code] == []


@pytest.mark.parametrize(("rule", "source"), INVALID, ids=_ids(INVALID))
def test_invalid_snippet_is_found(rule, source):
    assert any(f.code == rule.code for f in lint_source(source, rules=[rule]))


def test_every_rule_has_examples_of_both_kinds():
    for rule in all_rules():
        assert rule.VALID and rule.INVALID, rule.code
