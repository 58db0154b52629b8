"""Generated rule declarations: any name and summary text round-trips through a page's front matter
(and reads the same as YAML, the way GitHub shows it); any other front matter is a ValueError that
names the page, never another exception and never a silently different rule."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.registry import KINDS, RuleInfo, Severity, _declaration

PROFILE = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ONE_LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=LINE_BREAKS), min_size=1, max_size=60)
PRINTABLE = st.text(st.characters(whitelist_categories=("L", "M", "N", "P", "S", "Zs")), min_size=1, max_size=60)
NAMES = st.from_regex(r"[a-z][a-z0-9]*(-[a-z0-9]+){0,4}", fullmatch=True)


@st.composite
def declarations(draw, summaries=ONE_LINE) -> RuleInfo:
    kind = draw(st.sampled_from(KINDS))
    static = "static" in kind
    return RuleInfo(
        "OPT900", draw(NAMES), draw(st.sampled_from(Severity)), draw(summaries), kind,
        default_enabled=draw(st.booleans()),
        fix=draw(st.sampled_from(["none", "safe", "safe when one key is meant"])) if static else None,
        twin=None if static else draw(st.none() | st.from_regex(r"OPT0[0-9]{2}", fullmatch=True)),
    )


def front_matter(info: RuleInfo, ascii_only: bool = True) -> str:
    fields = {"name": info.name, "severity": str(info.severity), "kind": info.kind, "fix": info.fix,
              "opt_in": "false" if info.default_enabled else "true", "twin": info.twin,
              "summary": json.dumps(info.summary, ensure_ascii=ascii_only)}
    return "---\n" + "".join(f"{key}: {value}\n" for key, value in fields.items() if value is not None) + "---\n"


@PROFILE
@given(declarations(), st.booleans())
def test_a_declaration_round_trips(tmp_path_factory, info, ascii_only):
    page = tmp_path_factory.mktemp("rules") / "OPT900.md"
    page.write_text(front_matter(info, ascii_only) + "\n## What it does\n", encoding="utf-8")
    assert _declaration(page) == info


@PROFILE
@given(declarations(PRINTABLE))
def test_a_declaration_of_printable_text_reads_the_same_as_yaml(info):
    """As GitHub shows the page: the pages' own summaries are printable text (tests/test_registry.py)."""
    yaml = pytest.importorskip("yaml")
    front = yaml.safe_load(front_matter(info, ascii_only=False).split("---\n")[1])
    assert (front["name"], front["summary"], front["opt_in"]) == (info.name, info.summary, not info.default_enabled)


@PROFILE
@given(declarations(), st.lists(ONE_LINE, min_size=1, max_size=4), st.integers(0, 8))
def test_a_mangled_declaration_is_a_value_error_naming_the_page(tmp_path_factory, info, lines, at):
    page = tmp_path_factory.mktemp("rules") / "OPT900.md"
    head = front_matter(info).split("\n")
    inside = 1 + at % (len(head) - 2)
    head[inside:inside] = lines  # stray lines, repeated or unknown keys, an early closing '---'...
    page.write_text("\n".join(head) + "\n## What it does\n", encoding="utf-8")
    try:
        read = _declaration(page)
    except ValueError as error:
        assert str(error).startswith(f"{page}: ")
    else:  # the lines happened to be valid: they then say what was read
        assert read.code == "OPT900" and read.kind in KINDS
