from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.semantic import SCHEDULER, dotted, guards_of, is_self_check, loop_events, StepEvent
from optlint.static.rule import Rule


class SchedulerSteppedAtTwoDepths(Rule):
    """One scheduler stepped both in a loop and in a loop nested inside it (per batch and per epoch).

    Each `step()` advances the schedule by one, so it runs `batches + 1` steps per epoch: a horizon
    sized in epochs is spent in the first epoch, one sized in batches ends early.
    """

    code = "OPT019"

    VALID = (
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for epoch in range(3):
                for x in loader:
                    opt.step()
                sched.step()
        """),
        # Two schedulers, one per depth: a per-batch warm-up and a per-epoch decay.
        Valid("""
            import torch
            from torch.optim import lr_scheduler
            warmup = lr_scheduler.LinearLR(opt, 0.1, total_iters=500)
            decay = lr_scheduler.ReduceLROnPlateau(opt)
            for epoch in range(90):
                for x in loader:
                    opt.step()
                    warmup.step()
                decay.step(val_loss)
        """),
        # A GAN: each scheduler steps once per epoch, with its own optimizer stepped per batch.
        Valid("""
            import torch
            opt_g, opt_d = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
            sched_g = torch.optim.lr_scheduler.StepLR(opt_g, 10)
            sched_d = torch.optim.lr_scheduler.StepLR(opt_d, 10)
            for epoch in range(100):
                for x in loader:
                    opt_d.step()
                    opt_g.step()
                sched_d.step()
                sched_g.step()
        """),
        # The fractional epoch sets the position, it does not advance it.
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 10)
            for epoch in range(30):
                for i, x in enumerate(loader):
                    opt.step()
                    sched.step(epoch + i / iters)
                sched.step(epoch + 1)
        """),
        # Which depth steps depends on a setting whose value is not known here.
        Valid("""
            import torch
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=n)
            for epoch in range(3):
                for x in loader:
                    opt.step()
                    if cfg.interval == "step":
                        sched.step()
                if cfg.interval == "epoch":
                    sched.step()
        """),
        # A scheduler of unknown class (a parameter): only resolved instances count.
        Valid("""
            def fit(opt, scheduler, loader):
                for epoch in range(3):
                    for x in loader:
                        opt.step()
                        scheduler.step()
                    scheduler.step()
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
            for epoch in range(epochs):
                for x in loader:
                    opt.step()
                    sched.step()
                sched.step()
        """, at="8:5", message="`batches + 1`"),
        # A guard on the scheduler itself, or a modulo one, does not choose the depth.
        Invalid("""
            from torch.optim.lr_scheduler import LinearLR
            class T:
                def __init__(self, opt):
                    self.opt = opt
                    self.sched = LinearLR(opt, 0.1, total_iters=100)
                def fit(self, loader):
                    for epoch in range(10):
                        for i, x in enumerate(loader):
                            if (i + 1) % 4 == 0:
                                self.opt.step()
                                self.sched.step()
                        if self.sched is not None:
                            self.sched.step()
        """, at="13:17"),
    )

    def check(self, ctx) -> None:
        reported: set[cst.Call] = set()
        for loop, scope in ctx.model.loops:
            steps: dict[cst.Call, list[StepEvent]] = {}
            for event in loop_events(ctx.model, loop, scope, ctx.settings):
                if event.kind == SCHEDULER and event.instance is not None and event.instance.cls is not None:
                    steps.setdefault(event.instance.call, []).append(event)
            for events in steps.values():
                outer = [e for e in events if e.depth == 0]
                inner = [e for e in events if e.depth > 0]
                if outer and inner and outer[0].call not in reported and _advances_unconditionally(ctx.model, loop, scope, events):
                    reported.add(outer[0].call)
                    self._report(ctx, outer[0])

    def _report(self, ctx, outer: StepEvent) -> None:
        sched = outer.label(ctx.module)
        ctx.report(
            outer.call,
            f"`{sched}` is stepped here, once per iteration, and again inside the nested loop: its schedule"
            " advances `batches + 1` times per iteration, so a horizon sized in epochs is spent in the first one.",
            hint=f"Step `{sched}` at one depth: per batch (sized in batches) or per epoch (sized in epochs).",
        )


def _advances_unconditionally(model, loop, scope, events: list[StepEvent]) -> bool:
    """Every step is `step()` with no argument, written in the loop itself, and guarded only by tests
    that do not choose between the depths: the scheduler's own None-check, a modulo (accumulation), a
    test that always holds (`if PER_BATCH:` with the module's `PER_BATCH = True`)."""
    if any(event.has_arguments or event.instance.cls == "ReduceLROnPlateau" for event in events):
        return False
    guards = guards_of(loop)
    for event in events:
        if event.call not in guards:
            return False  # inlined from a helper: its guards are not visible here
        receiver = dotted(event.receiver)
        if not all(model.static_truth(test, scope) or _does_not_choose(test, receiver) for test in guards[event.call]):
            return False
    return True


def _does_not_choose(test: cst.BaseExpression, receiver: str | None) -> bool:
    """`if sched:`, `if sched is not None:`, `if (i + 1) % accum == 0:`."""
    if is_self_check(test, receiver):
        return True
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    left = test.left
    return isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Modulo)
