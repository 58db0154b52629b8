from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule, Swap
from optlint.static.semantic import OPTIMIZER, SCHEDULER, StepEvent, optimizer_matches, step_sequences


class SchedulerStepBeforeOptimizerStep(Rule):
    """In a loop, a scheduler steps before its optimizer's first step in that loop body.

    An ignite engine's epoch is such a loop: handlers on `Events.EPOCH_STARTED` and
    `Events.ITERATION_STARTED` run before the update function steps the optimizer.
    """

    code = "OPT011"

    VALID = (
        Valid("""
            for epoch in range(10):
                for x in loader:
                    optimizer.step()
                scheduler.step()
        """),
        Valid("""
            for x in loader:
                loss.backward()
                scaler.step(optimizer)
                scaler.update()
                lr_scheduler.step()
        """),
        # Diffusion sampling: a noise scheduler, not an LR scheduler.
        Valid("""
            for t in timesteps:
                x = noise_scheduler.step(out, t, x).prev_sample
                optimizer.step()
        """),
        # ReduceLROnPlateau neither warns nor skips a value.
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            sched = ReduceLROnPlateau(opt)
            for epoch in range(3):
                sched.step(val_loss)
                opt.step()
        """),
        Valid("""
            for epoch in range(10):
                if epoch > 0:
                    scheduler.step()
                train(model, optimizer)
                optimizer.step()
        """),
        Valid("""
            scheduler = DDPMScheduler(1000)
            for batch in loader:
                scheduler.step()
                optimizer.step()
        """),
        Valid("""
            for epoch in range(start, end):
                if epoch != start:
                    scheduler.step()
                optimizer.step()
        """),
        # ignite runs EPOCH_COMPLETED handlers after the epoch's updates.
        Valid("""
            from ignite.engine import Engine, Events
            def update(engine, batch):
                optimizer.step()
            trainer = Engine(update)
            trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda engine: scheduler.step())
        """),
        # A recursive helper is inlined once, not forever.
        Valid("""
            def walk(n):
                walk(n - 1)
            for x in loader:
                walk(3)
                optimizer.step()
                scheduler.step()
        """),
    )
    INVALID = (
        # ignite runs EPOCH_STARTED handlers before the epoch's first update.
        Invalid("""
            from ignite.engine import Engine, Events
            def update(engine, batch):
                optimizer.step()
            trainer = Engine(update)
            @trainer.on(Events.EPOCH_STARTED)
            def adjust_lr(engine):
                scheduler.step()
        """, at="7:5"),
        Invalid("""
            for epoch in range(10):
                scheduler.step()
                for x in loader:
                    optimizer.step()
        """, at="2:5"),
        Invalid("""
            def train_one_epoch(model, optimizer):
                for x in loader:
                    optimizer.step()
            for epoch in range(5):
                lr_scheduler.step()
                train_one_epoch(model, optimizer)
        """, at="5:5"),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            while True:
                sched.step()
                scaler.step(opt)
        """, at="5:5", fixed="""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            while True:
                scaler.step(opt)
                sched.step()
        """),
        # Re-wrapped by accelerate: still the same LR scheduler.
        Invalid("""
            def train(model, optimizer, scheduler):
                scheduler = accelerator.prepare(scheduler)
                for x in loader:
                    scheduler.step()
                    optimizer.step()
        """, at="4:9", fixed="""
            def train(model, optimizer, scheduler):
                scheduler = accelerator.prepare(scheduler)
                for x in loader:
                    optimizer.step()
                    scheduler.step()
        """),
        # The swapped steps take their own comments along.
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in data:
                sched.step()  # decay the lr
                opt.step()  # update
        """, at="5:5", fixed="""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in data:
                opt.step()  # update
                sched.step()  # decay the lr
        """),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in data:
                sched.step()  # decay the lr
                opt.step()
        """, at="5:5", fixed="""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x in data:
                opt.step()
                sched.step()  # decay the lr
        """),
    )

    def check(self, ctx) -> None:
        for _, _, events in step_sequences(ctx.model, ctx.settings):
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
            f"`{sched}.step()` runs before `{opt}.step()` in this loop{optimizer.origin_note()}: torch warns and "
            "skips the first value of the schedule, so every later LR comes one step early."
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
    return not event.has_arguments
