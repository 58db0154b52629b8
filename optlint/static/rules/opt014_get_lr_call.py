from optlint.static.model import dotted
from optlint.static.rule import Replace, Rule
from optlint.static.rules._scheduler_calls import scheduler_calls

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
        "import torch\ns = torch.optim.lr_scheduler.StepLR(opt, 10)\nprint(s.get_last_lr())",
        # A scheduler subclass computes its schedule from another one's formula.
        "from torch.optim.lr_scheduler import LRScheduler, CosineAnnealingLR\nclass Warmup(LRScheduler):\n"
        "    def __init__(self, opt):\n        self.after = CosineAnnealingLR(opt, 10)\n"
        "    def get_lr(self):\n        return self.after.get_lr()",
        # A schedule class of the user's own, bound to a torch optimizer: its get_lr is its own.
        "import torch\nclass NoamSchedule:\n    def get_lr(self):\n        return 1.0\n"
        "opt = torch.optim.Adam(p)\nlr_sched = NoamSchedule(opt)\nlr_sched.get_lr()",
        "def log(scheduler):\n    return scheduler.get_lr()",
        "import torch\nfrom transformers.optimization import AdafactorSchedule\nopt = torch.optim.SGD(p)\n"
        "lr_scheduler = AdafactorSchedule(opt)\nlr_scheduler.get_lr()",
    )
    INVALID = (
        "import torch\ns = torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)\nprint(s.get_lr()[0])",
        "from transformers import get_linear_schedule_with_warmup\nimport torch\n"
        "opt = torch.optim.AdamW(m.parameters())\nscheduler = get_linear_schedule_with_warmup(opt, 100, 1000)\n"
        "lr = scheduler.get_lr()[0]",
        "from torch.optim import lr_scheduler\nclass T:\n    def __init__(self, opt):\n"
        "        self.sched = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)\n"
        "    def log(self):\n        return self.sched.get_lr()",
    )

    def check(self, ctx) -> None:
        model = ctx.model
        for site, builds in scheduler_calls(model, "get_lr"):
            if not all(_is_torch_scheduler(model, build) for build in builds) or _inside_scheduler_class(model, site):
                continue
            receiver, method = dotted(site.node.func.value), site.node.func.attr
            ctx.report(
                site.node,
                "`get_lr()` is the scheduler's internal formula: torch warns (or raises NotImplementedError)"
                " and it can differ from the LR in use. Use `get_last_lr()`.",
                hint=f"Write `{receiver}.get_last_lr()`, a list with one LR per param group.",
                fix="Replace `get_lr()` with `get_last_lr()`",
                edits=[Replace(method, "get_last_lr")],
            )


def _is_torch_scheduler(model, build) -> bool:
    if build.cls is not None:
        return True
    factory = model.qualname(build.call.func, build.assignment.resolution_scope) or ""
    package, _, function = factory.rpartition(".")
    return package.split(".")[0] in TORCH_SCHEDULE_FACTORIES and function.startswith("get_")


def _inside_scheduler_class(model, site) -> bool:
    owner = site.scope.enclosing_class
    return owner is not None and model.is_scheduler_subclass(owner.node, owner.parent)
