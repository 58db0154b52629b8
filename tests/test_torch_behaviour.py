"""Each torch fact a static rule relies on, proven against the installed torch.

Grouped by rule; when a test here fails after a torch upgrade, the rule's message, page or logic
must change with it.
"""

import importlib.util
import types
import warnings
from pathlib import Path

import pytest

from optlint import facts

torch = pytest.importorskip("torch")
lr_scheduler = torch.optim.lr_scheduler

FACTS = facts.load()
OPTIMIZERS = sorted(FACTS.optimizers)
SCHEDULERS = sorted(FACTS.schedulers)


def _recipes():
    """How scripts/gen_torch_facts.py builds each scheduler class on a scratch optimizer."""
    path = Path(__file__).resolve().parent.parent / "scripts" / "gen_torch_facts.py"
    spec = importlib.util.spec_from_file_location("gen_torch_facts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SCHEDULER_RECIPES


RECIPES = _recipes()


def parameter():
    # 2-D: Muon accepts nothing else, and every other optimizer takes it too.
    return torch.nn.Parameter(torch.ones(2, 2))


def stepped_scheduler(name):
    """A scheduler of class `name` whose optimizer has taken one step."""
    optimizer = torch.optim.SGD([parameter()], lr=0.1, momentum=0.9)
    scheduler = RECIPES[name](lr_scheduler, optimizer)
    optimizer.step()
    return scheduler


def subclassed_scheduler(name):
    """`stepped_scheduler`, built from a subclass that defines nothing (`class Warmup(LambdaLR): __init__`
    only): what a project's own scheduler class inherits."""
    optimizer = torch.optim.SGD([parameter()], lr=0.1, momentum=0.9)
    subclasses = types.SimpleNamespace(**{n: type(f"Project{n}", (getattr(lr_scheduler, n),), {}) for n in RECIPES})
    scheduler = RECIPES[name](subclasses, optimizer)
    optimizer.step()
    return scheduler


def caught_warnings(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [str(w.message) for w in caught]


# -- OPT003 unknown-param-group-key ---------------------------------------------------------------


def test_misspelled_group_key_is_kept_and_ignored_silently():
    weight = parameter()
    optimizer = torch.optim.SGD([{"params": [weight], "learning_rate": 1.0}], lr=0.01)
    assert optimizer.param_groups[0]["learning_rate"] == 1.0
    assert optimizer.param_groups[0]["lr"] == 0.01
    weight.grad = torch.ones_like(weight)
    optimizer.step()
    assert torch.allclose(weight, torch.full_like(weight, 1 - 0.01))


def test_scheduler_added_keys_and_param_names_are_real_group_keys():
    optimizer = torch.optim.SGD([{"params": [parameter()], "param_names": ["w"]}], lr=0.1, momentum=0.9)
    lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)
    assert {"param_names", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"} <= set(
        optimizer.param_groups[0]
    )


# -- OPT004 lr-not-a-number ------------------------------------------------------------------------

NOT_NUMBERS = [[1e-3, 1e-4], (1e-3,), {"head": 1e-3}, {1e-3}, "1e-3"]


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("lr", NOT_NUMBERS, ids=lambda v: type(v).__name__)
def test_constructor_rejects_lr_that_is_not_a_number(name, lr):
    with pytest.raises(TypeError, match="not supported between instances"):
        getattr(torch.optim, name)([parameter()], lr=lr)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
@pytest.mark.parametrize("lr", NOT_NUMBERS, ids=lambda v: type(v).__name__)
def test_group_lr_that_is_not_a_number_raises_at_the_first_step(name, lr):
    weight = parameter()
    optimizer = getattr(torch.optim, name)([{"params": [weight], "lr": lr}], lr=0.1)
    weight.grad = torch.ones_like(weight)
    with pytest.raises(TypeError):
        optimizer.step()


# -- OPT007 scheduler-in-wrong-namespace ------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_classes_are_not_attributes_of_torch_optim(name):
    with pytest.raises(AttributeError, match=f"module 'torch.optim' has no attribute '{name}'"):
        getattr(torch.optim, name)
    with pytest.raises(ImportError, match=f"cannot import name '{name}' from 'torch.optim'"):
        exec(f"from torch.optim import {name}", {})
    assert getattr(lr_scheduler, name)


# -- OPT010 empty-parameter-list -------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("empty", [[], (), list(), tuple()], ids=["[]", "()", "list()", "tuple()"])
def test_optimizer_refuses_an_empty_parameter_list(name, empty):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(torch.optim, name)(empty, lr=0.1)


# -- OPT013 plateau-step-without-metric ---------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [{}, {"epoch": 3}])
def test_plateau_step_needs_the_metric(kwargs):
    scheduler = lr_scheduler.ReduceLROnPlateau(torch.optim.SGD([parameter()], lr=0.1))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'metrics'"):
        scheduler.step(**kwargs)


# -- OPT014 get-lr-call ----------------------------------------------------------------------------

RAISING_GET_LR = {"ReduceLROnPlateau", "SequentialLR", "ChainedScheduler"}


@pytest.mark.parametrize("name", sorted(set(RECIPES) - RAISING_GET_LR))
def test_get_lr_outside_step_warns_to_use_get_last_lr(name):
    scheduler = stepped_scheduler(name)
    assert any("please use `get_last_lr()`" in m for m in caught_warnings(scheduler.get_lr))


@pytest.mark.parametrize("name", sorted(set(RECIPES) - RAISING_GET_LR))
def test_a_subclass_that_keeps_get_lr_warns_alike(name):
    scheduler = subclassed_scheduler(name)
    assert type(scheduler).__name__ == f"Project{name}"
    assert any("please use `get_last_lr()`" in m for m in caught_warnings(scheduler.get_lr))


@pytest.mark.parametrize("name", sorted(RAISING_GET_LR))
def test_get_lr_raises_on_schedulers_without_a_formula(name):
    with pytest.raises(NotImplementedError):
        stepped_scheduler(name).get_lr()


def test_get_lr_can_differ_from_the_lr_in_use():
    scheduler = stepped_scheduler("ExponentialLR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert scheduler.get_lr() != scheduler.get_last_lr()
    assert scheduler.get_last_lr() == [group["lr"] for group in scheduler.optimizer.param_groups]


# -- OPT015 scheduler-step-with-epoch -------------------------------------------------------------

EPOCH_IS_MEANT = {"ReduceLROnPlateau", "CosineAnnealingWarmRestarts"}
TAKES_EPOCH = sorted(n for n in RECIPES if "epoch" in FACTS.schedulers[n]["step_arguments"])


@pytest.mark.parametrize("name", sorted(set(TAKES_EPOCH) - EPOCH_IS_MEANT))
def test_step_with_epoch_is_deprecated(name):
    scheduler = stepped_scheduler(name)
    messages = caught_warnings(lambda: scheduler.step(3))
    assert any("The epoch parameter in `scheduler.step()` was not necessary" in m for m in messages)


@pytest.mark.parametrize("name", sorted(set(TAKES_EPOCH) - EPOCH_IS_MEANT))
def test_a_subclass_that_keeps_step_deprecates_the_epoch_alike(name):
    scheduler = subclassed_scheduler(name)
    messages = caught_warnings(lambda: scheduler.step(3))
    assert any("The epoch parameter in `scheduler.step()` was not necessary" in m for m in messages)


def test_warm_restarts_take_a_fractional_epoch_without_warning():
    scheduler = stepped_scheduler("CosineAnnealingWarmRestarts")
    assert caught_warnings(lambda: scheduler.step(1 + 3 / 10)) == []


def test_step_with_the_loop_index_decays_one_epoch_late():
    def lrs(step):
        optimizer = torch.optim.SGD([parameter()], lr=1.0)
        scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
        trained_at = []
        for epoch in range(4):
            trained_at.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            step(scheduler, epoch)
        return trained_at

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lrs(lambda s, e: s.step()) == pytest.approx([1.0, 1.0, 0.1, 0.1])
        assert lrs(lambda s, e: s.step(e)) == pytest.approx([1.0, 1.0, 1.0, 0.1])
