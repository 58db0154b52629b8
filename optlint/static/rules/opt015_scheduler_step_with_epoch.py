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
        # A subclass whose own step takes the epoch (GradualWarmupScheduler).
        Valid("""
            from torch.optim.lr_scheduler import LRScheduler, StepLR
            class Warmup(StepLR):
                def step(self, epoch=None, metrics=None):
                    super().step()
            scheduler = Warmup(opt, 10)
            scheduler.step(epoch)
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
        # The project's own subclass runs LambdaLR's step.
        Invalid("""
            import torch
            class WarmupLinear(torch.optim.lr_scheduler.LambdaLR):
                def __init__(self, optimizer, warmup_steps, t_total):
                    super().__init__(optimizer, lambda step: min(step / warmup_steps, 1.0))
            scheduler = WarmupLinear(torch.optim.SGD(p), 10, 100)
            scheduler.step(epoch)
        """, at="6:16"),
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
        given = {}  # site -> (epoch argument, the first build)
        for site, builds in scheduler_calls(ctx.model, "step"):
            epoch = argument(site.node, 0, "epoch")
            if epoch is not None and not is_none(epoch) and _deprecated(ctx, builds):
                given[site] = (epoch, builds[0])
        for site in not_type_dispatched(ctx.model, list(given)):
            epoch, build = given[site]
            receiver = dotted(site.node.func.value)
            label, note = (build.cls, "") if build.cls else (receiver, build.subclass.note("step"))
            ctx.report(
                epoch,
                f"`{label}.step(epoch)` is deprecated{note}: torch warns, and jumps the schedule to `epoch` (its"
                " closed form where it has one) instead of advancing it from the current LR.",
                hint=f"Call `{receiver}.step()` once per epoch;"
                " to resume, build the scheduler with `last_epoch=`.",
            )


def _deprecated(ctx, builds) -> bool:
    classes = [_stepping_class(build) for build in builds]
    return all(
        cls is not None and cls not in EPOCH_IS_MEANT and "epoch" in ctx.facts.schedulers[cls]["step_arguments"]
        for cls in classes
    )


def _stepping_class(build) -> str | None:
    """The torch class whose `step` runs: the build's, or the one a project subclass inherits it from."""
    if build.cls is not None:
        return build.cls
    subclass = build.subclass
    return subclass.torch_class if subclass is not None and subclass.runs_torch("step") else None

