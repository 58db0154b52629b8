import libcst as cst

from optlint.static.model import dotted
from optlint.static.rule import Rule
from optlint.static.rules._scheduler_calls import scheduler_calls, not_type_dispatched

PLATEAU = "ReduceLROnPlateau"


class PlateauStepWithoutMetric(Rule):
    """`ReduceLROnPlateau.step()` called without the metric it watches.

    Unlike every other scheduler, `ReduceLROnPlateau` decides from a measured value: its `step`
    takes the validation loss (or accuracy) as its first argument.
    """

    code = "OPT013"

    VALID = (
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\ns.step(val_loss)",
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\ns.step(metrics=acc)",
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\ns.step(*args)",
        # Unknown class: `get_scheduler` may or may not build a plateau scheduler.
        "from transformers import get_scheduler\nscheduler = get_scheduler('linear', optimizer=opt)\nscheduler.step()",
        "from torch.optim import lr_scheduler\ns = lr_scheduler.StepLR(opt, 10)\ns.step()",
        # Code that dispatches on the scheduler's class handles the other classes.
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\n"
        "if isinstance(s, ReduceLROnPlateau):\n    s.step(loss)\nelse:\n    s.step()",
        # Reassigned from something unknown: the class is not provable.
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\ns = build(cfg)\ns.step()",
        # A conventional name alone resolves nothing here.
        "def train(scheduler):\n    scheduler.step()",
    )
    INVALID = (
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)\ns.step()",
        "import torch\ns = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, 'max')\ns.step(epoch=3)",
        "from torch.optim import lr_scheduler as S\nclass T:\n    def __init__(self, opt):\n"
        "        self.sched = S.ReduceLROnPlateau(opt)\n    def end_epoch(self):\n        self.sched.step()",
    )

    def check(self, ctx) -> None:
        missing = [
            site
            for site, builds in scheduler_calls(ctx.model, "step")
            if all(build.cls == PLATEAU for build in builds) and not _has_metric(site.node)
        ]
        for site in not_type_dispatched(ctx.model, missing):
            ctx.report(
                site.node,
                "`ReduceLROnPlateau.step()` needs the metric it watches: torch raises TypeError"
                " (missing 1 required positional argument: 'metrics').",
                hint=f"Pass the validation metric: `{dotted(site.node.func.value)}.step(val_loss)`.",
            )


def _has_metric(call: cst.Call) -> bool:
    """A positional argument, `metrics=`, or `*args`/`**kwargs` that may hold it."""
    return any(arg.star or arg.keyword is None or arg.keyword.value == "metrics" for arg in call.args)
