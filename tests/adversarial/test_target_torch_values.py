"""Whatever a pyproject.toml or the command line gives as the target torch (any TOML value, any
requirement string or shape), optlint picks a known release or says one line and exits 2: never a
traceback, never a table it does not have."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint import facts, target_torch
from optlint import config
from optlint.config import ConfigError
from tests.test_config import project, run_check

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
FEW = settings(FUZZ, max_examples=max(FUZZ.max_examples // 5, 10))
KNOWN = facts.known_versions()
TOML_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                           max_leaves=6)
VERSIONISH = st.from_regex(r"\A[0-9]{1,2}(\.[0-9*]{1,2}){0,2}\Z") | st.sampled_from(KNOWN)


@FUZZ
@given(TOML_VALUES | VERSIONISH)
def test_any_configured_value_is_a_known_release_or_one_line(value):
    try:
        assert config._target_torch(value, "pyproject.toml: [tool.optlint] target-torch") in KNOWN
    except ConfigError as error:
        message = str(error)
        assert "\n" not in message and (f"torch {KNOWN[0]} to {KNOWN[-1]}" in message or "string" in message)


REQUIREMENT_LISTS = st.lists(st.text(max_size=30) | st.builds("torch{}{}".format, st.sampled_from(
    ["", ">=", "==", "<", "~=", "!=", ">"]), VERSIONISH) | TOML_VALUES, max_size=4)


@FUZZ
@given(st.fixed_dictionaries({}, optional={
    "project": st.fixed_dictionaries({}, optional={
        "dependencies": REQUIREMENT_LISTS | TOML_VALUES,
        "optional-dependencies": st.dictionaries(st.text(max_size=5), REQUIREMENT_LISTS, max_size=2)}),
    "dependency-groups": st.dictionaries(st.text(max_size=5), REQUIREMENT_LISTS, max_size=2)}))
def test_any_project_requirements_give_a_known_release_or_none(pyproject):
    assert target_torch.from_requirements(pyproject) in (*KNOWN, None)


@FUZZ
@given(st.sampled_from(KNOWN), st.sampled_from(KNOWN), st.sampled_from([">={}", "=={}.*", "~={}.0", ">={},<3"]))
def test_a_lower_bound_is_the_target_and_a_second_requirement_can_only_lower_it(low, other, spec):
    expected = min(low, other, key=facts.version_key)
    pyproject = {"project": {"dependencies": [f"torch{spec.format(low)}"],
                             "optional-dependencies": {"x": [f"torch>={other}"]}}}
    assert target_torch.from_requirements(pyproject) == expected


@FEW
@given(st.text(min_size=1, max_size=20).filter(lambda t: not t.startswith("-")))
def test_any_target_flag_is_used_or_refused_in_one_line(tmp_path_factory, flag):
    root = project(tmp_path_factory.mktemp("p"), "")
    result = run_check("--no-cache", "--target-torch", flag, "train.py", cwd=root)
    assert result.exit_code == (1 if flag in KNOWN else 2), result.output
    if flag not in KNOWN:
        assert result.output.count("\n") == 1


@pytest.mark.parametrize("value", ['"2.6\\n"', '" 2.6"', '"2.06"', '"v2.6"', "2.10", "2"])
def test_near_misses_in_the_file_are_refused(tmp_path, value):
    result = run_check("train.py", cwd=project(tmp_path, f"[tool.optlint]\ntarget-torch = {value}\n"))
    assert result.exit_code == 2 and result.output.count("\n") == 1
