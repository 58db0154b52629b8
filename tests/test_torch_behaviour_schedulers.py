"""The torch facts behind the scheduler rules (OPT011, OPT012, OPT016, OPT017), proved on the installed torch."""

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler  # noqa: E402


def _setup(make):
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    return optimizer, make(optimizer)


def _lrs_when_stepped(scheduler_first: bool, epochs: int = 4):
    optimizer, scheduler = _setup(lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.1))
    seen = []
    for _ in range(epochs):
        if scheduler_first:
            scheduler.step()
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if not scheduler_first:
            scheduler.step()
    return seen


def test_scheduler_step_before_optimizer_step_warns_and_skips_the_first_value():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        early = _lrs_when_stepped(scheduler_first=True)
    assert any("before `optimizer.step()`" in str(w.message) for w in caught)
    assert early != _lrs_when_stepped(scheduler_first=False)
    assert early[:3] == _lrs_when_stepped(scheduler_first=False)[1:4]  # shifted by one step


def test_reduce_lr_on_plateau_stepped_first_does_not_warn():
    optimizer, scheduler = _setup(lambda o: lr_scheduler.ReduceLROnPlateau(o))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step(1.0)
        optimizer.step()
    assert not [w for w in caught if "optimizer.step()" in str(w.message)]


def test_one_cycle_stepped_per_epoch_never_leaves_warm_up():
    epochs, batches = 10, 50
    optimizer, scheduler = _setup(
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, epochs=epochs, steps_per_epoch=batches)
    )
    peak = 0.0
    for _ in range(epochs):
        for _ in range(batches):
            optimizer.step()
            peak = max(peak, optimizer.param_groups[0]["lr"])
        scheduler.step()
    assert peak < 0.1  # warm-up spans 30% of 500 steps; ten steps never approach max_lr=1.0


@pytest.mark.parametrize(
    "make",
    [
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=1e-2, total_steps=10),
        lambda o: lr_scheduler.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, step_size_up=2),
    ],
    ids=["OneCycleLR", "CyclicLR"],
)
def test_scalar_cycle_schedulers_overwrite_differential_and_zero_group_lrs(make):
    a, b, c = (torch.zeros(1, requires_grad=True) for _ in range(3))
    optimizer = torch.optim.SGD(
        [{"params": [a], "lr": 1e-5}, {"params": [b], "lr": 1e-3}, {"params": [c], "lr": 0.0}], lr=0.1, momentum=0.9
    )
    make(optimizer)
    lrs = [g["lr"] for g in optimizer.param_groups]
    assert lrs[0] == lrs[1] == lrs[2] > 0


def _lrs_after_adding_a_group(make, steps=5):
    head, body = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([head], lr=1.0)
    scheduler = make(optimizer)
    optimizer.add_param_group({"params": [body], "lr": 0.1})
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
    return [group["lr"] for group in optimizer.param_groups]


def test_chained_scheduler_handles_an_added_group_as_its_children_do():
    sound = _lrs_after_adding_a_group(
        lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(o, 2), lr_scheduler.ExponentialLR(o, 0.9)])
    )
    assert sound[1] / sound[0] == pytest.approx(0.1)
    rescaled = _lrs_after_adding_a_group(
        lambda o: lr_scheduler.ChainedScheduler(
            [lr_scheduler.ConstantLR(o, factor=0.5, total_iters=4), lr_scheduler.ExponentialLR(o, 0.9)]
        )
    )
    assert rescaled[1] / rescaled[0] != pytest.approx(0.1)


def test_one_cycle_sized_in_epochs_completes_its_cycle_when_stepped_per_epoch():
    epochs = 10
    optimizer, scheduler = _setup(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=epochs))
    seen = []
    for _ in range(epochs):
        for _ in range(50):
            optimizer.step()
        seen.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    assert max(seen) == pytest.approx(1.0, rel=0.05)  # reaches max_lr, then anneals
    assert seen[-1] < 0.01
