"""OptlintCallback in a real Lightning Trainer (CPU, a tiny model): the preview equals the learning rates
the fit really uses, for each scheduler config's interval and frequency, with gradient accumulation
and max_steps; a broken set-up stops the fit before its first step."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

L = pytest.importorskip("lightning.pytorch", reason="the `lightning` extra is not installed")

import optlint  # noqa: E402
from optlint.integrations.lightning import OptlintCallback  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning")
BATCHES = 5  # batches per epoch: 20 samples, batch size 4


class Regressor(L.LightningModule):
    """An encoder and a head; `schedule(optimizer)` returns what configure_optimizers adds to the optimizer."""

    def __init__(self, schedule=None, params=None):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.head = nn.Linear(8, 1)
        self.schedule, self.params = schedule, params

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.mse_loss(self.head(self.encoder(x)), y)

    def configure_optimizers(self):
        params = self.params(self) if self.params else self.parameters()
        optimizer = torch.optim.SGD(params, lr=0.1)
        if self.schedule is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": self.schedule(optimizer, self.trainer)}


class RecordLRs(L.Callback):
    """Ground truth: every group's LR at each real optimizer step."""

    def __init__(self):
        self.lrs: list[list[float]] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        self.lrs.append([group["lr"] for group in optimizer.param_groups])


class Stream(torch.utils.data.IterableDataset):
    """Streaming data: no length, so Lightning knows max_steps but not the epochs."""

    def __iter__(self):
        while True:
            yield torch.randn(4), torch.randn(1)


def fit(model, *callbacks, data=None, **trainer_options):
    options = dict(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                   enable_model_summary=False, accelerator="cpu", devices=1)
    trainer = L.Trainer(callbacks=list(callbacks), **{**options, **trainer_options})
    data = data or torch.utils.data.TensorDataset(torch.randn(4 * BATCHES, 4), torch.randn(4 * BATCHES, 1))
    trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=4))
    return trainer


SCHEDULES = {
    "onecycle-per-step": (lambda opt, trainer: {"scheduler": lr_scheduler.OneCycleLR(
        opt, max_lr=0.5, total_steps=trainer.estimated_stepping_batches), "interval": "step"}, {}),
    "steplr-every-2-epochs": (lambda opt, trainer: {"scheduler": lr_scheduler.StepLR(opt, 1, gamma=0.5),
                                                    "frequency": 2}, {"max_epochs": 5}),
    "exponential-every-2-batches-accumulating-2": (lambda opt, trainer: {
        "scheduler": lr_scheduler.ExponentialLR(opt, 0.9), "interval": "step", "frequency": 2},
        {"accumulate_grad_batches": 2}),
    "cosine-per-epoch-stopped-by-max-steps": (lambda opt, trainer: lr_scheduler.CosineAnnealingLR(opt, T_max=4),
                                              {"max_epochs": 4, "max_steps": 12}),
    "no-scheduler": (None, {}),
}


@pytest.mark.parametrize(("schedule", "options"), SCHEDULES.values(), ids=SCHEDULES.keys())
def test_the_preview_is_the_schedule_the_fit_runs(schedule, options):
    check, record = OptlintCallback(), RecordLRs()
    fit(Regressor(schedule), check, record, **options)
    (report,) = check.reports
    assert report.findings == []
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs


@pytest.mark.parametrize("accumulate", [1, 2])
def test_streaming_data_previews_a_per_step_schedule_over_max_steps(accumulate):
    def warmup_then_cosine(opt, trainer):
        return {"scheduler": lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=trainer.max_steps),
                "interval": "step"}

    check, record = OptlintCallback(), RecordLRs()
    fit(Regressor(warmup_then_cosine), check, record, data=Stream(), max_steps=7, max_epochs=-1,
        accumulate_grad_batches=accumulate)
    (report,) = check.reports
    assert report.scheduler_name == "OneCycleLR" and len(record.lrs) == 7
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs


def test_streaming_data_does_not_preview_a_per_epoch_schedule():
    check = OptlintCallback()
    fit(Regressor(lambda opt, trainer: lr_scheduler.StepLR(opt, 1)), check, data=Stream(), max_steps=3,
        max_epochs=-1)
    (report,) = check.reports
    assert report.scheduler_name is None and report.findings == []
    assert any("StepLR steps at each epoch's end, and the epochs have no known length" in n for n in report.notes)


def test_a_parameter_left_out_stops_the_fit_before_its_first_step():
    record = RecordLRs()
    with pytest.raises(optlint.OptimizerSetupError, match=r"OPT101 .* `head\.\*` \(2 tensors\)"):
        fit(Regressor(params=lambda model: model.encoder.parameters()), OptlintCallback(), record)
    assert record.lrs == []


def test_a_onecycle_shorter_than_the_run_fails_at_fit_start_not_at_its_last_steps():
    def too_short(opt, trainer):  # sized for 2 steps an epoch; the loader gives 5
        return {"scheduler": lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=trainer.max_epochs * 2),
                "interval": "step"}

    record = RecordLRs()
    with pytest.raises(optlint.OptimizerSetupError, match=r"OPT116 .*Tried to step"):
        fit(Regressor(too_short), OptlintCallback(), record)
    assert record.lrs == []


def test_warn_mode_warns_of_a_scheduler_that_would_raise_and_beside_it_the_missing_head():
    def too_short(opt, trainer):
        return {"scheduler": lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=2), "interval": "step"}

    with pytest.warns(optlint.OptimizerSetupWarning, match=r"(?s)OPT101 .*OPT116 "):
        with pytest.raises(ValueError, match="Tried to step"):  # the warned-of crash, from Lightning's own loop
            fit(Regressor(too_short, params=lambda model: model.encoder.parameters()),
                OptlintCallback(on_error="warn"), max_epochs=1)


def test_warn_mode_warns_and_trains():
    record = RecordLRs()
    with pytest.warns(optlint.OptimizerSetupWarning, match="OPT101"):
        fit(Regressor(params=lambda model: model.encoder.parameters()), OptlintCallback(on_error="warn"), record,
            max_epochs=1)
    assert len(record.lrs) == BATCHES


def test_a_module_whose_configure_optimizers_returns_none_trains_unchecked():
    """Lightning then steps a stand-in optimizer with no param groups: there is no set-up to check."""
    class NoOptimizer(Regressor):
        def configure_optimizers(self):
            return None

    check = OptlintCallback()
    trainer = fit(NoOptimizer(), check, max_epochs=1)
    assert check.reports == [] and trainer.global_step == BATCHES


class Gan(L.LightningModule):
    """Two optimizers in manual optimization, each for its own part of the model."""

    def __init__(self, discriminator_params=None):
        super().__init__()
        self.automatic_optimization = False
        self.generator = nn.Linear(4, 4)
        self.discriminator = nn.Linear(4, 1)
        self.discriminator_params = discriminator_params

    def training_step(self, batch, batch_idx):
        g_opt, d_opt = self.optimizers()
        x, _ = batch
        for opt, loss in ((d_opt, lambda: self.discriminator(x).mean()),
                          (g_opt, lambda: -self.discriminator(self.generator(x)).mean())):
            opt.zero_grad()
            self.manual_backward(loss())
            opt.step()

    def configure_optimizers(self):
        d_params = (self.discriminator_params or (lambda: self.discriminator.parameters()))()
        return [torch.optim.Adam(self.generator.parameters()), torch.optim.Adam(d_params)]


def test_each_optimizer_of_a_gan_trains_its_part_and_none_is_missing_the_other():
    check = OptlintCallback()
    fit(Gan(), check, max_epochs=1)
    assert [r.findings for r in check.reports] == [[], []]
    assert "optimizer 1 of the 2 from configure_optimizers" in check.reports[1].notes


def test_a_parameter_no_optimizer_of_a_gan_holds_is_found():
    model = Gan()
    model.discriminator_params = lambda: [model.discriminator.weight]
    with pytest.raises(optlint.OptimizerSetupError, match=r"OPT101 .*discriminator\.bias"):
        fit(model, OptlintCallback(), max_epochs=1)


def test_a_parameter_both_optimizers_of_a_gan_hold_is_found():
    model = Gan()
    model.discriminator_params = lambda: [*model.discriminator.parameters(), model.generator.bias]
    with pytest.raises(optlint.OptimizerSetupError,
                       match=r"OPT102 .*generator\.bias` is held by optimizer 0 \(`Adam`\) and optimizer 1 \(`Adam`\)"):
        fit(model, OptlintCallback(), max_epochs=1)


def test_an_unknown_on_error_is_refused():
    with pytest.raises(ValueError, match="on_error must be one of raise, warn"):
        OptlintCallback(on_error="ignore")


def test_the_callback_works_in_a_pytorch_lightning_trainer_too():
    pytorch_lightning = pytest.importorskip("pytorch_lightning")

    class Plain(pytorch_lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.body, self.head = nn.Linear(4, 4), nn.Linear(4, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.mse_loss(self.head(self.body(x)), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.body.parameters(), lr=0.1)

    trainer = pytorch_lightning.Trainer(max_epochs=1, callbacks=[OptlintCallback()], logger=False,
                                        enable_checkpointing=False, enable_progress_bar=False,
                                        enable_model_summary=False, accelerator="cpu", devices=1)
    data = torch.utils.data.TensorDataset(torch.randn(8, 4), torch.randn(8, 1))
    with pytest.raises(optlint.OptimizerSetupError, match=r"`head\.\*` \(2 tensors\)"):
        trainer.fit(Plain(), torch.utils.data.DataLoader(data, batch_size=4))
