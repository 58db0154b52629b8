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
from optlint.runtime.simulate import Plan
from optlint.runtime.unwrap import unwrap_scheduler


class OptlintCallback(SetupCheck, TrainerCallback):
    """Runs optlint's runtime check on the Trainer's optimizer and scheduler at `on_train_begin`.

    Keyword options as `SetupCheck`: on_error="raise" | "warn", strict, select, ignore.
    """

    def on_train_begin(self, args, state, control, model=None, optimizer=None, lr_scheduler=None, **kwargs):
        self.reports = []
        if model is None or optimizer is None:  # built later by the backend (DeepSpeed): nothing to check yet
            return
        self.check(model, [optimizer], [lr_scheduler], [trainer_plan(args, state, lr_scheduler)])


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
