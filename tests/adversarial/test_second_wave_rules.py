"""The second-wave rules (OPT003 writes, OPT018-OPT023) under renaming and re-layout: whatever
the variables are called and wherever the code sits (module, function, `self.x`), each bug form is
found and each look-alike stays silent."""

import keyword
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static.runner import lint_text

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=max(PROFILE.max_examples // 5, 10))

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and n not in {"torch", "self", "range", "print", "model", "loader"}
)
THREE_NAMES = st.lists(NAMES, min_size=3, max_size=3, unique=True)


def codes(text: str, code: str) -> list[int]:
    return [f.row for f in lint_text(text, "t.py") if f.code == code]


def laid_out(body: list[str], in_class: bool, names: dict[str, str]) -> str:
    """The body at module level, or in a method with the instances as `self.x`."""
    lines = [line.format(**{k: (f"self.{v}" if in_class and k in ("opt", "sched") else v) for k, v in names.items()})
             for line in body]
    if not in_class:
        return "import torch\n" + "\n".join(lines) + "\n"
    return "import torch\nclass T:\n    def run(self, m, loader):\n" + "".join(f"        {line}\n" for line in lines)


OPT020_VALUES = {
    "0": True, "3": True, "{start}": True,  # bugs: a literal, or a name holding one
    "-1": False, "{start} - 1": False, "args.start_epoch": False,
}


@FUZZ
@given(THREE_NAMES, st.sampled_from(sorted(OPT020_VALUES)), st.booleans(), st.booleans())
def test_last_epoch_on_a_fresh_optimizer_is_found_and_its_look_alikes_are_not(names, value, in_class, loaded):
    opt, sched, start = names
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        "{start} = 0",
        *(["{opt}.load_state_dict(torch.load('last.pt'))"] if loaded else []),
        "{sched} = torch.optim.lr_scheduler.StepLR({opt}, 30, last_epoch=" + value + ")",
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched, "start": start})
    assert bool(codes(text, "OPT020")) == (OPT020_VALUES[value] and not loaded), text


OPT019_GUARDS = {"": True, "if (i + 1) % 4 == 0:": True, "if {sched} is not None:": True,
                 "if cfg.per_step:": False, "if epoch < 5:": False}


@FUZZ
@given(THREE_NAMES, st.sampled_from(sorted(OPT019_GUARDS)), st.booleans(), st.booleans())
def test_a_scheduler_stepped_at_two_depths_is_found_unless_a_guard_may_choose(names, guard, in_class, argument):
    opt, sched, _ = names
    step = "{sched}.step(epoch + i / 10)" if argument else "{sched}.step()"
    inner = [f"        {guard}", f"            {step}"] if guard else [f"        {step}"]
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        "{sched} = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts({opt}, 10)",
        "for epoch in range(10):",
        "    for i, x in enumerate(loader):",
        "        {opt}.step()",
        *inner,
        "    " + step,
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched})
    assert bool(codes(text, "OPT019")) == (OPT019_GUARDS[guard] and not argument), text


OPT023_CHECKPOINTS = {
    "torch.save({{'optimizer': {opt}.state_dict(), 'epoch': epoch}}, 'last.pt')": True,
    "torch.save({{'optimizer': {opt}.state_dict(), 'scheduler': {sched}.state_dict()}}, 'last.pt')": False,
    "ckpt = {{'optimizer': {opt}.state_dict()}}\n{indent}ckpt['scheduler'] = {sched}.state_dict()\n"
    "{indent}torch.save(ckpt, 'last.pt')": False,
    "ckpt = {{'optimizer': {opt}.state_dict()}}\n{indent}torch.save(ckpt, 'last.pt')": True,
}


@FUZZ
@given(THREE_NAMES, st.sampled_from(sorted(OPT023_CHECKPOINTS)), st.booleans())
def test_a_checkpoint_without_the_scheduler_is_found_and_one_with_it_is_not(names, checkpoint, in_class):
    opt, sched, _ = names
    indent = " " * (12 if in_class else 4)
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        "{sched} = torch.optim.lr_scheduler.StepLR({opt}, 30)",
        "for epoch in range(10):",
        "    {opt}.step()",
        "    {sched}.step()",
        "    " + checkpoint,
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched, "indent": indent})
    assert bool(codes(text, "OPT023")) == OPT023_CHECKPOINTS[checkpoint], text


KEYS = {"learning_rate": True, "Lr": True, "momentun": True, "weightdecay": True,
        "lr": False, "name": False, "layer_id": False, "lr_scale": False, "initial_lr": False}


@FUZZ
@given(THREE_NAMES, st.sampled_from(sorted(KEYS)), st.sampled_from(["loop", "index", "update"]), st.booleans())
def test_a_misspelt_key_written_into_a_group_is_found_and_metadata_is_not(names, key, form, in_class):
    opt, group, _ = names
    write = {
        "loop": ["for {group} in {opt}.param_groups:", f"    {{group}}['{key}'] = 0.1"],
        "index": [f"{{opt}}.param_groups[0]['{key}'] = 0.1"],
        "update": ["for {group} in {opt}.param_groups:", f"    {{group}}.update({key}=0.1)"],
    }[form]
    body = ["{opt} = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)", *write]
    text = laid_out(body, in_class, {"opt": opt, "group": group})
    assert bool(codes(text, "OPT003")) == KEYS[key], text


USED = {"m", "x", "cfg", "len", "enumerate", "epoch", "i"}  # names the bodies below use themselves
FREE_NAMES = st.lists(NAMES.filter(lambda n: n not in USED), min_size=3, max_size=3, unique=True)

OPT021_GUARDS = {"({i} + 1) % 4 == 0": True, "{i} % 4 == 0": True, "{i} % 4 == 0 or {i} == 99": True,
                 "{i} > 0": False, "cfg.step_now": False}


@FUZZ
@given(FREE_NAMES, st.sampled_from(sorted(OPT021_GUARDS)), st.booleans(), st.booleans())
def test_a_scheduler_outside_the_accumulation_guard_is_found_and_one_under_it_is_not(names, guard, in_class, under):
    opt, sched, i = names
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        "{sched} = torch.optim.lr_scheduler.StepLR({opt}, 10)",
        "for {i}, x in enumerate(loader):",
        f"    if {guard}:",
        "        {opt}.step()",
        ("        " if under else "    ") + "{sched}.step()",
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched, "i": i})
    assert bool(codes(text, "OPT021")) == (OPT021_GUARDS[guard] and not under), text


OPT022_LENGTHS = {"{n} * len(loader)": "batches", "len(loader)": "batches", "{n}": "epochs", "cfg.t_max": None,
                  "{n} * 2": "epochs"}


@FUZZ
@given(FREE_NAMES, st.sampled_from(sorted(OPT022_LENGTHS)), st.booleans(), st.booleans())
def test_a_horizon_in_the_other_unit_than_its_step_is_found(names, length, in_class, per_batch):
    opt, sched, n = names
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        f"{{sched}} = torch.optim.lr_scheduler.CosineAnnealingLR({{opt}}, T_max={length})",
        "for epoch in range({n}):",
        "    for x in loader:",
        "        {opt}.step()",
        ("        " if per_batch else "    ") + "{sched}.step()",
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched, "n": n})
    wrong = {"batches": not per_batch, "epochs": per_batch, None: False}[OPT022_LENGTHS[length]]
    assert bool(codes(text, "OPT022")) == wrong, text


OPT018_PHASES = {
    "rebound": (["{opt} = torch.optim.SGD(m.parameters(), lr=0.01)"], True),
    "rebuilt": (["{opt} = torch.optim.SGD(m.parameters(), lr=0.01)",
                 "{sched} = torch.optim.lr_scheduler.StepLR({opt}, 10)"], False),
    "wrapped": (["{opt} = cfg.wrap({opt})"], False),
    "other branch": (["if {flag}:", "    {sched} = torch.optim.lr_scheduler.StepLR({opt}, 10)", "else:",
                      "    {opt} = torch.optim.SGD(m.parameters(), lr=0.01)"], False),
}


@FUZZ
@given(FREE_NAMES, st.sampled_from(sorted(OPT018_PHASES)), st.booleans())
def test_an_optimizer_rebound_under_its_scheduler_is_found_and_one_rebuilt_with_it_is_not(names, phase, in_class):
    opt, sched, flag = names
    second, bug = OPT018_PHASES[phase]
    first = [] if phase == "other branch" else ["{sched} = torch.optim.lr_scheduler.StepLR({opt}, 10)"]
    body = [
        "{opt} = torch.optim.SGD(m.parameters(), lr=0.1)",
        *first,
        *second,
        "for x in loader:",
        "    {opt}.step()",
        "    {sched}.step()",
    ]
    text = laid_out(body, in_class, {"opt": opt, "sched": sched, "flag": flag})
    assert bool(codes(text, "OPT018")) == bug, text
