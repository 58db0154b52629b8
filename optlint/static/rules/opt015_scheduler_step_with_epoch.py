from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import argument, dotted, is_none, not_type_dispatched, scheduler_calls

# The argument of ReduceLROnPlateau.step is the metric; CosineAnnealingWarmRestarts documents
# `step(epoch + i / iters)` for restarts within an epoch.
EPOCH_IS_MEANT = frozenset({"ReduceLROnPlateau", "CosineAnnealingWarmRestarts"})


class SchedulerStepWithEpoch(Rule):
    """`scheduler.step(epoch)` on a torch scheduler whose epoch argument is deprecated.

    Passing the epoch sets the schedule's position instead of advancing it (through a closed-form
    formula where the class has one, ignoring other schedulers on the same optimizer); torch
    deprecates it.
    """

    code = "OPT015"

    VALID = (
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, 10)
            s.step()
        """),
        Valid("""
            from torch.optim import lr_scheduler
            s = lr_scheduler.CosineAnnealingWarmRestarts(opt, 10)
            s.step(epoch + i / n)
        """),
        Valid("""
            from torch.optim import lr_scheduler
            s = lr_scheduler.ReduceLROnPlateau(opt)
            s.step(val_loss)
        """),
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, 10)
            s.step(epoch=None)
        """),
        # `get_scheduler(...)` may build a ReduceLROnPlateau: its class is unknown.
        Valid("""
            from transformers import get_scheduler
            scheduler = get_scheduler(name, optimizer=opt)
            scheduler.step(val_loss)
        """),
        # timm and diffusion schedulers take their own step arguments.
        Valid("""
            from timm.scheduler import create_scheduler
            sched, _ = create_scheduler(args, opt)
            sched.step(epoch + 1)
        """),
        # Code that dispatches on the class steps each one its own way.
        Valid("""
            from torch.optim import lr_scheduler as S
            s = S.StepLR(opt, 10)
            if isinstance(s, S.CosineAnnealingWarmRestarts):
                s.step(epoch + i / n)
            else:
                s.step()
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, 10)
            for epoch in range(9):
                s.step(epoch)
        """, at="4:12"),
        Invalid("""
            from torch.optim.lr_scheduler import CosineAnnealingLR
            s = CosineAnnealingLR(opt, T_max=50)
            s.step(epoch=e)
        """, at="3:14"),
        Invalid("""
            from torch.optim import lr_scheduler
            class T:
                def __init__(self, opt):
                    self.sched = lr_scheduler.MultiStepLR(opt, [3, 6])
                def on_epoch_end(self, epoch):
                    self.sched.step(epoch)
        """, at="6:25"),
    )

    def check(self, ctx) -> None:
        given = {}  # site -> (epoch argument, scheduler class)
        for site, builds in scheduler_calls(ctx.model, "step"):
            epoch = argument(site.node, 0, "epoch")
            if epoch is not None and not is_none(epoch) and _deprecated(ctx, builds):
                given[site] = (epoch, builds[0].cls)
        for site in not_type_dispatched(ctx.model, list(given)):
            epoch, cls = given[site]
            ctx.report(
                epoch,
                f"`{cls}.step(epoch)` is deprecated: torch warns, and jumps the schedule to `epoch` (its closed"
                " form where it has one) instead of advancing it from the current LR.",
                hint=f"Call `{dotted(site.node.func.value)}.step()` once per epoch;"
                " to resume, build the scheduler with `last_epoch=`.",
            )


def _deprecated(ctx, builds) -> bool:
    return all(
        build.cls is not None
        and build.cls not in EPOCH_IS_MEANT
        and "epoch" in ctx.facts.schedulers[build.cls]["step_arguments"]
        for build in builds
    )
