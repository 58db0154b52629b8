from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (BATCHES, EPOCH, EPOCHS, OPTIMIZER, SCHEDULER, Instance, StepEvent, argument,
                                     guards_of, horizon_unit, is_epoch_loop, lightning_schedulers, loop_events,
                                     optimizer_matches, range_bound)

LENGTHS = {  # the arguments that size a schedule, by class
    "CosineAnnealingLR": "T_max", "CosineAnnealingWarmRestarts": "T_0", "LinearLR": "total_iters",
    "ConstantLR": "total_iters", "PolynomialLR": "total_iters", "MultiStepLR": "milestones", "StepLR": "step_size",
}
HF_LENGTH = "num_training_steps"  # `get_scheduler(...)`, `get_cosine_schedule_with_warmup(...)`


class SchedulerHorizonInWrongUnit(Rule):
    """A scheduler sized in batches stepped per epoch, or sized in epochs stepped per batch, or a
    batch-sized scheduler returned to Lightning without `"interval": "step"`.

    Stepped per epoch, a per-batch horizon barely moves (the warm-up never ends); stepped per batch,
    a per-epoch cosine falls and climbs again every `epochs` batches.
    """

    code = "OPT022"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
            for epoch in range(epochs):
                for x in loader:
                    opt.step()
                    sched.step()
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
            for epoch in range(args.epochs):
                for x in loader:
                    opt.step()
                sched.step()
        """),
        # The fractional epoch sets the position per batch: the horizon is in epochs by design.
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=epochs)
            for epoch in range(epochs):
                for i, x in enumerate(loader):
                    opt.step()
                    sched.step(epoch + i / iters)
        """),
        # A config field: its unit is not known here.
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.T_max)
            for epoch in range(epochs):
                for x in loader:
                    opt.step()
                    sched.step()
        """),
        Valid("""
            import lightning as L
            from transformers import get_linear_schedule_with_warmup
            class M(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.AdamW(self.parameters())
                    sched = get_linear_schedule_with_warmup(
                        opt, 100, num_training_steps=self.trainer.estimated_stepping_batches)
                    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        """),
    )
    INVALID = (
        Invalid("""
            from torch.optim.lr_scheduler import MultiStepLR
            def fit(opt, loader, num_epochs):
                decay = MultiStepLR(opt, milestones=[num_epochs // 2, num_epochs * 3 // 4])
                for e in range(num_epochs):
                    for batch in loader:
                        opt.step()
                        decay.step()
        """, at="7:13", message="per batch"),
        Invalid("""
            import torch
            opt = torch.optim.AdamW(m.parameters())
            total = len(train_loader) * args.epochs
            warmup = torch.optim.lr_scheduler.LinearLR(opt, 0.01, total_iters=total // 10)
            for epoch in range(args.epochs):
                for x in train_loader:
                    opt.step()
                warmup.step()
        """, at="8:5", message="per epoch"),
        Invalid("""
            import lightning as L
            import torch
            class M(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.AdamW(self.parameters())
                    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.trainer.estimated_stepping_batches)
                    return [opt], [sched]
        """, at="7:24", message='"interval": "step"'),
    )

    def check(self, ctx) -> None:
        reported: set[cst.Call] = set()
        for loop, scope in ctx.model.loops:
            for step, unit in _mismatched_steps(ctx, loop, scope):
                if step.instance.call not in reported:
                    reported.add(step.instance.call)
                    self._report_loop(ctx, step, unit)
        for expr, build in lightning_epoch_interval_schedulers(ctx):
            self._report_lightning(ctx, expr, build)

    def _report_loop(self, ctx, step: StepEvent, unit: str) -> None:
        sched = step.label(ctx.module)
        if unit == BATCHES:
            message = (f"`{sched}` is sized in batches but stepped once per epoch, here: its schedule barely"
                       " moves (a warm-up never ends, a decay never decays).")
            hint = f"Step `{sched}` inside the batch loop, or size it in epochs."
        else:
            message = (f"`{sched}` is sized in epochs but stepped per batch, here: its schedule is spent in the"
                       " first epoch (a cosine falls and climbs again every `epochs` batches).")
            hint = f"Step `{sched}` once per epoch, or size it in batches (`epochs * len(loader)`)."
        ctx.report(step.call, message, hint=hint)

    def _report_lightning(self, ctx, expr: cst.BaseExpression, build: Instance) -> None:
        ctx.report(
            expr,
            f"`{ctx.module.code_for_node(expr)}` is sized in batches, but returned without `\"interval\": \"step\"`:"
            " Lightning steps it once per epoch (its default interval), so it barely moves.",
            hint='Return `{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}`.',
        )


def _mismatched_steps(ctx, loop, scope) -> list[tuple[StepEvent, str]]:
    """The steps of a sized scheduler in this loop whose depth contradicts the unit of its horizon."""
    events = loop_events(ctx.model, loop, scope, ctx.settings)
    guards = guards_of(loop)
    bound = range_bound(ctx.model, loop, scope)
    epoch_bounds = (ctx.module.code_for_node(bound),) if bound is not None else ()
    counts_epochs = is_epoch_loop(ctx.model, loop, scope)
    found = []
    for step in events:
        if step.kind != SCHEDULER or step.instance is None or step.call.args or step.call not in guards:
            continue
        mine = [e for e in events if e.kind == SCHEDULER and e.instance is not None and e.instance.call is step.instance.call]
        if len({e.depth for e in mine}) > 1:
            continue  # stepped at two depths: OPT019
        unit = _unit(ctx, step.instance, epoch_bounds)
        optimizers = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(step, e)]
        if unit == BATCHES and step.depth == 0 and optimizers and all(e.depth > 0 for e in optimizers):
            found.append((step, unit))
        elif unit == EPOCHS and step.depth > 0 and counts_epochs and _with_an_optimizer(step, optimizers, guards):
            found.append((step, unit))
    return found


def _with_an_optimizer(step: StepEvent, optimizers: list[StepEvent], guards) -> bool:
    """An optimizer step at the same depth under every test the scheduler step is under."""
    return any(e.depth == step.depth and e.call in guards and set(guards[step.call]) <= set(guards[e.call])
               for e in optimizers)


def _unit(ctx, build: Instance, epoch_bounds: tuple[str, ...]) -> str | None:
    length = _length(ctx, build)
    return None if length is None else horizon_unit(ctx.model, length, build.assignment.resolution_scope, epoch_bounds)


def _length(ctx, build: Instance) -> cst.BaseExpression | None:
    """The argument that sizes the schedule; OneCycleLR/CyclicLR stepped per epoch are OPT012's."""
    if build.cls is None:
        return argument(build.call, None, HF_LENGTH)
    if build.cls not in LENGTHS:
        return None
    return ctx.model.torch_argument(build.call, SCHEDULER, build.cls, LENGTHS[build.cls])


def lightning_epoch_interval_schedulers(ctx) -> list[tuple[cst.BaseExpression, Instance]]:
    """Schedulers sized in batches that `configure_optimizers` returns to Lightning's automatic stepping with
    the default (or an explicit `"epoch"`) interval. A module that steps them in `lr_scheduler_step` is left out."""
    return [(returned.scheduler, returned.instance) for returned in lightning_schedulers(ctx.model)
            if returned.automatic and returned.hook is None and returned.interval == EPOCH
            and returned.instance is not None and returned.instance.kind == SCHEDULER
            and _unit(ctx, returned.instance, ()) == BATCHES]
