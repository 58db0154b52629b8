"""The framework facts behind `optlint.static.semantic.frameworks`, proved on the installed packages:
Lightning 2.6 (how `configure_optimizers`'s schedulers are stepped), pytorch-ignite 0.5 (where event
handlers run relative to the update's optimizer step), accelerate 1.x (`prepare` keeps each object's
kind) and transformers' `Trainer(optimizers=(opt, sched))` (stepped once per training step)."""

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.optim import lr_scheduler  # noqa: E402

from optlint.static.semantic.frameworks import LIGHTNING_DEFAULT_FREQUENCY, LIGHTNING_DEFAULT_INTERVAL  # noqa: E402

STEP_ORDER_WARNING = "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
EPOCHS, BATCHES = 3, 4


def _loader():
    data = torch.utils.data.TensorDataset(torch.randn(BATCHES * 2, 2), torch.randn(BATCHES * 2, 1))
    return torch.utils.data.DataLoader(data, batch_size=2)


# -- Lightning ---------------------------------------------------------------------------------------
def _trainer(**options):
    lightning = pytest.importorskip("lightning")
    return lightning.Trainer(max_epochs=EPOCHS, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, accelerator="cpu", **options)


def _sgd(module):
    return torch.optim.SGD(module.parameters(), lr=0.1)


def _fitted_scheduler(build, config, **trainer_options):
    """The scheduler `build(optimizer)` after a fit whose `configure_optimizers` returns
    `config(optimizer, scheduler)`, and the warnings the fit gave."""
    lightning = pytest.importorskip("lightning")
    built = []

    class Module(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            loss = nn.functional.mse_loss(self.net(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            optimizer = _sgd(self)
            built.append(build(optimizer))
            return config(optimizer, built[0])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _trainer(**trainer_options).fit(Module(), _loader())
    return built[0], [str(w.message) for w in caught]


def _step_lr(optimizer):
    return lr_scheduler.StepLR(optimizer, 10)


@pytest.mark.parametrize("config", [
    lambda opt, sched: ([opt], [sched]),
    lambda opt, sched: {"optimizer": opt, "lr_scheduler": sched},
    lambda opt, sched: {"optimizer": opt, "lr_scheduler": {"scheduler": sched}},
    lambda opt, sched: ({"optimizer": opt, "lr_scheduler": sched},),
], ids=["two lists", "dict", "scheduler dict", "tuple of dicts"])
def test_lightning_steps_a_returned_scheduler_once_per_epoch_by_default(config):
    scheduler, _ = _fitted_scheduler(_step_lr, config)
    assert LIGHTNING_DEFAULT_INTERVAL == "epoch" and LIGHTNING_DEFAULT_FREQUENCY == 1
    assert scheduler.last_epoch == EPOCHS


@pytest.mark.parametrize("frequency, accumulate", [(2, 1), (1, 2)])
def test_lightning_steps_an_interval_step_scheduler_per_optimizer_step_and_frequency(frequency, accumulate):
    scheduler, _ = _fitted_scheduler(_step_lr, lambda opt, sched: {
        "optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": frequency}},
        accumulate_grad_batches=accumulate)
    assert scheduler.last_epoch == EPOCHS * BATCHES // 2


def test_lightning_leaves_a_onecycle_at_the_default_interval_in_warm_up():
    scheduler, messages = _fitted_scheduler(
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=EPOCHS * BATCHES),
        lambda opt, sched: ([opt], [sched]))
    assert scheduler.last_epoch == EPOCHS  # 3 of 12 steps: the cycle never leaves its warm-up
    assert scheduler.get_last_lr()[0] < 0.1
    # Lightning warns only for the dict form (the list form builds its config without the check).
    assert not any("OneCycleLR" in m for m in messages)


@pytest.mark.parametrize("config", [
    lambda opt, plateau: ([opt], [plateau]),
    lambda opt, plateau: {"optimizer": opt, "lr_scheduler": plateau},
    lambda opt, plateau: {"optimizer": opt, "lr_scheduler": {"scheduler": plateau, "interval": "epoch"}},
    # A top-level monitor is read only for a bare scheduler of one dict: a scheduler dict needs its own.
    lambda opt, plateau: {"optimizer": opt, "lr_scheduler": {"scheduler": plateau}, "monitor": "train_loss"},
    lambda opt, plateau: ({"optimizer": opt, "lr_scheduler": plateau, "monitor": "train_loss"},),
], ids=["two lists", "dict", "scheduler dict", "top-level monitor beside a scheduler dict", "tuple of dicts"])
def test_lightning_refuses_a_plateau_returned_without_a_monitor(config):
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    with pytest.raises(MisconfigurationException, match="must include a monitor"):
        _fitted_scheduler(lr_scheduler.ReduceLROnPlateau, config)


@pytest.mark.parametrize("config", [
    lambda opt, plateau: {"optimizer": opt, "lr_scheduler": plateau, "monitor": "train_loss"},
    lambda opt, plateau: {"optimizer": opt, "lr_scheduler": {"scheduler": plateau, "monitor": "train_loss"}},
], ids=["top-level monitor", "scheduler dict monitor"])
def test_lightning_steps_a_plateau_with_a_monitor_on_that_metric(config):
    scheduler, _ = _fitted_scheduler(lr_scheduler.ReduceLROnPlateau, config)
    assert scheduler.last_epoch == EPOCHS


def test_lightning_manual_optimization_accepts_a_plateau_without_a_monitor():
    lightning = pytest.importorskip("lightning")
    stepped = []

    class Manual(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False
            self.net = nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            opt, sched = self.optimizers(), self.lr_schedulers()
            loss = nn.functional.mse_loss(self.net(batch[0]), batch[1])
            opt.zero_grad()
            self.manual_backward(loss)
            opt.step()
            if self.trainer.is_last_batch:
                sched.step(loss.detach())
                stepped.append(sched.last_epoch)

        def configure_optimizers(self):
            optimizer = _sgd(self)
            return [optimizer], [lr_scheduler.ReduceLROnPlateau(optimizer)]

    _trainer().fit(Manual(), _loader())
    assert stepped == [1, 2, 3]  # stepped by the user only: Lightning does not step it as well


def test_lightning_hands_each_scheduler_step_to_lr_scheduler_step_hook():
    lightning = pytest.importorskip("lightning")
    calls = []

    class Hooked(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            return nn.functional.mse_loss(self.net(batch[0]), batch[1])

        def configure_optimizers(self):
            optimizer = _sgd(self)
            return [optimizer], [_step_lr(optimizer)]

        def lr_scheduler_step(self, scheduler, metric):
            calls.append(metric)
            scheduler.step()

    _trainer().fit(Hooked(), _loader())
    assert calls == [None] * EPOCHS  # once per epoch (the interval), after the epoch's optimizer steps


# -- ignite ------------------------------------------------------------------------------------------
def _ignite_run(event, filtered=None):
    """A trainer whose scheduler steps in a handler on `event` (`event(**filtered)` when given)."""
    engine_module = pytest.importorskip("ignite.engine")
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, 1, gamma=0.5)
    order = []

    def update(engine, batch):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(batch[0]), batch[1]).backward()
        optimizer.step()
        order.append("optimizer")

    trainer = engine_module.Engine(update)
    when = getattr(engine_module.Events, event)

    @trainer.on(when(**filtered) if filtered else when)
    def step_scheduler(engine):
        scheduler.step()
        order.append("scheduler")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.run(list(_loader()), max_epochs=2)
    return order, [str(w.message) for w in caught]


@pytest.mark.parametrize("event", ["EPOCH_STARTED", "ITERATION_STARTED"])
def test_ignite_runs_started_handlers_before_the_update_steps_the_optimizer(event):
    order, messages = _ignite_run(event)
    assert order[0] == "scheduler"
    assert any(STEP_ORDER_WARNING in m for m in messages)


@pytest.mark.parametrize("event", ["EPOCH_COMPLETED", "ITERATION_COMPLETED"])
def test_ignite_runs_completed_handlers_after_the_update(event):
    order, messages = _ignite_run(event)
    assert order[0] == "optimizer"
    assert not any(STEP_ORDER_WARNING in m for m in messages)


@pytest.mark.parametrize("filtered", [{"every": 2}, {"once": 2}])
def test_an_ignite_filter_past_the_first_epoch_runs_after_an_update(filtered):
    order, messages = _ignite_run("EPOCH_STARTED", filtered)
    assert order.index("scheduler") == BATCHES
    assert not any(STEP_ORDER_WARNING in m for m in messages)


def test_an_ignite_filter_of_every_one_runs_on_the_first_epoch():
    order, _ = _ignite_run("EPOCH_STARTED", {"every": 1})
    assert order[0] == "scheduler"


def test_ignites_create_supervised_trainer_steps_the_optimizer_each_iteration():
    engine_module = pytest.importorskip("ignite.engine")
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = []
    optimizer.register_step_post_hook(lambda *_: steps.append(1))
    trainer = engine_module.create_supervised_trainer(model, optimizer, nn.functional.mse_loss)
    trainer.run(list(_loader()), max_epochs=2)
    assert len(steps) == trainer.state.iteration == 2 * BATCHES


# -- accelerate --------------------------------------------------------------------------------------
def test_accelerate_prepare_returns_each_object_as_its_own_kind_wrapping_the_same_schedule():
    accelerate = pytest.importorskip("accelerate")
    from accelerate.optimizer import AcceleratedOptimizer
    from accelerate.scheduler import AcceleratedScheduler

    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=8)
    accelerator = accelerate.Accelerator(cpu=True, gradient_accumulation_steps=2)
    model, prepared_optimizer, loader, prepared_scheduler = accelerator.prepare(model, optimizer, _loader(), scheduler)
    assert isinstance(prepared_optimizer, AcceleratedOptimizer) and prepared_optimizer.optimizer is optimizer
    assert isinstance(prepared_scheduler, AcceleratedScheduler) and prepared_scheduler.scheduler is scheduler
    for x, y in loader:
        with accelerator.accumulate(model):
            accelerator.backward(nn.functional.mse_loss(model(x), y))
            prepared_optimizer.step()
            prepared_scheduler.step()  # skipped while gradients accumulate
            prepared_optimizer.zero_grad()
    assert scheduler.last_epoch == BATCHES // 2


# -- transformers Trainer ----------------------------------------------------------------------------
def test_hf_trainer_steps_a_given_scheduler_once_per_training_step(tmp_path):
    transformers = pytest.importorskip("transformers")

    class Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 1)

        def forward(self, x, labels):
            return {"loss": nn.functional.mse_loss(self.net(x), labels)}

    model = Regressor()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = lr_scheduler.StepLR(optimizer, 100)
    rows = [{"x": torch.randn(2), "labels": torch.randn(1)} for _ in range(BATCHES * 2)]
    arguments = transformers.TrainingArguments(str(tmp_path), per_device_train_batch_size=2, num_train_epochs=EPOCHS,
                                               report_to=[], save_strategy="no", use_cpu=True, logging_strategy="no")
    trainer = transformers.Trainer(model=model, args=arguments, train_dataset=rows, optimizers=(optimizer, scheduler))
    trainer.train()
    assert scheduler.last_epoch == EPOCHS * BATCHES
