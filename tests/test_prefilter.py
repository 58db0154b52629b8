"""The prefilter may only skip files where no rule could report anything.

Proved on everything the suite knows to hold findings: every fixture, every rule's INVALID and
VALID snippets and every rule page's examples are linted without the prefilter, and each one that
gives a finding must pass it. OPT000 is not a rule's finding: a file the prefilter skips is never
parsed, so its syntax errors go unreported by design.
"""

import ast
import re
from pathlib import Path

import pytest

from optlint.registry import doc_page, registry
from optlint.static.engine import lint_source
from optlint.static.files import can_hold_finding, code_can_hold_finding
from optlint.static.rules import all_rules
from optlint.static.runner import lint_paths

ROOT = Path(__file__).resolve().parent.parent


def _examples():
    for path in sorted((ROOT / "fixtures" / "static").rglob("*.py")):
        yield path.name, path.read_text(encoding="utf-8")
    for rule in all_rules():
        for index, example in enumerate((*rule.INVALID, *rule.VALID)):
            yield f"{rule.code}-snippet-{index}", example.source
    for code in registry():
        for block in re.findall(r"```python\n(.*?)```", doc_page(code) or "", re.DOTALL):
            yield f"{code}-page", block


EXAMPLES = list(_examples())


@pytest.mark.parametrize("source", [s for _, s in EXAMPLES], ids=[name for name, _ in EXAMPLES])
def test_prefilter_keeps_every_example_that_holds_a_finding(source):
    codes = {f.code for f in lint_source(source, prefilter=False)} - {"OPT000"}
    assert not codes or can_hold_finding(source), f"the prefilter would hide {sorted(codes)}"
    assert not codes or code_can_hold_finding(ast.parse(source)), f"the code prefilter would hide {sorted(codes)}"


@pytest.mark.parametrize("source, kept", [
    ('"""Like torch.optim.AdamW, with decoupled decay."""\nclass AdamW(Optimizer): ...', False),  # timm's optimizers
    ("# scheduler.step() after optimizer.step()\nHELP = 'torch.optim.SGD(params)'", False),
    ("import torch\nopt = torch.optim.AdamW(p)", True),
    ("from torch.optim import AdamW as A", True),
    ("print(f'{self.lr_scheduler.get_lr()}')", True),  # an f-string's expressions are code
    ("def run(sched):\n    sched.step()", True),
])
def test_the_code_prefilter_reads_names_not_strings_or_comments(source, kept):
    assert can_hold_finding(source)
    assert code_can_hold_finding(ast.parse(source)) is kept


def test_the_examples_hold_findings_of_every_rule():
    found = {f.code for _, source in EXAMPLES for f in lint_source(source)}
    assert {rule.code for rule in all_rules()} <= found


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nopt = torch.optim.Adam(p)",
        "from torch.optim import AdamW as A\nopt = A(p)",
        "from torch import optim\nsched = optim.lr_scheduler.StepLR(opt, 1)",
        "import torch.optim.lr_scheduler as L\nL.OneCycleLR(opt, 1.0)",
        "for batch in data:\n    self.lr_scheduler.step()\n    opt.step()",
        "for batch in data:\n    LRScheduler .step()",
        "for batch in data:\n    (warmup_sched\n        .step())",
        "print(scheduler.get_lr())",
    ],
)
def test_prefilter_keeps_torch_classes_and_scheduler_receivers(source):
    assert can_hold_finding(source)


@pytest.mark.parametrize(
    "source",
    [
        "import torch\nx = torch.zeros(3)",
        "optimizer = build_optimizer(cfg)\noptimizer.step()",  # no torch class, no scheduler
        "from torch import optim\nopt = optim.Optimizer",  # the base class is no optimizer
        "from torch import optim\nclass MyAdam(optim.Optimizer): ...",  # `Adam` only inside a word
        "from myoptim import Adam\nopt = Adam(p)",  # `optim` only inside a word
        "noise_scheduler = DDPMScheduler()\nx = noise_scheduler.stepper",
        "schedule = [1, 2]\nscheduler_steps = 3\nsched[0].step()",
    ],
)
def test_prefilter_skips_files_without_optimizer_code(source):
    assert not can_hold_finding(source)


def test_a_skipped_file_is_never_parsed_in_a_walked_folder(tmp_path):
    (tmp_path / "skipped.py").write_text("def f(:\n    return 1\n")
    (tmp_path / "parsed.py").write_text("import torch.optim\ntorch.optim.SGD(:\n")
    assert [(Path(f.filename).name, f.code) for f in lint_paths([str(tmp_path)]).findings] == [("parsed.py", "OPT000")]
