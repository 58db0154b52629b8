"""A rule regression that moves a finding, drops one, loses or changes its fix, or gains a fix where none
was shown, must fail the rule's own examples. Each case takes a real example, makes its expectation
differ from the rule's behaviour the way such a regression would, and the generic check must object."""

import os
from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optlint.static.examples import problems
from optlint.static.rules import all_rules

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=PROFILE.max_examples // 3)  # each example lints, some fix too
INVALID = [(rule, example) for rule in all_rules() for example in rule.INVALID]
FIXED = [(rule, example) for rule, example in INVALID if example.fixed is not None]
UNFIXED = [(rule, example) for rule, example in INVALID if example.fixed is None]


def spots(positions) -> tuple[str, ...]:
    return tuple(f"{row}:{column}" for row, column in positions)


@FUZZ
@given(st.sampled_from(INVALID), st.data())
def test_a_finding_at_another_place_fails(case, data):
    rule, example = case
    which = data.draw(st.integers(0, len(example.positions) - 1))
    row, column = example.positions[which]
    shift = data.draw(st.tuples(st.integers(-row + 1, 3), st.integers(-column + 1, 40)))
    assume(shift != (0, 0))
    moved = list(example.positions)
    moved[which] = (row + shift[0], column + shift[1])
    assert problems(rule, replace(example, at=spots(moved)))


@FUZZ
@given(st.sampled_from(INVALID), st.booleans())
def test_a_finding_more_or_less_fails(case, more):
    rule, example = case
    positions = (*example.positions, example.positions[0]) if more else example.positions[1:]
    assert problems(rule, replace(example, at=spots(positions)))


@FUZZ
@given(st.sampled_from(FIXED), st.data())
def test_a_lost_or_changed_fix_fails(case, data):
    rule, example = case
    assert problems(rule, replace(example, fixed=None))
    cut = data.draw(st.integers(1, len(example.fixed)))  # a newline in front is the snippet's own
    changed = example.fixed[:cut] + data.draw(st.sampled_from(["x", " ", "\n", "#"])) + example.fixed[cut:]
    assert problems(rule, replace(example, fixed=changed))


@FUZZ
@given(st.sampled_from(UNFIXED))
def test_a_fix_where_none_was_shown_fails(case):
    rule, example = case
    assert problems(rule, replace(example, fixed=example.source))


@FUZZ
@given(st.sampled_from(INVALID))
def test_a_message_that_does_not_say_it_fails(case):
    rule, example = case
    assert problems(rule, replace(example, message="a phrase no optlint message holds"))
