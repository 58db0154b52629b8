from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (OPTIMIZER, SCHEDULER, StepEvent, calls_in_accumulate, dotted, guards_of,
                                     is_accumulation_guard, is_self_check, loop_events, optimizer_matches,
                                     went_through_prepare)


class SchedulerSteppedPerMicroBatch(Rule):
    """Gradient accumulation: the optimizer steps under an accumulation guard, its scheduler outside it.

    The scheduler then steps once per micro-batch, `accum` times per update: the schedule runs
    `accum` times too fast and is spent a fraction of the way into training.
    """

    code = "OPT021"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.AdamW(m.parameters())
            sched = torch.optim.lr_scheduler.LinearLR(opt, 0.1, total_iters=100)
            for i, x in enumerate(loader):
                loss(x).backward()
                if (i + 1) % accum == 0:
                    opt.step()
                    sched.step()
                    opt.zero_grad()
        """),
        # accelerate's prepared scheduler skips its step until the gradients sync.
        Valid("""
            import torch
            opt = torch.optim.AdamW(m.parameters())
            sched = torch.optim.lr_scheduler.LinearLR(opt, 0.1, total_iters=100)
            m, opt, sched = accelerator.prepare(m, opt, sched)
            for x in loader:
                with accelerator.accumulate(m):
                    accelerator.backward(loss(x))
                    if accelerator.sync_gradients:
                        opt.step()
                    sched.step()
        """),
        # A plateau scheduler given a metric, per epoch, beside an accumulation loop.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
            for epoch in range(10):
                for i, x in enumerate(loader):
                    if i % accum == 0:
                        opt.step()
                plateau.step(val_loss)
        """),
        # A WGAN: the generator steps every `n_critic` batches, the critic's scheduler with the critic.
        Valid("""
            import torch
            opt_d, opt_g = torch.optim.Adam(d.parameters()), torch.optim.Adam(g.parameters())
            sched_d = torch.optim.lr_scheduler.StepLR(opt_d, 1000)
            for i, x in enumerate(loader):
                opt_d.step()
                sched_d.step()
                if i % n_critic == 0:
                    opt_g.step()
        """),
        # The scheduler under a test of its own: which it is, is not known here.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 100)
            for i, x in enumerate(loader):
                if (i + 1) % accum == 0:
                    opt.step()
                if updated:
                    sched.step()
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.AdamW(m.parameters())
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=1000)
            for i, x in enumerate(loader):
                loss(x).backward()
                if (i + 1) % accum == 0:
                    opt.step()
                    opt.zero_grad()
                sched.step()
        """, at="9:5", message="`accum` times too fast"),
        # Prepared, but stepped outside `accelerator.accumulate` with a modulo guard of its own.
        Invalid("""
            import torch
            class T:
                def fit(self, loader):
                    self.opt = torch.optim.AdamW(self.m.parameters())
                    self.sched = torch.optim.lr_scheduler.LinearLR(self.opt, 0.1, total_iters=100)
                    self.opt, self.sched = accelerator.prepare(self.opt, self.sched)
                    for step, x in enumerate(loader):
                        accelerator.backward(loss(x))
                        if step % self.grad_accum_steps == 0:
                            self.opt.step()
                        if self.sched is not None:
                            self.sched.step()
        """, at="12:17"),
    )

    def check(self, ctx) -> None:
        for loop, scope in ctx.model.loops:
            events = [e for e in loop_events(ctx.model, loop, scope, ctx.settings) if e.depth == 0]
            guards = guards_of(loop)
            accumulated = calls_in_accumulate(loop)
            for scheduler in events:
                if scheduler.kind != SCHEDULER or scheduler.call.args or scheduler.call not in guards:
                    continue
                optimizers = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(scheduler, e)]
                if not optimizers or any(e.call not in guards for e in optimizers):
                    continue
                if _outside_the_guard(scheduler, optimizers, guards) and not _skipped_by_accelerate(
                        ctx, scheduler, optimizers, guards, accumulated):
                    self._report(ctx, scheduler, optimizers[0])

    def _report(self, ctx, scheduler: StepEvent, optimizer: StepEvent) -> None:
        sched, opt = scheduler.label(ctx.module), optimizer.label(ctx.module)
        ctx.report(
            scheduler.call,
            f"`{sched}` steps on every micro-batch while `{opt}` steps only under the accumulation guard:"
            " the schedule advances once per micro-batch and runs `accum` times too fast.",
            hint=f"Move `{sched}.step()` under the same guard, right after `{opt}.step()`.",
        )


def _outside_the_guard(scheduler: StepEvent, optimizers: list[StepEvent], guards) -> bool:
    """Every optimizer step is under an accumulation guard that the scheduler step is not under, and
    the scheduler is under no test the optimizer is not (bar a None-check of itself)."""
    own = guards[scheduler.call]
    receiver = dotted(scheduler.receiver)
    for optimizer in optimizers:
        accumulation = [t for t in guards[optimizer.call] if is_accumulation_guard(t)]
        if not accumulation or any(t in own for t in accumulation):
            return False
    shared = {t for optimizer in optimizers for t in guards[optimizer.call]}
    return all(t in shared or is_self_check(t, receiver) for t in own)


def _skipped_by_accelerate(ctx, scheduler: StepEvent, optimizers: list[StepEvent], guards, accumulated) -> bool:
    """A scheduler handed to `accelerator.prepare` skips its step while gradients are not synced: inside
    `accelerator.accumulate(...)`, or when the optimizer waits for `sync_gradients`, it steps with it.
    Inside `accumulate`, one this file does not build may have been prepared elsewhere."""
    prepared = went_through_prepare(ctx.model, scheduler.receiver)
    if scheduler.call in accumulated:
        return prepared or scheduler.instance is None
    return prepared and any(isinstance(t, cst.Attribute) and t.attr.value == "sync_gradients"
                            for optimizer in optimizers for t in guards[optimizer.call])
