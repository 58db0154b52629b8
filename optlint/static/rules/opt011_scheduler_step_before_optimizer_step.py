from optlint.static.loops import StepEvent, loop_events, optimizer_matches
from optlint.static.model import OPTIMIZER, SCHEDULER
from optlint.static.rule import Rule, Swap


class SchedulerStepBeforeOptimizerStep(Rule):
    """In a loop, a scheduler steps before its optimizer's first step in that loop body."""

    code = "OPT011"

    VALID = (
        "for epoch in range(10):\n    for x in loader:\n        optimizer.step()\n    scheduler.step()",
        "for x in loader:\n    loss.backward()\n    scaler.step(optimizer)\n    scaler.update()\n    lr_scheduler.step()",
        # Diffusion sampling: a noise scheduler, not an LR scheduler.
        "for t in timesteps:\n    x = noise_scheduler.step(out, t, x).prev_sample\n    optimizer.step()",
        # ReduceLROnPlateau neither warns nor skips a value.
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\nsched = ReduceLROnPlateau(opt)\n"
        "for epoch in range(3):\n    sched.step(val_loss)\n    opt.step()",
        "for epoch in range(10):\n    if epoch > 0:\n        scheduler.step()\n    train(model, optimizer)\n    optimizer.step()",
        "scheduler = DDPMScheduler(1000)\nfor batch in loader:\n    scheduler.step()\n    optimizer.step()",
        "for epoch in range(start, end):\n    if epoch != start:\n        scheduler.step()\n    optimizer.step()",
        # A recursive helper is inlined once, not forever.
        "def walk(n):\n    walk(n - 1)\nfor x in loader:\n    walk(3)\n    optimizer.step()\n    scheduler.step()",
    )
    INVALID = (
        "for epoch in range(10):\n    scheduler.step()\n    for x in loader:\n        optimizer.step()",
        "def train_one_epoch(model, optimizer):\n    for x in loader:\n        optimizer.step()\n"
        "for epoch in range(5):\n    lr_scheduler.step()\n    train_one_epoch(model, optimizer)",
        "import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, 10)\nwhile True:\n    sched.step()\n    scaler.step(opt)",
        # Re-wrapped by accelerate: still the same LR scheduler.
        "def train(model, optimizer, scheduler):\n    scheduler = accelerator.prepare(scheduler)\n"
        "    for x in loader:\n        scheduler.step()\n        optimizer.step()",
    )

    def check(self, ctx) -> None:
        for loop, scope in ctx.model.loops:
            events = loop_events(ctx.model, loop, scope, ctx.settings)
            for index, event in enumerate(events):
                if event.kind != SCHEDULER or not _is_lr_step(event) or event.skipped_on_first_iteration:
                    continue
                steps = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(event, e)]
                if steps and events.index(steps[0]) > index:
                    self._report(ctx, event, steps[0])

    def _report(self, ctx, scheduler: StepEvent, optimizer: StepEvent) -> None:
        module = ctx.module
        sched, opt = scheduler.label(module), optimizer.label(module)
        message = (
            f"`{sched}.step()` runs before `{opt}.step()` in this loop: torch warns and skips the first "
            "value of the schedule, so every later LR comes one step early."
        )
        hint = f"Call `{sched}.step()` after `{opt}.step()` (per batch right after it, or per epoch after the batch loop)."
        adjacent = scheduler.statement is not None and optimizer.statement is scheduler.next_statement
        if adjacent:
            ctx.report(scheduler.call, message, hint=hint, fix=f"Move `{sched}.step()` after `{opt}.step()`",
                       edits=[Swap(scheduler.call, optimizer.call)])
        else:
            ctx.report(scheduler.call, message, hint=hint)


def _is_lr_step(event: StepEvent) -> bool:
    """ReduceLROnPlateau (or a receiver given a metric) neither warns nor shifts its schedule."""
    if event.instance is not None and event.instance.cls is not None:
        return event.instance.cls != "ReduceLROnPlateau"
    return not event.call.args
