"""HF Trainer + LoRA (peft): the Trainer's own no-decay group is empty (LoRA adapters have no biases or
norms); that is not the user's mistake, so no OPT105, and `strict=True` lets the correct training run. An
empty group the user adds is still OPT105, without blaming a module it cannot name."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")
peft = pytest.importorskip("peft", reason="the `peft` extra is not installed")

import optlint  # noqa: E402
from optlint.integrations.transformers import OptlintCallback  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning", "ignore::DeprecationWarning")


def lora_bert():
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=32, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=16, max_position_embeddings=16, num_labels=2)
    model = transformers.BertForSequenceClassification(config)
    return peft.get_peft_model(model, peft.LoraConfig(r=2, target_modules=["query", "value"]))


class Sentences(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        generator = torch.Generator().manual_seed(i)
        return {"input_ids": torch.randint(0, 32, (6,), generator=generator), "labels": torch.tensor(i % 2)}


class RecordLRs(transformers.TrainerCallback):
    def __init__(self):
        self.lrs = []

    def on_pre_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append([group["lr"] for group in optimizer.param_groups])


def train(tmp_path, check, optimizers=(None, None)):
    args = transformers.TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2,
                                          report_to=[], save_strategy="no", logging_strategy="no", use_cpu=True,
                                          disable_tqdm=True, learning_rate=1e-3, weight_decay=0.01)
    record = RecordLRs()
    transformers.Trainer(model=lora_bert(), args=args, train_dataset=Sentences(), callbacks=[check, record],
                         optimizers=optimizers).train()
    return record


def test_the_trainers_empty_no_decay_group_is_no_finding_and_strict_trains(tmp_path):
    check = OptlintCallback(strict=True)
    record = train(tmp_path, check)
    (report,) = check.reports
    assert report.findings == [] and len(record.lrs) == 4
    assert any("the Trainer's no-decay group" in note for note in report.notes)
    assert [list(lrs) for lrs in zip(*report.schedule)] == record.lrs


def test_an_empty_group_the_user_built_is_still_found(tmp_path):
    model = lora_bert()
    trainable = [p for p in model.parameters() if p.requires_grad]
    dropout_group = [p for m in model.modules() if isinstance(m, torch.nn.Dropout) for p in m.parameters()]
    optimizer = torch.optim.AdamW([{"params": trainable}, {"params": dropout_group, "weight_decay": 0.0}], lr=1e-3)
    report = optlint.check_setup(model, optimizer)
    (finding,) = report.findings
    assert finding.code == "OPT105" and "group 1 holds no tensors" in finding.message
    assert "probably" not in finding.message
