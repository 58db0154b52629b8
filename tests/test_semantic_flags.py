"""Flag guards (semantic/flags.py): a build under the other value of a flag that guards the use does
not reach it. Read through OPT015, whose verdict depends on the scheduler class reaching the call."""

from __future__ import annotations

import pytest

from optlint.static.runner import lint_text

CHOSEN_BY_FLAG = """\
import argparse
import torch
from torch.optim import lr_scheduler

args = argparse.ArgumentParser().parse_args()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
if not args.cos:
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, "min")
else:
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, 100)
{extra}for epoch in range(100):
    val_loss = train(epoch)
    if args.cos:
        scheduler.step(epoch - 1)
    else:
        scheduler.step(val_loss)
"""


def found(source: str) -> list[tuple[int, str]]:
    return [(f.row, f.code) for f in lint_text(source, "train.py")]


def test_only_the_build_of_the_guards_value_reaches_a_use():
    assert found(CHOSEN_BY_FLAG.format(extra="")) == [(14, "OPT015")]  # the cosine's step(epoch); the plateau's metric is fine


@pytest.mark.parametrize("extra", [
    "args.cos = resume_with_cosine()\n",  # the flag changes after the builds
    "setattr(args, 'cos', True)\n",
    "args = load_args()\n",  # another object, another flag
])
def test_a_flag_that_may_change_guards_nothing(extra):
    assert found(CHOSEN_BY_FLAG.format(extra=extra)) == []


def test_a_test_that_is_not_a_flag_guards_nothing():
    source = CHOSEN_BY_FLAG.format(extra="").replace("if args.cos:", "if args.sched == 'cos':")
    assert found(source) == []


def test_a_function_defined_under_a_flag_runs_unguarded():
    source = CHOSEN_BY_FLAG.format(extra="").replace(
        "    if args.cos:\n        scheduler.step(epoch - 1)\n",
        "    if args.cos:\n        def advance():\n            scheduler.step(epoch - 1)\n        advance()\n")
    assert found(source) == []


@pytest.mark.parametrize("guard, rows", [("if args.plateau:", []), ("if not args.plateau:", [(15, "OPT015")])])
def test_elif_branches_hold_the_negation_of_the_tests_before_them(guard, rows):
    source = """\
import torch
from torch.optim import lr_scheduler


def main(args, model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    if args.plateau:
        scheduler = lr_scheduler.ReduceLROnPlateau(optimizer)
    elif args.cos:
        scheduler = lr_scheduler.CosineAnnealingLR(optimizer, 100)
    else:
        scheduler = lr_scheduler.StepLR(optimizer, 30)
    for epoch in range(100):
        GUARD
            scheduler.step(epoch)
""".replace("GUARD", guard)
    assert found(source) == rows
