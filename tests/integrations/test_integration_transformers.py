"""OptlintCallback in a real Hugging Face Trainer (CPU, a tiny BERT built from its config): the preview
covers the real number of steps and equals the learning rates the run uses; a broken set-up stops
training before its first step."""

from __future__ import annotations

import pytest
import torch
from torch.optim import lr_scheduler

transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")

import optlint  # noqa: E402
from optlint.integrations.transformers import OptlintCallback  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")
SAMPLES = 20


def tiny_bert():
    config = transformers.BertConfig(vocab_size=32, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=16, num_labels=2)
    return transformers.BertForSequenceClassification(config)


class Sentences(torch.utils.data.Dataset):
    def __len__(self):
        return SAMPLES

    def __getitem__(self, i):
        generator = torch.Generator().manual_seed(i)
        return {"input_ids": torch.randint(0, 32, (6,), generator=generator), "labels": torch.tensor(i % 2)}


class RecordLRs(transformers.TrainerCallback):
    """Ground truth: every group's LR at each real optimizer step."""

    def __init__(self):
        self.lrs: list[list[float]] = []

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append([group["lr"] for group in optimizer.param_groups])


def train(tmp_path, *callbacks, model=None, optimizers=(None, None), eval_dataset=None, compute_metrics=None,
          **arguments):
    options = dict(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2, report_to=[],
                   save_strategy="no", logging_strategy="no", use_cpu=True, disable_tqdm=True,
                   learning_rate=1e-3, warmup_steps=2, lr_scheduler_type="cosine")
    args = transformers.TrainingArguments(**{**options, **arguments})
    trainer = transformers.Trainer(model=model or tiny_bert(), args=args, train_dataset=Sentences(),
                                   eval_dataset=eval_dataset, compute_metrics=compute_metrics,
                                   callbacks=list(callbacks), optimizers=optimizers)
    trainer.train()
    return trainer


RUNS = {
    "cosine-with-warmup": {},
    "linear-accumulating-2": {"lr_scheduler_type": "linear", "gradient_accumulation_steps": 2},
    "max-steps-beyond-one-epoch": {"max_steps": 7, "lr_scheduler_type": "cosine_with_restarts"},
}


@pytest.mark.parametrize("arguments", RUNS.values(), ids=RUNS.keys())
def test_the_preview_is_the_schedule_the_trainer_runs(tmp_path, arguments):
    check, record = OptlintCallback(), RecordLRs()
    trainer = train(tmp_path, check, record, **arguments)
    (report,) = check.reports
    assert report.findings == []
    assert len(report.schedule[0]) == trainer.state.max_steps == len(record.lrs)
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs
    assert report.groups[0].names[0].startswith("bert.embeddings.")  # the model's own names


def test_a_plateau_evaluated_every_2_steps_is_previewed_at_the_trainers_evaluations(tmp_path):
    """5 steps an epoch, an evaluation every 2 optimizer steps of the run (global_step), a metric that never
    improves (what the preview assumes): the LR halves after steps 2, 4, 6 and 8, across the epoch's end."""
    check, record = OptlintCallback(), RecordLRs()
    train(tmp_path, check, record, lr_scheduler_type="reduce_lr_on_plateau", eval_strategy="steps", eval_steps=2,
          lr_scheduler_kwargs={"patience": 0, "factor": 0.5}, metric_for_best_model="worst", warmup_steps=0,
          eval_dataset=Sentences(), compute_metrics=lambda prediction: {"worst": float("inf")})
    (report,) = check.reports
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs
    assert [lrs[0] for lrs in record.lrs] == [1e-3] * 2 + [5e-4] * 2 + [2.5e-4] * 2 + [1.25e-4] * 2 + [6.25e-5] * 2


def test_a_head_left_out_of_the_users_optimizer_stops_training_before_its_first_step(tmp_path):
    model, record = tiny_bert(), RecordLRs()
    optimizer = torch.optim.AdamW(model.bert.parameters(), lr=1e-3)
    with pytest.raises(optlint.OptimizerSetupError, match=r"OPT101 .* `classifier\.\*` \(2 tensors\)"):
        train(tmp_path, OptlintCallback(), record, model=model, optimizers=(optimizer, None))
    assert record.lrs == []


def test_a_users_onecycle_shorter_than_max_steps_fails_at_train_begin(tmp_path):
    model, record = tiny_bert(), RecordLRs()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    too_short = lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=5)  # the run takes 10 steps
    with pytest.raises(optlint.OptimizerSetupError, match=r"OPT116 .*Tried to step"):
        train(tmp_path, OptlintCallback(), record, model=model, optimizers=(optimizer, too_short))
    assert record.lrs == []


def test_warn_mode_warns_and_trains(tmp_path):
    model, record = tiny_bert(), RecordLRs()
    optimizer = torch.optim.AdamW(model.bert.parameters(), lr=1e-3)
    with pytest.warns(optlint.OptimizerSetupWarning, match="OPT101"):
        train(tmp_path, OptlintCallback(on_error="warn"), record, model=model, optimizers=(optimizer, None),
              num_train_epochs=1)
    assert len(record.lrs) == SAMPLES // 4
