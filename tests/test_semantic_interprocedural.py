"""Values that reach a name from elsewhere in the same file: a parameter bound by every call site, a
same-file function's return (tuples and dicts too), containers and their elements, and guards whose
bound is a literal or a module constant. Each case is read through a rule, as users see it."""

from __future__ import annotations

import libcst as cst
import pytest

from optlint.facts import load
from optlint.static.runner import lint_text
from optlint.static.semantic.model import SemanticModel

HEADER = "import torch\nfrom torch.optim import AdamW, SGD\nfrom torch.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau, StepLR\n"


def found(body: str) -> list[tuple[str, int]]:
    """(code, row) of every finding, rows counted from the first line of `body`."""
    offset = HEADER.count("\n")
    return sorted((f.code, f.row - offset) for f in lint_text(HEADER + body, "train.py"))


TRAIN_EPOCH = """\
def train_epoch(model, loader, optimizer, scheduler):
    for x in loader:
        optimizer.step()
    print(scheduler.get_lr())
"""


def test_a_parameter_holds_what_every_call_site_passes():
    body = TRAIN_EPOCH + """\
def main(model, loader):
    opt = AdamW(model.parameters())
    sched = StepLR(opt, 10)
    for epoch in range(3):
        train_epoch(model, loader, opt, sched)
"""
    assert found(body) == [("OPT014", 4)]


def test_a_parameter_passed_by_keyword_or_left_to_its_default():
    body = """\
OPT = AdamW(model.parameters())
def fit(loader, scheduler=ReduceLROnPlateau(OPT), optimizer=None):
    for x in loader:
        optimizer.step()
    scheduler.step()
fit(loader, optimizer=OPT)
"""
    assert found(body) == [("OPT013", 5)]


def test_a_method_called_through_self_sees_what_the_class_passes():
    body = """\
class Trainer:
    def __init__(self, model):
        self.opt = AdamW(model.parameters())
        self.sched = OneCycleLR(self.opt, 0.1, total_steps=100)
    def advance(self, sched):
        sched.step(3)
    def fit(self, loader):
        for x in loader:
            self.opt.step()
            self.advance(self.sched)
"""
    assert found(body) == [("OPT015", 6)]


@pytest.mark.parametrize("calls", [
    # Two call sites passing different schedulers.
    "train_epoch(model, loader, opt, StepLR(opt, 10))\ntrain_epoch(model, loader, opt, other)\n",
    # Never called in the file: some other module may call it with anything.
    "",
    # Escapes as a callback: called from where we cannot see.
    "train_epoch(model, loader, opt, StepLR(opt, 10))\nregister(train_epoch)\n",
    # Called with *args: which parameter gets what is unknown.
    "train_epoch(model, loader, *rest)\n",
])
def test_a_parameter_without_one_agreed_instance_stays_unbound(calls):
    body = TRAIN_EPOCH + "opt = AdamW(model.parameters())\n" + calls
    assert [code for code, _ in found(body)] == []


def test_a_decorated_function_binds_no_parameter():
    body = "@hook\n" + TRAIN_EPOCH + "opt = AdamW(model.parameters())\ntrain_epoch(model, loader, opt, StepLR(opt, 10))\n"
    assert found(body) == []


def test_a_function_returns_what_it_builds():
    body = """\
def build_scheduler(opt):
    return ReduceLROnPlateau(opt)
def build_optimizer(model):
    opt = AdamW(model.parameters())
    return opt
optimizer = build_optimizer(model)
scheduler = build_scheduler(optimizer)
for epoch in range(3):
    optimizer.step()
    scheduler.step()
"""
    assert found(body) == [("OPT013", 10)]


def test_a_returned_tuple_is_unpacked_at_the_caller():
    body = """\
def build(model):
    opt = SGD(model.parameters(), lr=0.1)
    return opt, OneCycleLR(opt, 0.1, total_steps=100)
optimizer, scheduler = build(model)
for x in loader:
    optimizer.step()
    scheduler.step(1)
"""
    assert found(body) == [("OPT015", 7)]


def test_a_returned_dict_is_read_with_constant_keys():
    body = """\
def build(model):
    opt = SGD(model.parameters(), lr=0.1)
    return {"optimizer": opt, "scheduler": ReduceLROnPlateau(opt)}
parts = build(model)
for x in loader:
    parts["optimizer"].step()
    parts["scheduler"].step()
"""
    assert found(body) == [("OPT013", 7)]


def test_a_method_returns_through_self():
    body = """\
class Runner:
    def make(self, model):
        return ReduceLROnPlateau(SGD(model.parameters(), lr=0.1))
    def run(self, model):
        sched = self.make(model)
        sched.step()
"""
    assert found(body) == [("OPT013", 6)]


def test_a_function_that_may_return_something_else_gives_no_instance():
    body = """\
def build(opt, plateau):
    if plateau:
        return ReduceLROnPlateau(opt)
    return make_other(opt)
sched = build(SGD(model.parameters(), lr=0.1), True)
sched.step()
"""
    assert found(body) == []


@pytest.mark.parametrize("container, access", [
    ("opts = [SGD(m.parameters(), lr=0.1), ReduceLROnPlateau(x)]", "opts[1]"),
    ("opts = (SGD(m.parameters(), lr=0.1), ReduceLROnPlateau(x))", "opts[1]"),
    ('opts = {"g": SGD(m.parameters(), lr=0.1), "s": ReduceLROnPlateau(x)}', 'opts["s"]'),
])
def test_a_constant_subscript_of_a_container_is_its_element(container, access):
    assert found(f"{container}\n{access}.step()\n") == [("OPT013", 2)]


def test_a_container_on_self_is_read_in_another_method():
    body = """\
class GAN:
    def __init__(self):
        self.scheds = {"g": ReduceLROnPlateau(a), "d": ReduceLROnPlateau(b)}
    def epoch_end(self):
        self.scheds["d"].step()
"""
    assert found(body) == [("OPT013", 5)]
    hint = next(f.hint for f in lint_text(HEADER + body, "train.py"))
    assert '`self.scheds["d"].step(val_loss)`' in hint  # the receiver as written, not `None`


def test_appended_elements_are_iterated_but_not_indexed():
    body = """\
scheds = []
scheds.append(ReduceLROnPlateau(a))
for s in scheds:
    s.step()
scheds[0].step()
"""
    assert found(body) == [("OPT013", 4)]


def test_a_container_changed_otherwise_holds_nothing_known():
    body = "scheds = [ReduceLROnPlateau(a)]\nscheds.extend(more)\nfor s in scheds:\n    s.step()\n"
    assert found(body) == []


def test_iterating_optimizers_steps_each_of_them():
    body = """\
opt_g, opt_d = SGD(g.parameters(), lr=0.1), SGD(d.parameters(), lr=0.1)
sched_g, sched_d = StepLR(opt_g, 10), StepLR(opt_d, 10)
for epoch in range(10):
    sched_d.step()
    for o in [opt_g, opt_d]:
        o.step()
    sched_g.step()
"""
    assert found(body) == [("OPT011", 4)]


def test_recursion_and_cycles_between_helpers_terminate_unbound():
    body = """\
def a(opt, n):
    return b(opt, n - 1)
def b(opt, n):
    return a(opt, n) if n else opt
def c(s):
    c(s)
    s.step()
opt = a(SGD(m.parameters(), lr=0.1), 3)
c(ReduceLROnPlateau(opt))
"""
    model = SemanticModel(cst.parse_module(HEADER + body), load())
    opt = model.instance_of(cst.Name("opt"), model.module_scope)
    assert opt is None  # the cycle answers "unknown" rather than looping
    assert found(body) == [("OPT013", 7)]  # `c`'s own call passes `s` on: the module's is the one value


# -- guards ---------------------------------------------------------------------------------------
GUARDED = """\
START = {start}
opt = SGD(m.parameters(), lr=0.1)
sched = StepLR(opt, 10)
for epoch in range({first}10):
    if epoch {test}:
        sched.step()
    opt.step()
"""


@pytest.mark.parametrize("start, first, test, rows", [
    ("0", "", ">= START", [6]),  # a module constant 0: the first epoch steps early
    ("1", "START, ", "> 0", [6]),  # starts at 1: `epoch > 0` holds on the first epoch
    ("-1", "", "> START", [6]),
    ("1", "", ">= START", []),  # the first epoch (0) skips the step
    ("0", "", "> 0", []),
    ("0", "", "> cfg.start", []),  # a bound optlint cannot know: silent
    ("0", "cfg.start, ", ">= 1", []),  # the first value cannot be known: silent
])
def test_a_guard_with_known_bounds_is_evaluated(start, first, test, rows):
    body = GUARDED.format(start=start, first=first, test=test)
    assert [row for code, row in found(body) if code == "OPT011"] == rows


def test_a_module_constant_reassigned_elsewhere_is_not_a_constant():
    body = "def reset():\n    global START\n    START = 1\n" + GUARDED.format(start="0", first="", test=">= START")
    assert [code for code, _ in found(body)] == []


@pytest.mark.parametrize("flag, expected", [("True", [("OPT019", 10)]), ("cfg.per_batch", [])])
def test_a_guard_that_always_holds_does_not_choose_the_depth(flag, expected):
    body = f"""\
PER_BATCH = {flag}
opt = SGD(m.parameters(), lr=0.1)
sched = StepLR(opt, 10)
for epoch in range(3):
    for x in loader:
        opt.step()
        if PER_BATCH:
            sched.step()
    if PER_BATCH:
        sched.step()
"""
    assert found(body) == expected



LOCALS = """\
def training_utilities(model):
    optimizer = AdamW(model.parameters())
    return model, optimizer, get_linear_schedule_with_warmup(optimizer, 100, 1000)
def baseline(model, loader):
    model, optimizer, scheduler = training_utilities(model)
    engine, optimizer, _, scheduler = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler)
    for x in loader:
        engine.step()  # steps its optimizer, then its scheduler
        scheduler.step()
def integration(model, loader, accelerator):
    model, optimizer, scheduler = accelerator.prepare(*training_utilities(model))
    for x in loader:
        optimizer.step()
        scheduler.step()
for stage in range(3):
    baseline(model, loader)
    integration(model, loader, accelerator)
"""
SHARED = """\
optimizer = AdamW(model.parameters())
scheduler = StepLR(optimizer, 10)
def baseline(loader):
    for x in loader:
        scheduler.step()
def run(loader):
    for x in loader:
        optimizer.step()
for stage in range(3):
    baseline(loader)
    run(loader)
"""


@pytest.mark.parametrize("body, rows", [
    (LOCALS, []),  # each function's own objects, made anew by each call: neither is bound to the other
    (SHARED, [("OPT011", 5)]),  # the module's two objects, stepped in the wrong order on the first stage
])
def test_steps_of_two_functions_are_ordered_only_when_they_may_share_objects(body, rows):
    assert found(body) == rows
