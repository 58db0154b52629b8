from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (
    EPOCH, OPTIMIZER, SCHEDULER, Instance, LightningScheduler, Loop, Scope, lightning_schedulers,
    number_literal, optimizer_matches, range_bound, step_sequences, terminal_name,
)

PER_BATCH = frozenset({"OneCycleLR", "CyclicLR"})


class PerBatchSchedulerSteppedPerEpoch(Rule):
    """A OneCycleLR/CyclicLR stepped in an outer loop while its optimizer steps in an inner loop.

    Lightning is such a loop: it steps the optimizer every batch, and a scheduler that
    `configure_optimizers` returns without `"interval": "step"` once per epoch.
    """

    code = "OPT012"

    VALID = (
        Valid("""
            from torch.optim.lr_scheduler import OneCycleLR
            sched = OneCycleLR(opt, max_lr=0.1, total_steps=n)
            for epoch in range(3):
                for x in loader:
                    opt.step()
                    sched.step()
        """),
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for epoch in range(3):
                for x in loader:
                    opt.step()
                sched.step()
        """),
        Valid("""
            import lightning as L
            import torch
            class Model(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.SGD(self.parameters(), lr=0.1)
                    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=self.trainer.estimated_stepping_batches)
                    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        """),
        # Sized in epochs: one cycle over the loop that steps it, by design.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            a = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs)
            b = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, epochs=epochs, steps_per_epoch=1)
            for epoch in range(epochs):
                for x in loader:
                    opt.step()
                a.step()
                b.step()
        """),
    )
    INVALID = (
        # Lightning's default interval is "epoch".
        Invalid("""
            import lightning as L
            import torch
            class Model(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.SGD(self.parameters(), lr=0.1)
                    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=self.trainer.estimated_stepping_batches)
                    return [opt], [sched]
        """, at="7:24"),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=3, steps_per_epoch=len(loader))
            for epoch in range(3):
                for x in loader:
                    opt.step()
                sched.step()
        """, at="7:5"),
        Invalid("""
            from torch.optim.lr_scheduler import CyclicLR
            class T:
                def setup(self):
                    self.sched = CyclicLR(self.opt, 1e-4, 1e-2)
                def epoch(self):
                    for x in self.loader:
                        self.opt.step()
                def fit(self):
                    for e in range(3):
                        self.epoch()
                        self.sched.step()
        """, at="11:13"),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=epochs * len(loader))
            for epoch in range(epochs):
                for x in loader:
                    opt.step()
                sched.step()
        """, at="7:5"),
    )

    def check(self, ctx) -> None:
        for loop, scope, events in step_sequences(ctx.model, ctx.settings):
            for event in events:
                if event.kind != SCHEDULER or event.depth != 0 or event.instance is None:
                    continue
                if event.instance.cls not in PER_BATCH or _sized_per_iteration(ctx, event.instance, loop, scope):
                    continue
                steps = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(event, e)]
                if steps and all(step.depth > 0 for step in steps):
                    self._report(ctx, event, steps[0])
        for returned in lightning_schedulers(ctx.model):
            if _stepped_per_epoch_by_lightning(ctx, returned):
                self._report_lightning(ctx, returned)

    def _report(self, ctx, scheduler, optimizer) -> None:
        cls = scheduler.instance.cls
        sched, opt = scheduler.label(ctx.module), optimizer.label(ctx.module)
        ctx.report(
            scheduler.call,
            f"`{sched}` is a {cls}, stepped once per outer iteration while `{opt}` steps in an inner loop"
            f"{optimizer.origin_note()}: "
            "the cycle is meant to span every batch, so stepped per epoch it never leaves warm-up.",
            hint=f"Call `{sched}.step()` right after `{opt}.step()` inside the batch loop.",
        )


    def _report_lightning(self, ctx, returned: LightningScheduler) -> None:
        sched = ctx.module.code_for_node(returned.scheduler)
        interval = 'with `"interval": "epoch"`' if returned.interval_written else 'without `"interval": "step"`'
        ctx.report(
            returned.config,
            f"`{sched}` is a {returned.instance.cls} that `configure_optimizers` returns {interval}: Lightning steps"
            " it once per epoch while the optimizer steps every batch, so the cycle never leaves warm-up.",
            hint=f'Return it as `{{"scheduler": {sched}, "interval": "step"}}` in the `"lr_scheduler"` entry.',
        )


def _stepped_per_epoch_by_lightning(ctx, returned: LightningScheduler) -> bool:
    """A OneCycleLR/CyclicLR that Lightning itself steps per epoch (no `lr_scheduler_step` of the user's),
    unless it is built for one step per epoch (`steps_per_epoch=1`, `total_steps=self.trainer.max_epochs`)."""
    build = returned.instance
    if build is None or build.cls not in PER_BATCH or not returned.automatic or returned.hook is not None:
        return False
    if returned.interval != EPOCH:
        return False
    if number_literal(ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "steps_per_epoch")) == 1:
        return False
    total = ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "total_steps")
    return total is None or "epoch" not in (terminal_name(total) or "").lower()


def _sized_per_iteration(ctx, build: Instance, loop: Loop | None, scope: Scope) -> bool:
    """A OneCycleLR built for one step per iteration of the loop that steps it (`steps_per_epoch=1`,
    `total_steps=epochs` for `for epoch in range(epochs)`) completes its cycle there, as designed. One
    built by another module of the project may be: its arguments are not seen here."""
    if build.origin is not None:
        return True
    if number_literal(ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "steps_per_epoch")) == 1:
        return True
    total = ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "total_steps")
    bound = range_bound(ctx.model, loop, scope)
    return total is not None and bound is not None and ctx.module.code_for_node(total) == ctx.module.code_for_node(bound)

