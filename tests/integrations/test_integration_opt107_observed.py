"""OPT107 in the training callbacks: they watch the framework build the scheduler (configure_optimizers,
create_scheduler), so a OneCycleLR with one `max_lr` over groups with their own LRs is a finding, and one
peak per group is clean, with the preview equal to the LRs of the real run."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler

import optlint

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning", "ignore::FutureWarning")
BACKBONE_LR, HEAD_LR = 1e-4, 1e-2


def two_groups(backbone, head):
    return [{"params": backbone.parameters(), "lr": BACKBONE_LR}, {"params": head.parameters(), "lr": HEAD_LR}]


# --- Lightning ---------------------------------------------------------------------------------------------

def lightning_fit(max_lr, **options):
    L = pytest.importorskip("lightning.pytorch", reason="the `lightning` extra is not installed")
    from optlint.integrations.lightning import OptlintCallback

    class FineTune(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = nn.Linear(4, 8), nn.Linear(8, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.mse_loss(self.head(self.backbone(x)), y)

        def configure_optimizers(self):
            optimizer = torch.optim.AdamW(two_groups(self.backbone, self.head))
            scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=self.trainer.estimated_stepping_batches)
            return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    class RecordLRs(L.Callback):
        lrs: list = []

        def on_before_optimizer_step(self, trainer, pl_module, optimizer):
            self.lrs.append([group["lr"] for group in optimizer.param_groups])

    check, record = OptlintCallback(**options), RecordLRs()
    record.lrs = []
    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", devices=1, callbacks=[check, record])
    data = torch.utils.data.TensorDataset(torch.randn(12, 4), torch.randn(12, 1))
    trainer.fit(FineTune(), torch.utils.data.DataLoader(data, batch_size=4))
    return check, record


def test_lightning_one_max_lr_over_two_group_lrs_is_found():
    check, _ = lightning_fit(max_lr=1e-2)
    (finding,) = check.reports[0].findings
    assert finding.code == "OPT107"
    assert "had learning rates 0.0001, 0.01 before `OneCycleLR` was built" in finding.message
    assert "max_lr=[0.0001, 0.01]" in finding.hint


def test_lightning_strict_stops_the_fit_on_it():
    with pytest.raises(optlint.OptimizerSetupError, match="OPT107"):
        lightning_fit(max_lr=1e-2, strict=True)


def test_lightning_one_peak_per_group_is_clean_and_previewed_exactly():
    check, record = lightning_fit(max_lr=[BACKBONE_LR, HEAD_LR])
    (report,) = check.reports
    assert report.findings == [] and not any("pass a factory" in note for note in report.notes)
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs


# --- Hugging Face Trainer ----------------------------------------------------------------------------------

def hf_train(tmp_path, max_lr):
    transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")
    from optlint.integrations.transformers import OptlintCallback

    class Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone, self.head = nn.Linear(4, 8), nn.Linear(8, 1)

        def forward(self, x, labels):
            return {"loss": nn.functional.mse_loss(self.head(self.backbone(x)).squeeze(-1), labels)}

    class OneCycleTrainer(transformers.Trainer):
        def create_optimizer(self, model=None):
            self.optimizer = torch.optim.AdamW(two_groups(self.model.backbone, self.model.head))
            return self.optimizer

        def create_scheduler(self, num_training_steps, optimizer=None):
            self.lr_scheduler = lr_scheduler.OneCycleLR(optimizer or self.optimizer, max_lr=max_lr,
                                                        total_steps=num_training_steps)
            return self.lr_scheduler

    class RecordLRs(transformers.TrainerCallback):
        def __init__(self):
            self.lrs = []

        def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
            self.lrs.append([group["lr"] for group in optimizer.param_groups])

    rows = [{"x": torch.randn(4), "labels": torch.randn(())} for _ in range(12)]
    args = transformers.TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2,
                                          report_to=[], save_strategy="no", logging_strategy="no", use_cpu=True,
                                          disable_tqdm=True)
    check, record = OptlintCallback(), RecordLRs()
    OneCycleTrainer(model=Regressor(), args=args, train_dataset=rows, callbacks=[check, record]).train()
    return check, record


def test_hf_one_max_lr_over_two_group_lrs_is_found(tmp_path):
    check, _ = hf_train(tmp_path, max_lr=1e-2)
    (finding,) = check.reports[0].findings
    assert finding.code == "OPT107" and "had learning rates 0.0001, 0.01" in finding.message


def test_hf_one_peak_per_group_is_clean_and_previewed_exactly(tmp_path):
    check, record = hf_train(tmp_path, max_lr=[BACKBONE_LR, HEAD_LR])
    (report,) = check.reports
    assert report.findings == []
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs
