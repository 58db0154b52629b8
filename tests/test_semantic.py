"""The semantic model is the one place rules ask: builtins are the builtins only when no binding of
the file shadows them, and rule modules import nothing but the rule base and the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from optlint.static.fix import fix_text
from optlint.static.runner import lint_text
from tests.test_architecture import PACKAGE, imported_names

RULES = PACKAGE / "static" / "rules"

# What a rule module may import from optlint: the rule base, its examples, the semantic model,
# the spelling helpers (strings only, shared with the runtime rules) and the keyword-rule base of
# OPT001/OPT002.
ALLOWED = ("optlint.static.rule", "optlint.static.examples", "optlint.static.semantic", "optlint.spelling",
           "optlint.static.rules._keywords")

USERS_DICT = '''\
import torch
def dict(**kw):
    return kw
opt = torch.optim.SGD([dict(params=a, momentun=0.9)], lr=0.1)
'''


@pytest.mark.parametrize("shadowing", [
    USERS_DICT,
    USERS_DICT.replace("def dict(**kw):\n    return kw\n", "from mylib import dict\n"),
    USERS_DICT.replace("def dict(**kw):\n    return kw\n", "dict = make_group\n"),
    # Shadowed only in the function that builds the optimizer.
    "import torch\ndef build(a, dict):\n    return torch.optim.SGD([dict(params=a, momentun=0.9)], lr=0.1)\n",
])
def test_a_users_own_dict_is_no_param_group_so_its_keywords_are_neither_reported_nor_renamed(shadowing):
    def lint(text):
        return lint_text(text, "train.py")

    assert [f for f in lint(shadowing) if f.code in ("OPT003", "OPT004")] == []
    assert fix_text(shadowing, lint).text == shadowing


def test_the_builtin_dict_beside_a_users_dict_elsewhere_is_still_a_param_group():
    source = "import torch\nclass Config:\n    def dict(self):\n        return {}\n" + USERS_DICT.split("\n", 3)[3]
    assert [(f.code, f.row) for f in lint_text(source, "train.py") if f.code == "OPT003"] == [("OPT003", 5)]


def rule_modules() -> list[Path]:
    return sorted(path for path in RULES.glob("*.py") if path.name != "__init__.py")


@pytest.mark.parametrize("path", rule_modules(), ids=lambda path: path.name)
def test_a_rule_module_imports_only_the_rule_base_and_the_semantic_model(path):
    from_optlint = {name for name in imported_names(path) if name == "optlint" or name.startswith("optlint.")}
    outside = {name for name in from_optlint if not any(name == a or name.startswith(f"{a}.") for a in ALLOWED)}
    assert not outside, f"{path.name} imports {sorted(outside)}: ask optlint.static.semantic instead"


def test_every_rule_module_is_named_after_its_rule_or_is_a_shared_rule_base():
    from optlint.static.rules import all_rules

    by_module = {rule.__module__.rpartition(".")[2]: rule.code for rule in all_rules()}
    for path in rule_modules():
        if path.stem.startswith("_"):
            continue
        assert path.stem.startswith(by_module[path.stem].lower() + "_"), path.name


def rows(code: str, text: str) -> list[int]:
    return [f.row for f in lint_text(text, "train.py") if f.code == code]


DISPATCH = '''\
from torch.optim.lr_scheduler import ReduceLROnPlateau
s = ReduceLROnPlateau(opt)
if isinstance(s, ReduceLROnPlateau):
    s.step(loss)
else:
    s.step()
'''
REPLACED_HEAD = '''\
import torch
from torch import nn
opt = torch.optim.SGD(model.parameters(), lr=0.1)
setattr(model, 'fc', nn.Linear(512, 20))
opt.add_param_group({'params': model.fc.parameters()})
'''


@pytest.mark.parametrize("code, source, anchor, shadowing, row", [
    # Code that dispatches on the scheduler's class, by the builtin isinstance only, handles the other classes.
    ("OPT013", DISPATCH, "s = ReduceLROnPlateau", "from checks import isinstance", 7),
    # Only the builtin setattr replaces the child module, whose parameters are then new.
    ("OPT008", REPLACED_HEAD, "opt = torch", "from logs import setattr", 6),
])
def test_a_shadowed_builtin_no_longer_stands_for_what_the_builtin_does(code, source, anchor, shadowing, row):
    assert rows(code, source) == []
    assert rows(code, source.replace(anchor, f"{shadowing}\n{anchor}")) == [row]
