"""The torch facts behind the second-wave rules (OPT003 writes, OPT018-OPT023), proved on the installed torch."""

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler  # noqa: E402

from optlint.static.rules.opt020_last_epoch_on_fresh_optimizer import RAISE_ON_FRESH_OPTIMIZER  # noqa: E402


def _optimizer(lr=0.1):
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def test_a_misspelt_key_written_into_a_group_is_kept_and_ignored():
    optimizer = _optimizer()
    for group in optimizer.param_groups:
        group["learning_rate"] = 0.001
    optimizer.step()
    assert optimizer.param_groups[0]["lr"] == 0.1
    assert optimizer.param_groups[0]["learning_rate"] == 0.001


def test_a_scheduler_stepped_per_batch_and_per_epoch_advances_batches_plus_one_times():
    epochs, batches = 4, 5
    optimizer = _optimizer()
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)  # a per-epoch horizon
    first_epoch = []
    for epoch in range(epochs):
        for _ in range(batches):
            optimizer.step()
            scheduler.step()
            if epoch == 0:
                first_epoch.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
        assert scheduler.last_epoch == (epoch + 1) * (batches + 1)
    assert min(first_epoch) == pytest.approx(0.0, abs=1e-12)  # the whole cosine is spent in epoch one
    assert first_epoch[-1] > min(first_epoch)  # and it climbs again


SCHEDULERS = {
    "StepLR": lambda o, **k: lr_scheduler.StepLR(o, 10, **k),
    "MultiStepLR": lambda o, **k: lr_scheduler.MultiStepLR(o, [5], **k),
    "ExponentialLR": lambda o, **k: lr_scheduler.ExponentialLR(o, 0.9, **k),
    "CosineAnnealingLR": lambda o, **k: lr_scheduler.CosineAnnealingLR(o, 10, **k),
    "LambdaLR": lambda o, **k: lr_scheduler.LambdaLR(o, lambda e: 1.0, **k),
    "MultiplicativeLR": lambda o, **k: lr_scheduler.MultiplicativeLR(o, lambda e: 0.9, **k),
    "LinearLR": lambda o, **k: lr_scheduler.LinearLR(o, **k),
    "ConstantLR": lambda o, **k: lr_scheduler.ConstantLR(o, **k),
    "PolynomialLR": lambda o, **k: lr_scheduler.PolynomialLR(o, **k),
    "OneCycleLR": lambda o, **k: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=100, **k),
    "CyclicLR": lambda o, **k: lr_scheduler.CyclicLR(o, 0.01, 0.1, **k),
    "CosineAnnealingWarmRestarts": lambda o, **k: lr_scheduler.CosineAnnealingWarmRestarts(o, 10, **k),
}


def test_the_rule_knows_every_class_measured_here():
    assert RAISE_ON_FRESH_OPTIMIZER == frozenset(SCHEDULERS)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_last_epoch_zero_on_a_fresh_optimizer_raises_key_error_initial_lr(name):
    with pytest.raises(KeyError, match="initial_lr"):
        SCHEDULERS[name](_optimizer(), last_epoch=0)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_last_epoch_after_loading_the_optimizer_state_or_minus_one_works(name):
    trained = _optimizer()
    SCHEDULERS[name](trained)  # writes initial_lr into the groups, which the state dict keeps
    resumed = _optimizer()
    resumed.load_state_dict(trained.state_dict())
    SCHEDULERS[name](resumed, last_epoch=0)
    SCHEDULERS[name](_optimizer(), last_epoch=-1)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=10),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=20),
], ids=["warm-up", "cosine"])
def test_a_scheduler_rebuilt_without_its_state_restarts_its_schedule(make):
    def run(optimizer, scheduler, steps=3):
        lrs = []
        for _ in range(steps):
            optimizer.step()
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
        return lrs

    optimizer = _optimizer()
    scheduler = make(optimizer)
    run(optimizer, scheduler, steps=10)
    checkpoint = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
    continued = run(optimizer, scheduler)

    def resume(with_scheduler_state):
        again = _optimizer()
        rebuilt = make(again)
        again.load_state_dict(checkpoint["optimizer"])
        if with_scheduler_state:
            rebuilt.load_state_dict(checkpoint["scheduler"])
        return run(again, rebuilt), rebuilt.last_epoch

    assert resume(with_scheduler_state=True) == (continued, 13)
    restarted, last_epoch = resume(with_scheduler_state=False)
    assert last_epoch == 3  # counted from zero again
    assert restarted != pytest.approx(continued)


def test_a_scheduler_keeps_driving_the_optimizer_it_was_built_on_after_the_variable_is_rebound():
    optimizer = _optimizer()
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    optimizer.step()
    scheduler.step()  # the first phase trained with it, so torch has nothing to warn about
    old, optimizer = optimizer, _optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            optimizer.step()
            scheduler.step()
    assert old.param_groups[0]["lr"] == pytest.approx(0.0125)
    assert optimizer.param_groups[0]["lr"] == 0.1


def test_a_scheduler_stepped_per_micro_batch_runs_accum_times_too_fast():
    accum, micro_batches = 4, 32
    optimizer = _optimizer()
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=micro_batches // accum)  # sized in updates
    updates, lrs = 0, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for step in range(micro_batches):
            if step % accum == 0:  # the guard that steps on the first micro-batch: torch is silent
                optimizer.step()
                updates += 1
            scheduler.step()
            lrs.append(optimizer.param_groups[0]["lr"])
    assert not caught
    assert (updates, scheduler.last_epoch) == (8, 32)
    assert lrs[7] == pytest.approx(0.0, abs=1e-12)  # at 0 after a quarter of the run, then climbs
    assert lrs[15] == pytest.approx(0.1)


def test_the_plus_one_accumulation_guard_gets_torch_step_order_warning_only():
    optimizer = _optimizer()
    scheduler = lr_scheduler.StepLR(optimizer, 100)
    with pytest.warns(UserWarning, match=r"lr_scheduler\.step\(\)` before `optimizer\.step\(\)"):
        for step in range(8):
            if (step + 1) % 4 == 0:
                optimizer.step()
            scheduler.step()


def test_a_cosine_sized_in_epochs_and_stepped_per_batch_oscillates():
    optimizer = _optimizer()
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=3)
    lrs = []
    for _ in range(8):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.075, 0.025, 0.0, 0.025, 0.075, 0.1, 0.075, 0.025], abs=1e-12)


def test_a_warm_up_sized_in_batches_and_stepped_per_epoch_barely_moves():
    optimizer = _optimizer()
    scheduler = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=1000)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0109)


def test_lightning_steps_configure_optimizers_schedulers_per_epoch_by_default():
    lightning_optimizer = pytest.importorskip("lightning.pytorch.core.optimizer")
    optimizer = _optimizer()
    config = lightning_optimizer._configure_schedulers_automatic_opt([lr_scheduler.LinearLR(optimizer, total_iters=1000)], None)
    assert (config[0].interval, config[0].frequency) == ("epoch", 1)
