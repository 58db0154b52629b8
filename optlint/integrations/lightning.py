"""A Lightning callback that checks every optimizer and LR scheduler from `configure_optimizers` at fit start.

    from optlint.integrations.lightning import OptlintCallback
    trainer = L.Trainer(max_epochs=10, callbacks=[OptlintCallback()])

The preview replays the loop Lightning runs: each scheduler config's `interval` and `frequency`, the
trainer's `max_epochs`, `max_steps`, batches per epoch and `accumulate_grad_batches`. Needs `lightning`
(or the older `pytorch_lightning` package).
"""

from __future__ import annotations

import dataclasses
import math

from optlint.integrations.common import SetupCheck
from optlint.runtime.observe import Recorder
from optlint.runtime.simulate import Plan, resolve_interval
from optlint.runtime.unwrap import unwrap_scheduler

try:
    from lightning.pytorch import Callback
except ImportError:  # only the older package is installed
    from pytorch_lightning import Callback

NO_PREVIEW = Plan(epochs=1, steps_per_epoch=1)


class OptlintCallback(SetupCheck, Callback):
    """Runs optlint's runtime check on each optimizer (with its scheduler) when `trainer.fit` starts.

    Keyword options as `SetupCheck`: on_error="raise" | "warn", strict, select, ignore.
    From `setup` to `on_fit_start` (while Lightning runs `configure_optimizers`) it records the group LRs
    before each scheduler is built, which OneCycleLR and CyclicLR overwrite (OPT107).
    """

    _recorder: Recorder | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage == "fit":
            self._recorder = Recorder().start()

    def teardown(self, trainer, pl_module, stage: str) -> None:
        self._stop_recording()

    def _stop_recording(self) -> dict[int, list[float]]:
        recorder, self._recorder = self._recorder, None
        return recorder.stop() if recorder else {}

    def on_fit_start(self, trainer, pl_module) -> None:
        self.reports = []
        lrs_before = self._stop_recording()
        plan, loop_notes = lightning_plan(trainer)
        # configure_optimizers returning None leaves Lightning's stand-in, with no param groups: nothing to check
        optimizers = [optimizer for optimizer in trainer.optimizers if optimizer.param_groups]
        schedulers, plans, notes = [], [], []
        for index, optimizer in enumerate(optimizers):
            configs = [c for c in trainer.lr_scheduler_configs if _drives(c.scheduler, optimizer)]
            scheduler, optimizer_plan, optimizer_notes = _scheduler_and_plan(configs, plan,
                                                                             pl_module.automatic_optimization)
            if len(optimizers) > 1:
                optimizer_notes.append(f"optimizer {index} of the {len(optimizers)} from configure_optimizers")
            schedulers.append(scheduler)
            plans.append(optimizer_plan)
            notes.append([*loop_notes, *optimizer_notes])
        if optimizers:
            self.check(pl_module, optimizers, schedulers, plans, notes, lrs_before=lrs_before)


def lightning_plan(trainer) -> tuple[Plan | None, list[str]]:
    """The optimizer steps of the whole fit, as Lightning counts them; None when it cannot know them."""
    total = trainer.estimated_stepping_batches  # loads the train dataloader when it is not loaded yet
    if trainer.train_dataloader is None:
        trainer.fit_loop.setup_data()
    batches = trainer.num_training_batches
    if not (math.isfinite(total) and total > 0):
        return None, ["the run has no known length (neither max_epochs nor max_steps with a sized dataset): "
                      "the schedule is not previewed"]
    accumulate = trainer.accumulate_grad_batches
    if not (math.isfinite(batches) and batches > 0):  # an iterable dataset: max_steps, but no epoch length
        return Plan(1, int(total), batches_per_step=accumulate, total_steps=int(total)), [
            f"the epochs have no known length (an iterable dataset): the preview covers the {int(total)} optimizer "
            "steps of max_steps as one stretch"]
    steps_per_epoch = math.ceil(batches / accumulate)
    return Plan(math.ceil(total / steps_per_epoch), steps_per_epoch, batches_per_step=accumulate,
                batches_per_epoch=batches, total_steps=total), []


def _scheduler_and_plan(configs: list, plan: Plan | None, automatic: bool):
    """The scheduler to replay with the plan for it, and notes: Lightning steps a scheduler by its config
    in automatic optimization; in manual optimization `training_step` does, when it chooses."""
    if plan is None or not configs:
        return None, plan or NO_PREVIEW, []
    if len(configs) > 1:
        return None, plan, [f"{len(configs)} schedulers drive this optimizer: their combined schedule is not "
                            "previewed, the LRs shown are the current ones"]
    config = configs[0]
    if not automatic:
        scheduler_plan = plan
        notes = ["manual optimization: training_step steps the scheduler, so the preview assumes the usual "
                 "interval for its class"]
    else:
        scheduler_plan, notes = dataclasses.replace(plan, interval=config.interval, frequency=config.frequency), []
    # A plan from lightning_plan has batches_per_epoch whenever an epoch has a length.
    if plan.batches_per_epoch is None and resolve_interval(scheduler_plan.interval, config.scheduler) == "epoch":
        return None, plan, [*notes, f"{type(unwrap_scheduler(config.scheduler)).__name__} steps at each epoch's end, "
                                    "and the epochs have no known length: its schedule is not previewed"]
    return config.scheduler, scheduler_plan, notes


def _drives(scheduler, optimizer) -> bool:
    return getattr(unwrap_scheduler(scheduler), "optimizer", None) is optimizer
