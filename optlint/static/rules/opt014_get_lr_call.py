from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Replace, Rule
from optlint.static.semantic import dotted, scheduler_calls

# Their `get_*` schedule factories return torch schedulers (mostly `LambdaLR`). Their classes may
# override `get_lr` (transformers' `AdafactorSchedule` does), so only the factories count.
TORCH_SCHEDULE_FACTORIES = ("transformers", "diffusers")


class GetLrCall(Rule):
    """`scheduler.get_lr()` called from outside a scheduler class.

    `get_lr()` is the formula a scheduler runs *inside* `step()`; called from outside it computes
    the next value from the current one (or raises), instead of returning the LR in use.
    """

    code = "OPT014"

    VALID = (
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, 10)
            print(s.get_last_lr())
        """),
        # A scheduler subclass computes its schedule from another one's formula.
        Valid("""
            from torch.optim.lr_scheduler import LRScheduler, CosineAnnealingLR
            class Warmup(LRScheduler):
                def __init__(self, opt):
                    self.after = CosineAnnealingLR(opt, 10)
                def get_lr(self):
                    return self.after.get_lr()
        """),
        # A schedule class of the user's own, bound to a torch optimizer: its get_lr is its own.
        Valid("""
            import torch
            class NoamSchedule:
                def get_lr(self):
                    return 1.0
            opt = torch.optim.Adam(p)
            lr_sched = NoamSchedule(opt)
            lr_sched.get_lr()
        """),
        Valid("""
            def log(scheduler):
                return scheduler.get_lr()
        """),
        # A subclass that defines its own formula, or whose other base may define one.
        Valid("""
            import torch
            class Noam(torch.optim.lr_scheduler.LambdaLR):
                def get_lr(self):
                    return [1.0 for _ in self.base_lrs]
            class Logged(Mixin, torch.optim.lr_scheduler.LambdaLR):
                pass
            opt = torch.optim.Adam(p)
            Noam(opt, f).get_lr()
            scheduler = Logged(opt, f)
            scheduler.get_lr()
        """),
        Valid("""
            import torch
            from transformers.optimization import AdafactorSchedule
            opt = torch.optim.SGD(p)
            lr_scheduler = AdafactorSchedule(opt)
            lr_scheduler.get_lr()
        """),
    )
    INVALID = (
        # The project's own LambdaLR subclass runs LambdaLR's get_lr.
        Invalid("""
            import torch
            class Warmup(torch.optim.lr_scheduler.LambdaLR):
                pass
            warmup = Warmup(torch.optim.SGD(p), lambda step: min(1.0, step / 100))
            warmup.get_lr()
        """, at="5:1", fixed="""
            import torch
            class Warmup(torch.optim.lr_scheduler.LambdaLR):
                pass
            warmup = Warmup(torch.optim.SGD(p), lambda step: min(1.0, step / 100))
            warmup.get_last_lr()
        """),
        Invalid("""
            import torch
            s = torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)
            print(s.get_lr()[0])
        """, at="3:7", fixed="""
            import torch
            s = torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)
            print(s.get_last_lr()[0])
        """),
        Invalid("""
            from transformers import get_linear_schedule_with_warmup
            import torch
            opt = torch.optim.AdamW(m.parameters())
            scheduler = get_linear_schedule_with_warmup(opt, 100, 1000)
            lr = scheduler.get_lr()[0]
        """, at="5:6", fixed="""
            from transformers import get_linear_schedule_with_warmup
            import torch
            opt = torch.optim.AdamW(m.parameters())
            scheduler = get_linear_schedule_with_warmup(opt, 100, 1000)
            lr = scheduler.get_last_lr()[0]
        """),
        Invalid("""
            from torch.optim import lr_scheduler
            class T:
                def __init__(self, opt):
                    self.sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
                def log(self):
                    return self.sched.get_lr()
        """, at="6:16", fixed="""
            from torch.optim import lr_scheduler
            class T:
                def __init__(self, opt):
                    self.sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
                def log(self):
                    return self.sched.get_last_lr()
        """),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        for site, builds in scheduler_calls(model, "get_lr"):
            if not all(_is_torch_scheduler(model, build) for build in builds) or _inside_scheduler_class(model, site):
                continue
            receiver, method = dotted(site.node.func.value), site.node.func.attr
            subclass = next((build.subclass for build in builds if build.subclass is not None), None)
            ctx.report(
                site.node,
                "`get_lr()` is the scheduler's internal formula: torch warns (or raises NotImplementedError)"
                f" and it can differ from the LR in use{subclass.note('get_lr') if subclass else ''}."
                " Use `get_last_lr()`.",
                hint=f"Write `{receiver}.get_last_lr()`, a list with one LR per param group.",
                fix="Replace `get_lr()` with `get_last_lr()`",
                edits=[Replace(method, "get_last_lr")],
            )


def _is_torch_scheduler(model, build) -> bool:
    if build.cls is not None:
        return True
    if build.subclass is not None:
        return build.subclass.runs_torch("get_lr")
    factory = model.qualname(build.call.func, build.assignment.resolution_scope) or ""
    package, _, function = factory.rpartition(".")
    return package.split(".")[0] in TORCH_SCHEDULE_FACTORIES and function.startswith("get_")


def _inside_scheduler_class(model, site) -> bool:
    owner = site.scope.enclosing_class
    return owner is not None and model.is_scheduler_subclass(owner.node, owner.parent)
