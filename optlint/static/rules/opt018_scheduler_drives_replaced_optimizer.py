from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (OPTIMIZER, SCHEDULER, Assignment, Instance, argument, loop_events,
                                     optimizer_rebindings, scheduler_steps, uses_after)


class SchedulerDrivesReplacedOptimizer(Rule):
    """A scheduler keeps stepping after its optimizer variable was bound to a new optimizer, or in a
    loop whose only optimizer steps are another optimizer's.

    The scheduler changes the LR of the optimizer it was built on; the one that trains keeps its
    initial LR for the rest of the run.
    """

    code = "OPT018"

    VALID = (
        # Rebuilt together: the new scheduler drives the new optimizer.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.head.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            train(opt, sched)
            opt = torch.optim.SGD(m.parameters(), lr=0.01)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            train(opt, sched)
        """),
        # The old scheduler is not used after the new optimizer is built.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.head.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in loader:
                opt.step()
                sched.step()
            opt = torch.optim.SGD(m.parameters(), lr=0.01)
            for x in loader:
                opt.step()
        """),
        # A GAN: each scheduler steps with its own optimizer.
        Valid("""
            import torch
            opt_g, opt_d = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
            sched_g = torch.optim.lr_scheduler.StepLR(opt_g, 10)
            sched_d = torch.optim.lr_scheduler.StepLR(opt_d, 10)
            for x in loader:
                opt_d.step()
                sched_d.step()
                opt_g.step()
                sched_g.step()
        """),
        # Different branches: only one of the two optimizers is ever built.
        Valid("""
            import torch
            if use_adam:
                opt = torch.optim.Adam(m.parameters())
            else:
                opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in loader:
                opt.step()
                sched.step()
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.head.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            train(opt, sched)
            m.requires_grad_(True)
            opt = torch.optim.SGD(m.parameters(), lr=0.01)
            train(opt, sched)
        """, at="6:7", message="`sched`"),
        Invalid("""
            import torch
            class T:
                def __init__(self, m):
                    self.m = m
                    self.opt = torch.optim.AdamW(m.head.parameters())
                    self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, 100)
                def unfreeze(self):
                    self.opt = torch.optim.AdamW(self.m.parameters())
                def epoch(self, loader):
                    for x in loader:
                        self.opt.step()
                    self.sched.step()
        """, at="8:20"),
        # The scheduler is bound to the probe optimizer; the loop steps the other one.
        Invalid("""
            import torch
            probe = torch.optim.SGD(m.parameters(), lr=0.1)
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(probe, 10)
            for x in loader:
                opt.step()
                sched.step()
        """, at="7:5", message="`probe`"),
    )

    def check(self, ctx) -> None:
        for build in ctx.model.scheduler_builds():
            if build.optimizer is None or not build.assignment.target:
                continue
            expr = argument(build.call, 0, "optimizer")
            for rebinding in optimizer_rebindings(ctx.model, build, expr):
                if _keeps_stepping(ctx, build, rebinding):
                    self._report_rebinding(ctx, build, expr, rebinding)
                    break
        for loop, scope in ctx.model.loops:
            for scheduler, bound in _steps_without_their_optimizer(ctx, loop, scope):
                self._report_foreign_loop(ctx, scheduler, bound)

    def _report_rebinding(self, ctx, build: Instance, expr, rebinding: Assignment) -> None:
        opt, sched = ctx.module.code_for_node(expr), _scheduler_text(build)
        ctx.report(
            rebinding.value,
            f"`{opt}` is bound to a new optimizer here, but `{sched}` was built on the old one and keeps"
            f" stepping: it changes the old optimizer's LR, and the new `{opt}` keeps its initial LR.",
            hint=f"Build a new scheduler on the new `{opt}` right after it (and step that one).",
        )

    def _report_foreign_loop(self, ctx, scheduler, bound: Instance) -> None:
        opt = bound.assignment.target or "its optimizer"
        ctx.report(
            scheduler.call,
            f"`{scheduler.label(ctx.module)}` is bound to `{opt}`, which this loop never steps: the"
            " optimizer that trains here keeps its initial LR.",
            hint=f"Build the scheduler on the optimizer this loop steps, or step `{opt}` here.",
        )


def _scheduler_text(build: Instance) -> str:
    return f"self.{build.assignment.target}" if build.is_self_attribute else build.assignment.target


def _keeps_stepping(ctx, build: Instance, rebinding: Assignment) -> bool:
    """The scheduler is used after the rebinding in the same function, or, rebound in another method
    than the one that built it (`__init__`), stepped anywhere."""
    if rebinding.resolution_scope is build.assignment.resolution_scope:
        return uses_after(ctx.model, _scheduler_text(build), rebinding)
    return bool(scheduler_steps(ctx.model, build))


def _steps_without_their_optimizer(ctx, loop, scope) -> list[tuple[object, Instance]]:
    """Scheduler steps in a loop whose every optimizer step is of a resolved optimizer other than the
    one the scheduler is bound to."""
    events = loop_events(ctx.model, loop, scope, ctx.settings)
    optimizers = [e for e in events if e.kind == OPTIMIZER]
    if not optimizers or any(e.instance is None for e in optimizers):
        return []
    stepped = {e.instance.call for e in optimizers}
    return [(e, e.instance.optimizer) for e in events if e.kind == SCHEDULER and e.depth == 0
            and e.instance is not None and e.instance.optimizer is not None
            and e.instance.optimizer.call not in stepped and _is_named(e.instance.optimizer)]


def _is_named(instance: Instance) -> bool:
    return isinstance(instance.call, cst.Call) and bool(instance.assignment.target)
