"""Every runtime rule page: its Example, run as `optlint runtime` runs a factory, is reported with the
page's code; its Use instead gives no finding at all. An opt-in rule's page is checked with the default
rules and that rule selected."""

from __future__ import annotations

import re

import pytest

from optlint.registry import doc_page
from optlint.runtime.api import inspect_setup
from optlint.runtime.codes import RUNTIME_RULES
from optlint.runtime.observe import recording_lrs_before_schedulers
from optlint.runtime.simulate import Plan

INFOS = {info.code: info for info in RUNTIME_RULES}
CODES = list(INFOS)


def example(code: str, heading: str) -> str:
    page = doc_page(code)
    assert page is not None, f"rules/{code}.md is missing"
    section = page.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def check_snippet(source: str, code: str):
    namespace: dict = {"__name__": "snippet"}
    with recording_lrs_before_schedulers() as recorded:
        exec(compile(source, "<rule page>", "exec"), namespace)
    select = None if INFOS[code].default_enabled else ["OPT1", code]
    return inspect_setup(namespace["model"], namespace["optimizer"], namespace.get("scheduler"),
                         plan=Plan(epochs=5, steps_per_epoch=1), lrs_before=recorded, select=select)


@pytest.mark.parametrize("code", CODES)
def test_runtime_example_is_reported(code):
    report = check_snippet(example(code, "## Example"), code)
    assert code in [f.code for f in report.findings], str(report)


@pytest.mark.parametrize("code", CODES)
def test_runtime_use_instead_is_clean(code):
    report = check_snippet(example(code, "## Use instead"), code)
    assert report.findings == [], str(report)

