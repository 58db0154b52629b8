"""Every rule has a page in rules/; its Example must be found and its Use instead must be clean (of the
default rules and the page's own, when that one is opt-in)."""

import re

import pytest

from optlint.registry import doc_page, registry
from optlint.static.engine import lint_source
from optlint.static.rules import all_rules

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")
STATIC = [code for code, info in registry().items() if "static" in info.kinds]


def python_block(page: str, heading: str) -> str:
    section = page.split(heading, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python example under {heading}"
    return match.group(1)


@pytest.mark.parametrize("code", sorted(registry()))
def test_every_rule_has_a_page_with_the_usual_sections(code):
    page = doc_page(code)
    assert page is not None, f"rules/{code}.md is missing"
    assert page.startswith(f"# {code} {registry()[code].name}\n")
    for heading in SECTIONS:
        assert heading in page, f"{code}: missing {heading}"


def lint_page(code: str, heading: str):
    rules = [rule for rule in all_rules() if rule.info().default_enabled or rule.code == code]
    return lint_source(python_block(doc_page(code), heading), f"{code}.md", rules)


@pytest.mark.parametrize("code", STATIC)
def test_static_bad_example_is_found(code):
    assert code in {f.code for f in lint_page(code, "## Example")}


@pytest.mark.parametrize("code", STATIC)
def test_static_fixed_example_is_clean(code):
    assert lint_page(code, "## Use instead") == []

