import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (
    OPTIMIZER, SCHEDULER, Instance, Loop, Scope, loop_events, number_literal, optimizer_matches
)

PER_BATCH = frozenset({"OneCycleLR", "CyclicLR"})


class PerBatchSchedulerSteppedPerEpoch(Rule):
    """A OneCycleLR/CyclicLR stepped in an outer loop while its optimizer steps in an inner loop."""

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
        for loop, scope in ctx.model.loops:
            events = loop_events(ctx.model, loop, scope, ctx.settings)
            for event in events:
                if event.kind != SCHEDULER or event.depth != 0 or event.instance is None:
                    continue
                if event.instance.cls not in PER_BATCH or _sized_per_iteration(ctx, event.instance, loop, scope):
                    continue
                steps = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(event, e)]
                if steps and all(step.depth > 0 for step in steps):
                    self._report(ctx, event, steps[0])

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


def _sized_per_iteration(ctx, build: Instance, loop: Loop, scope: Scope) -> bool:
    """A OneCycleLR built for one step per iteration of the loop that steps it (`steps_per_epoch=1`,
    `total_steps=epochs` for `for epoch in range(epochs)`) completes its cycle there, as designed. One
    built by another module of the project may be: its arguments are not seen here."""
    if build.origin is not None:
        return True
    if number_literal(ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "steps_per_epoch")) == 1:
        return True
    total = ctx.model.torch_argument(build.call, SCHEDULER, build.cls, "total_steps")
    bound = _range_bound(ctx.model, loop, scope)
    return total is not None and bound is not None and ctx.module.code_for_node(total) == ctx.module.code_for_node(bound)


def _range_bound(model, loop: Loop, scope: Scope) -> cst.BaseExpression | None:
    """`n` for `for x in range(n)` or `range(start, n)`."""
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Call):
        return None
    func, args = loop.iter.func, loop.iter.args
    if model.is_builtin(func, "range", scope) and len(args) in (1, 2) and not args[-1].star:
        return args[-1].value if len(args) == 1 else args[1].value
    return None
