"""DeepSpeed ZeRO on CPU, one real process (gloo): the ZeRO optimizers' flat partitions are mapped back to the
model's parameters with DeepSpeed's bookkeeping, the engine's `module.` is looked through, DeepSpeed's schedulers
are previewed as the engine steps them, and the HF Trainer's callback checks a ZeRO run without crashing.

The shared-memory collective (`deepspeed_shm_comm`) is turned off: one process never uses it, and building it
is a C++ compilation of minutes."""

from __future__ import annotations

import os
import socket

import pytest

os.environ.setdefault("DS_ACCELERATOR", "cpu")

import deepspeed  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import optlint  # noqa: E402

STAGES = (1, 2, 3)
STEPS = 12
LR = 5e-5


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x, labels=None):
        logits = self.head(torch.relu(self.body(x)))
        if labels is None:
            return logits
        return {"loss": nn.functional.cross_entropy(logits, labels), "logits": logits}


@pytest.fixture(scope="module", autouse=True)
def one_process_group():
    """The environment torch.distributed reads for a world of one, with a free port; torn down after,
    with the process-wide state the HF Trainer's DeepSpeed run leaves in accelerate and transformers
    (a later Accelerator would otherwise set itself up for DeepSpeed and look for MPI)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = dict(os.environ)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
    compatible = deepspeed.ops.__compatible_ops__
    shm = compatible.get("deepspeed_shm_comm")
    compatible["deepspeed_shm_comm"] = False
    yield
    compatible["deepspeed_shm_comm"] = shm
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    os.environ.clear()
    os.environ.update(saved)
    from accelerate.state import AcceleratorState, GradientState
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    unset_hf_deepspeed_config()


def engine_for(stage: int, scheduler: dict | None = None, parameters=None):
    torch.manual_seed(0)
    model = Net()
    config = {"train_batch_size": 2, "zero_optimization": {"stage": stage},
              "optimizer": {"type": "AdamW", "params": {"lr": LR, "torch_adam": True}}}
    if scheduler:
        config["scheduler"] = scheduler
    engine, *_ = deepspeed.initialize(model=model, config=config,
                                      model_parameters=(parameters or (lambda m: m.parameters()))(model))
    return engine


WARMUP_DECAY = {"type": "WarmupDecayLR", "params": {"warmup_max_lr": LR, "warmup_num_steps": 4, "total_num_steps": STEPS}}


@pytest.fixture(scope="module", params=STAGES, ids=[f"zero{stage}" for stage in STAGES])
def engine(request):
    return engine_for(request.param, WARMUP_DECAY)


def engine_lrs(engine, steps: int) -> list[float]:
    """The LR of the engine's one group before each of `steps` real training steps."""
    lrs = []
    for _ in range(steps):
        lrs.append(engine.optimizer.param_groups[0]["lr"])
        loss = engine(torch.randn(2, 4)).sum()
        engine.backward(loss)
        engine.step()
    return lrs


def test_zero_partitions_are_the_models_parameters(engine):
    report = optlint.check_setup(engine, engine.optimizer, engine.lr_scheduler, epochs=1, steps_per_epoch=STEPS)
    assert report.findings == [], str(report)
    [group] = report[0].groups
    assert group.label == "*"
    assert (group.tensors, group.elements) == (4, sum(p.ds_numel if hasattr(p, "ds_numel") else p.numel()
                                                      for p in engine.module.parameters()))
    assert report[0].optimizer_name == "AdamW"


def test_deepspeed_schedule_is_previewed_as_the_engine_steps_it(engine):
    report = optlint.check_setup(engine, engine.optimizer, engine.lr_scheduler, epochs=1, steps_per_epoch=STEPS)
    schedule = report[0].schedule
    assert schedule[0] == engine_lrs(engine, STEPS)  # a real run of the engine, after the check
    assert report[0].interval == "step"


@pytest.mark.parametrize("scheduler", [
    {"type": "WarmupLR", "params": {"warmup_num_steps": 5, "warmup_type": "linear"}},
    {"type": "WarmupCosineLR", "params": {"warmup_num_steps": 3, "total_num_steps": STEPS, "warmup_min_ratio": 0.1}},
], ids=lambda s: s["type"])
def test_every_deepspeed_scheduler_is_previewed_exactly(scheduler):
    engine = engine_for(2, scheduler)
    report = optlint.check_setup(engine, engine.optimizer, engine.lr_scheduler, epochs=1, steps_per_epoch=STEPS)
    assert report.findings == [], str(report)
    assert report[0].schedule[0] == engine_lrs(engine, STEPS)


def test_a_parameter_left_out_of_deepspeed_is_named_without_the_engine():
    engine = engine_for(2, parameters=lambda m: m.head.parameters())
    report = optlint.check_setup(engine, engine.optimizer)
    [finding] = report.findings
    assert finding.code == "OPT101"
    assert "`body.*` (2 tensors)" in finding.message and "module." not in finding.message
    assert finding.hint


def test_warmup_max_lr_overriding_the_configs_lr_is_noted():
    """DeepSpeed#7303: WarmupDecayLR's default warmup_max_lr (0.001) wins over the optimizer's lr."""
    engine = engine_for(1, {"type": "WarmupDecayLR", "params": {"warmup_num_steps": 2, "total_num_steps": STEPS}})
    report = optlint.check_setup(engine, engine.optimizer, engine.lr_scheduler, epochs=1, steps_per_epoch=STEPS)
    [note] = [n for n in report[0].notes if "DeepSpeed#7303" in n]
    assert "warmup_max_lr (0.001), not to the optimizer's lr=5e-05" in note
    assert max(report[0].schedule[0]) == pytest.approx(0.001)


def test_warmup_max_lr_equal_to_the_configs_lr_has_no_note(engine):
    report = optlint.check_setup(engine, engine.optimizer, engine.lr_scheduler, epochs=1, steps_per_epoch=STEPS)
    assert not any("DeepSpeed#7303" in n for n in report[0].notes)


class Samples(torch.utils.data.Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        return {"x": torch.randn(4), "labels": torch.tensor(i % 2)}


@pytest.mark.parametrize("stage", STAGES)
def test_hf_trainer_with_zero_is_checked_and_trains(stage, tmp_path):
    transformers = pytest.importorskip("transformers")
    from optlint.integrations.transformers import OptlintCallback

    class RecordLRs(transformers.TrainerCallback):
        lrs: list[float] = []

        def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
            self.lrs.append(optimizer.param_groups[0]["lr"])

    ds_config = {"train_micro_batch_size_per_gpu": "auto", "train_batch_size": "auto",
                 "gradient_accumulation_steps": "auto", "zero_optimization": {"stage": stage}}
    args = transformers.TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2,
                                          learning_rate=1e-3, warmup_steps=2, lr_scheduler_type="cosine",
                                          deepspeed=ds_config, report_to=[], save_strategy="no", use_cpu=True,
                                          disable_tqdm=True)
    check, record = OptlintCallback(strict=True), RecordLRs()
    transformers.Trainer(model=Net(), args=args, train_dataset=Samples(), callbacks=[check, record]).train()
    [part] = check.reports
    assert part.findings == [], str(part)
    assert sum(group.tensors for group in part.groups) == 4
    assert [lr for group in part.schedule[:1] for lr in group] == record.lrs


def test_a_deepspeed_optimizer_optlint_cannot_read_warns_and_training_goes_on():
    """DeepSpeed's bookkeeping renamed (a later release): the callback warns, it never stops the training."""
    from optlint.integrations.common import SetupCheck
    from optlint.runtime.simulate import Plan

    engine = engine_for(2)
    del engine.optimizer.bit16_groups
    with pytest.warns(optlint.OptimizerSetupWarning, match="optlint could not check this optimizer set-up"):
        report = SetupCheck().check(engine, [engine.optimizer], [None], [Plan(1, 1)])
    assert report == [] and report.ok


def test_check_setup_on_an_unreadable_deepspeed_optimizer_says_why():
    engine = engine_for(2)
    del engine.optimizer.bit16_groups
    with pytest.raises(TypeError, match="cannot map its partitions back to the model's parameters"):
        optlint.check_setup(engine, engine.optimizer)
