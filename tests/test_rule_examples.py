"""Fixit-style: every rule's examples pin its behaviour. A Valid snippet gives none of its findings; an
Invalid one gives exactly its findings at the stated positions, and the text `--fix` makes of it,
which then lints clean of the rule. A rule offers a fix exactly when one of its examples shows one,
and its page says so."""


import pytest

from optlint.registry import doc_page
from optlint.static.examples import fixable, problems
from optlint.static.rules import all_rules

VALID = [(rule, example) for rule in all_rules() for example in rule.VALID]
INVALID = [(rule, example) for rule in all_rules() for example in rule.INVALID]


def _ids(cases):
    return [f"{rule.code}-{i}" for i, (rule, _) in enumerate(cases)]


@pytest.mark.parametrize(("rule", "example"), VALID, ids=_ids(VALID))
def test_valid_example_gives_no_finding(rule, example):
    assert problems(rule, example) == []


@pytest.mark.parametrize(("rule", "example"), INVALID, ids=_ids(INVALID))
def test_invalid_example_is_found_where_it_says_and_fixed_as_it_says(rule, example):
    assert problems(rule, example) == []


def test_every_rule_has_examples_of_both_kinds():
    for rule in all_rules():
        assert rule.VALID and rule.INVALID, rule.code


def page_offers_a_fix(code: str) -> bool:
    """What the Fix safety section of rules/OPTxxx.md says."""
    return not doc_page(code).split("## Fix safety\n", 1)[1].startswith("No ")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_a_rule_offers_a_fix_exactly_when_its_examples_declaration_and_page_say_so(rule):
    declared = rule.info().fix != "none"
    assert fixable(rule.INVALID) == declared == page_offers_a_fix(rule.code), rule.info().fix
