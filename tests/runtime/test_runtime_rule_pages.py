"""Every runtime rule page: its Example, run as `optlint runtime` runs a factory (a probe rule's: as
`optlint probe` steps it), is reported with the page's code; its Use instead gives no finding at all. An
opt-in rule's page is checked with the default rules and that rule selected. Every runtime code has its
module in runtime/rules/, named after it."""

from __future__ import annotations

import re

import pytest

from optlint.registry import doc_page
from optlint.runtime import rules
from optlint.runtime.api import check_plan
from optlint.runtime.codes import RUNTIME_RULES
from optlint.runtime.probe import probe_step
from optlint.runtime.observe import recording_lrs_before_schedulers
from optlint.runtime.simulate import Plan

INFOS = {info.code: info for info in RUNTIME_RULES}
CODES = list(INFOS)
MODULES = {rules.code(module): module for module in rules.all_rules()}


def example(code: str, heading: str) -> str:
    page = doc_page(code)
    assert page is not None, f"rules/{code}.md is missing"
    section = page.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def check_snippet(source: str, code: str):
    namespace: dict = {"__name__": "snippet"}
    with recording_lrs_before_schedulers() as recorded:
        exec(compile(source, "<rule page>", "exec"), namespace)
    if getattr(MODULES[code], "PASS", "check") == "probe":
        return probe_step(namespace["model"], namespace["optimizer"], namespace["loss_fn"], namespace["batch"])
    select = None if INFOS[code].default_enabled else ["OPT1", code]
    return check_plan(namespace["model"], namespace["optimizer"], namespace.get("scheduler"),
                      Plan(epochs=5, steps_per_epoch=1), lrs_before=recorded, select=select)


@pytest.mark.parametrize("code", CODES)
def test_runtime_example_is_reported(code):
    report = check_snippet(example(code, "## Example"), code)
    assert code in [f.code for f in report.findings], str(report)


@pytest.mark.parametrize("code", CODES)
def test_runtime_use_instead_is_clean(code):
    report = check_snippet(example(code, "## Use instead"), code)
    assert report.findings == [], str(report)



def test_every_runtime_rule_is_one_module_named_after_it():
    expected = {code: f"opt{code[3:]}_{info.name.replace('-', '_')}" for code, info in INFOS.items()}
    assert {code: module.__name__.rpartition(".")[2] for code, module in MODULES.items()} == expected
