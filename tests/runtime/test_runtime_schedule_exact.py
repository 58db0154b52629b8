"""The LR preview equals, bit for bit, what torch gives when the real optimizer and scheduler are stepped,
for every scheduler class of the installed torch, and leaves the real objects exactly as they were."""

from __future__ import annotations

import copy
import random
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as S

import optlint
from ground_truth import EPOCHS, RECIPES, STEPS, WarmupThenInverseSqrt, assert_same, stepped
from runtime_models import TinyViT, differential_groups



class Countdown:
    """A callable lambda object with state, which LambdaLR saves in its state_dict."""

    def __init__(self, horizon: int):
        self.horizon = horizon

    def __call__(self, epoch: int) -> float:
        return max(0.0, 1 - epoch / self.horizon)


def make_optimizer(model, kind: str = "SGD"):
    groups = differential_groups(model)
    if kind == "AdamW":
        return torch.optim.AdamW(groups, weight_decay=0.01)
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def auto_interval(name: str) -> str:
    return "step" if name in ("OneCycleLR", "CyclicLR") else "epoch"


def snapshot(*objects):
    """Everything a check could change: state dicts, param_groups, parameter values."""
    return copy.deepcopy([o.state_dict() if hasattr(o, "state_dict") else o for o in objects])


def test_every_scheduler_class_of_torch_has_a_recipe():
    torch_classes = {name for name in S.__all__ if name != "LRScheduler"}
    assert set(RECIPES) == torch_classes


@pytest.mark.parametrize("interval", ["auto", "step", "epoch"])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_preview_of_a_scheduler_instance_is_exact(name, interval):
    model = TinyViT()
    optimizer = make_optimizer(model, "AdamW" if name == "OneCycleLR" else "SGD")
    scheduler = RECIPES[name](optimizer)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS,
                                 scheduler_interval=interval)
    assert report.interval == (auto_interval(name) if interval == "auto" else interval)
    assert report.schedule == stepped(optimizer, scheduler, interval=report.interval)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_preview_of_a_scheduler_factory_is_exact(name):
    model = TinyViT()
    optimizer = make_optimizer(model)
    twin = copy.deepcopy(optimizer)
    report = optlint.check_setup(model, optimizer, RECIPES[name], epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report.schedule == stepped(twin, RECIPES[name](twin), interval=auto_interval(name))


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_preview_of_a_resumed_scheduler_continues_from_its_state(name):
    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = RECIPES[name](optimizer)
    for _ in range(3):
        optimizer.step()
        scheduler.step(1.0) if isinstance(scheduler, S.ReduceLROnPlateau) else scheduler.step()
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS,
                                 scheduler_interval="epoch")
    assert report.schedule == stepped(optimizer, scheduler)
    assert report.schedule[0][0] == optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_check_leaves_the_real_objects_exactly_as_they_were_and_warns_nothing(name):
    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = RECIPES[name](optimizer)
    before = snapshot(model, optimizer, scheduler)
    groups_before = copy.deepcopy(optimizer.param_groups)
    tensors_before = [list(g["params"]) for g in optimizer.param_groups]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
        optlint.check_setup(model, optimizer, RECIPES[name], epochs=EPOCHS, steps_per_epoch=STEPS)
    assert [str(w.message) for w in caught] == []
    assert_same(snapshot(model, optimizer, scheduler), before)
    assert_same(optimizer.param_groups, groups_before)
    assert all(all(a is b for a, b in zip(g["params"], tensors, strict=True))
               for g, tensors in zip(optimizer.param_groups, tensors_before, strict=True))


@pytest.mark.parametrize("as_factory", [False, True], ids=["instance", "factory"])
def test_check_leaves_the_random_streams_of_a_seeded_run_where_they_were(as_factory):
    """A schedule with noise draws from the global generators; the preview runs it, the real run must not notice."""
    def noisy(optimizer):
        return S.LambdaLR(optimizer, lambda epoch: 1.0 + 0.01 * random.random() + 0.01 * float(torch.rand(())))

    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = noisy if as_factory else noisy(optimizer)
    torch.manual_seed(0)
    random.seed(0)
    optlint.check_setup(model, optimizer, scheduler, epochs=3)
    seeded = torch.Generator().manual_seed(0)
    assert (random.random(), float(torch.rand(()))) == (random.Random(0).random(), float(torch.rand((), generator=seeded)))


def test_check_leaves_numpy_random_stream_where_it_was():
    numpy = pytest.importorskip("numpy")
    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = S.LambdaLR(optimizer, lambda epoch: 1.0 + 0.01 * numpy.random.rand())
    numpy.random.seed(0)
    optlint.check_setup(model, optimizer, scheduler, epochs=3)
    assert numpy.random.rand() == numpy.random.RandomState(0).rand()


def test_torch_still_warns_about_the_real_loop_after_a_check():
    """The check must not mark the real optimizer as stepped: torch's own warning still fires."""
    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = S.StepLR(optimizer, step_size=2)
    optlint.check_setup(model, optimizer, scheduler)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        scheduler.step()


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda o: WarmupThenInverseSqrt(o, warmup=4), id="user-subclass"),
        pytest.param(lambda o: S.LambdaLR(o, [Countdown(5), lambda e: 0.9 ** e]), id="lambda-per-group"),
        pytest.param(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=1), id="warm-restarts-T_mult-1"),
        pytest.param(lambda o: S.ReduceLROnPlateau(o, mode="max", patience=0, threshold_mode="abs", min_lr=[1e-6, 0]),
                     id="plateau-max-mode"),
        pytest.param(lambda o: S.OneCycleLR(o, max_lr=1e-2, total_steps=30, three_phase=True, anneal_strategy="linear"),
                     id="one-cycle-three-phase"),
        pytest.param(lambda o: S.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, step_size_up=3, mode="exp_range", gamma=0.9),
                     id="cyclic-exp-range"),
    ],
)
def test_preview_is_exact_for_user_code_and_unusual_settings(build):
    model = TinyViT()
    optimizer = make_optimizer(model)
    scheduler = build(optimizer)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=9, steps_per_epoch=2, scheduler_interval="step")
    assert report.schedule == stepped(optimizer, scheduler, epochs=9, steps=2, interval="step")


def test_preview_is_exact_with_tensor_learning_rates():
    model = TinyViT()
    groups = [{"params": g["params"], "lr": torch.tensor(g["lr"])} for g in differential_groups(model)]
    optimizer = torch.optim.Adam(groups, foreach=False)
    scheduler = RECIPES["SequentialLR"](optimizer)
    lr_tensors = [g["lr"] for g in optimizer.param_groups]
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report.schedule == stepped(optimizer, scheduler)
    assert all(g["lr"] is t for g, t in zip(optimizer.param_groups, lr_tensors))


def test_momentum_cycled_by_the_scheduler_is_untouched_on_the_real_optimizer():
    model = TinyViT()
    optimizer = make_optimizer(model, "AdamW")
    scheduler = S.OneCycleLR(optimizer, max_lr=1e-2, total_steps=50)
    betas = [g["betas"] for g in optimizer.param_groups]
    optlint.check_setup(model, optimizer, scheduler, epochs=10, steps_per_epoch=4)
    assert [g["betas"] for g in optimizer.param_groups] == betas


def test_without_a_scheduler_every_step_uses_the_group_lr():
    model = TinyViT()
    optimizer = make_optimizer(model)
    report = optlint.check_setup(model, optimizer, epochs=3, steps_per_epoch=2)
    assert report.schedule == [[1e-5] * 6, [1e-3] * 6]


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA device on this machine: the cuda path is tested where a GPU is present")
def test_preview_is_exact_on_cuda_with_fused_adamw_and_tensor_lrs():
    model = TinyViT().cuda()
    groups = [{"params": g["params"], "lr": torch.tensor(g["lr"], device="cuda")} for g in differential_groups(model)]
    optimizer = torch.optim.AdamW(groups, fused=True)
    scheduler = RECIPES["SequentialLR"](optimizer)
    before = snapshot(model, optimizer, scheduler)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report.schedule == stepped(optimizer, scheduler)
    assert_same(snapshot(model, optimizer, scheduler), before)
