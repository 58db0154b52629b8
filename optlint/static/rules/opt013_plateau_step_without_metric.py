import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import LightningScheduler, lightning_schedulers, not_type_dispatched, scheduler_calls

PLATEAU = "ReduceLROnPlateau"


class PlateauStepWithoutMetric(Rule):
    """`ReduceLROnPlateau.step()` called without the metric it watches.

    Unlike every other scheduler, `ReduceLROnPlateau` decides from a measured value: its `step`
    takes the validation loss (or accuracy) as its first argument. Lightning steps it with the metric
    that `configure_optimizers` names as its `monitor`, and refuses to train without one.
    """

    code = "OPT013"

    VALID = (
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            s.step(val_loss)
        """),
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            s.step(metrics=acc)
        """),
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            s.step(*args)
        """),
        # Unknown class: `get_scheduler` may or may not build a plateau scheduler.
        Valid("""
            from transformers import get_scheduler
            scheduler = get_scheduler('linear', optimizer=opt)
            scheduler.step()
        """),
        Valid("""
            from torch.optim import lr_scheduler
            s = lr_scheduler.StepLR(opt, 10)
            s.step()
        """),
        # Code that dispatches on the scheduler's class handles the other classes.
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            if isinstance(s, ReduceLROnPlateau):
                s.step(loss)
            else:
                s.step()
        """),
        # Reassigned from something unknown: the class is not provable.
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            s = build(cfg)
            s.step()
        """),
        Valid("""
            import lightning as L
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            class Model(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.SGD(self.parameters(), lr=0.1)
                    return {"optimizer": opt, "lr_scheduler": ReduceLROnPlateau(opt), "monitor": "val_loss"}
        """),
        # A conventional name alone resolves nothing here.
        Valid("""
            def train(scheduler):
                scheduler.step()
        """),
    )
    INVALID = (
        Invalid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
            s.step()
        """, at="3:1"),
        Invalid("""
            import lightning as L
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            class Model(L.LightningModule):
                def configure_optimizers(self):
                    opt = torch.optim.SGD(self.parameters(), lr=0.1)
                    return [opt], [ReduceLROnPlateau(opt)]
        """, at="6:24"),
        Invalid("""
            import torch
            s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, 'max')
            s.step(epoch=3)
        """, at="3:1"),
        Invalid("""
            from torch.optim import lr_scheduler as S
            class T:
                def __init__(self, opt):
                    self.sched = S.ReduceLROnPlateau(opt)
                def end_epoch(self):
                    self.sched.step()
        """, at="6:9"),
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
                hint=f"Pass the validation metric: `{ctx.module.code_for_node(site.node.func.value)}.step(val_loss)`.",
            )
        for returned in lightning_schedulers(ctx.model):
            if _returned_without_monitor(returned):
                sched = ctx.module.code_for_node(returned.scheduler)
                ctx.report(
                    returned.config,
                    "`configure_optimizers` returns this ReduceLROnPlateau without a `monitor`: Lightning steps it with"
                    " the monitored metric, and raises MisconfigurationException (\"must include a monitor\") at `fit`.",
                    hint=f'Name the metric it watches: `{{"scheduler": {sched}, "monitor": "val_loss"}}`.',
                )


def _returned_without_monitor(returned: LightningScheduler) -> bool:
    """A plateau that Lightning steps itself (automatic optimization), with no monitor to step it on."""
    instance = returned.instance
    return (instance is not None and instance.cls == PLATEAU and returned.automatic and returned.monitor is None
            and "reduce_on_plateau" not in returned.options)


def _has_metric(call: cst.Call) -> bool:
    """A positional argument, `metrics=`, or `*args`/`**kwargs` that may hold it."""
    return any(arg.star or arg.keyword is None or arg.keyword.value == "metrics" for arg in call.args)
