"""A Hugging Face `TrainerCallback` that checks the Trainer's optimizer and LR scheduler when training begins.

    from optlint.integrations.transformers import OptlintCallback
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[OptlintCallback()])

The preview covers the run's real length (`state.max_steps` optimizer steps) with the scheduler stepped
after every optimizer step, as the Trainer steps it (a ReduceLROnPlateau after each evaluation). Needs
`transformers`.
"""

from __future__ import annotations

import dataclasses
import math

from torch.optim import lr_scheduler
from transformers import TrainerCallback

from optlint.integrations.common import SetupCheck
from optlint.runtime.observe import Recorder
from optlint.runtime.simulate import Plan
from optlint.runtime.unwrap import unwrap_optimizer, unwrap_scheduler


class OptlintCallback(SetupCheck, TrainerCallback):
    """Runs optlint's runtime check on the Trainer's optimizer and scheduler at `on_train_begin`.

    Keyword options as `SetupCheck`: on_error="raise" | "warn", strict, select, ignore.
    From the Trainer's `on_init_end` to `on_train_begin` (while `create_scheduler` runs) it records the group
    LRs before each scheduler is built, which OneCycleLR and CyclicLR overwrite (OPT107).
    """

    _recorder: Recorder | None = None

    _trainer_builds_optimizer = False

    def on_init_end(self, args, state, control, optimizer=None, **kwargs):
        self._recorder = Recorder().start()
        self._trainer_builds_optimizer = optimizer is None

    def on_train_begin(self, args, state, control, model=None, optimizer=None, lr_scheduler=None, **kwargs):
        self.reports = []
        recorder, self._recorder = self._recorder, None
        lrs_before = recorder.stop() if recorder else {}
        if model is None or optimizer is None:  # built later by the backend (DeepSpeed): nothing to check yet
            return
        built_empty = [trainer_empty_groups(args, optimizer)] if self._trainer_builds_optimizer else []
        self.check(model, [optimizer], [lr_scheduler], [trainer_plan(args, state, lr_scheduler)], lrs_before=lrs_before,
                   built_empty=built_empty)


def trainer_empty_groups(args, optimizer) -> dict[int, str]:
    """The empty groups of the decay / no-decay pair `Trainer.create_optimizer` builds from the trainable tensors
    (`weight_decay=args.weight_decay`, then 0.0): with LoRA every trainable tensor is a weight, so the no-decay
    group is empty (and with BitFit the decay group), which is no mistake. Any other set of groups: none."""
    groups = unwrap_optimizer(optimizer)[0].param_groups
    if len(groups) != 2 or [g.get("weight_decay") for g in groups] != [args.weight_decay, 0.0]:
        return {}
    names = ("decay group: no trainable tensor takes weight decay",
             "no-decay group: every trainable tensor takes weight decay (LoRA adapters have no biases or norms)")
    return {g: f"group {g} is empty: it is the Trainer's {names[g]}, which is no mistake"
            for g, group in enumerate(groups) if not group["params"]}


def trainer_plan(args, state, scheduler) -> Plan:
    """`state.max_steps` optimizer steps over `state.num_train_epochs` epochs. The Trainer steps its scheduler
    after every optimizer step; ReduceLROnPlateau only after an evaluation: every `state.eval_steps` optimizer
    steps counted over the run (global_step) with eval_strategy="steps", else once an epoch."""
    steps = state.max_steps
    steps_per_epoch = max(1, math.ceil(steps / max(1, state.num_train_epochs)))
    plan = Plan(math.ceil(steps / steps_per_epoch), steps_per_epoch, "step", total_steps=steps)
    if not isinstance(unwrap_scheduler(scheduler), lr_scheduler.ReduceLROnPlateau):
        return plan
    if str(getattr(args.eval_strategy, "value", args.eval_strategy)) == "steps" and state.eval_steps:
        return dataclasses.replace(plan, frequency=int(state.eval_steps), frequency_over_run=True)
    return dataclasses.replace(plan, interval="epoch")
