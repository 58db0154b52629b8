from __future__ import annotations

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import CallSite, Instance, add_param_group_calls, differs_by_release, runs_before


class ParamGroupAddedAfterScheduler(Rule):
    """`opt.add_param_group(...)` after a scheduler bound to `opt` was built, when its class mishandles it."""

    code = "OPT017"

    VALID = (
        # StepLR handles a group added later.
        Valid("""
            import torch
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            opt.add_param_group({'params': body.parameters()})
        """),
        # The scheduler is built after the last group is added.
        Valid("""
            import torch
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            opt.add_param_group({'params': body.parameters(), 'lr': 1e-5})
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)
        """),
        # Rebuilt after unfreezing.
        Valid("""
            import torch
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10)
            opt.add_param_group({'params': body.parameters()})
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 10, last_epoch=-1)
        """),
        # A user subclass: the simulation decides at runtime, not the linter.
        Valid("""
            import torch
            class Warmup(torch.optim.lr_scheduler.LRScheduler):
                pass
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = Warmup(opt)
            opt.add_param_group({'params': body.parameters()})
        """),
        # A chain of schedulers that all handle a new group handles it too.
        Valid("""
            import torch
            from torch.optim.lr_scheduler import ChainedScheduler, StepLR, ExponentialLR
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = ChainedScheduler([StepLR(opt, 2), ExponentialLR(opt, 0.9)], optimizer=opt)
            opt.add_param_group({'params': body.parameters()})
        """),
        # Rebuilt after unfreezing, children inline.
        Valid("""
            import torch
            from torch.optim.lr_scheduler import ChainedScheduler, ConstantLR
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = ChainedScheduler([ConstantLR(opt)])
            opt.add_param_group({'params': body.parameters()})
            sched = ChainedScheduler([ConstantLR(opt)])
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.AdamW(head.parameters(), lr=1e-3)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
            opt.add_param_group({'params': backbone.parameters(), 'lr': 1e-5})
        """, at="4:1"),
        Invalid("""
            from torch.optim import SGD
            from torch.optim.lr_scheduler import LinearLR
            class FineTuner:
                def __init__(self, model):
                    self.opt = SGD(model.head.parameters(), lr=1e-3)
                    self.sched = LinearLR(self.opt, start_factor=0.1)
                def unfreeze(self, model):
                    self.opt.add_param_group({'params': model.body.parameters()})
        """, at="8:9"),
        # Added from a lambda a method keeps for later.
        Invalid("""
            import torch
            class FineTuner:
                def __init__(self, model):
                    self.opt = torch.optim.SGD(model.head.parameters(), lr=1e-3)
                    self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lambda e: 0.9 ** e)
                    self.unfreeze = lambda: self.opt.add_param_group({'params': model.body.parameters()})
        """, at="6:33"),
        # The chain's ConstantLR is built where no name holds it.
        Invalid("""
            import torch
            from torch.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
            opt = torch.optim.SGD(head.parameters(), lr=1e-3)
            sched = ChainedScheduler([ConstantLR(opt, factor=0.2), ExponentialLR(opt, gamma=0.9)])
            opt.add_param_group({'params': body.parameters(), 'lr': 1e-4})
        """, at="5:1"),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        for site, optimizer in add_param_group_calls(model):
            stale = [
                (behaviour, scheduler)
                for scheduler in model.scheduler_builds()
                if (behaviour := _added_group_behaviour(ctx.facts, scheduler)) != "ok"
                and scheduler.optimizer is not None
                and scheduler.optimizer.call is optimizer.call
                and runs_before(model, scheduler.assignment, site)
                and not _rebuilt_after(model, scheduler, site)
            ]
            if stale:  # one finding per call; a scheduler that raises says the most
                behaviour, scheduler = min(stale, key=lambda found: not found[0].startswith("raises"))
                ctx.report(site.node, _message(scheduler, behaviour, ctx.facts), hint=HINT)


HINT = (
    "Build the scheduler after the last group is added, pass every group up front (lr=0 until it is "
    "unfrozen, with a scheduler that keeps 0 at 0), or rebuild the scheduler after unfreezing."
)


def _message(scheduler: Instance, behaviour: str, target) -> str:
    if behaviour.startswith("raises"):
        error = behaviour.partition(":")[2]
        what = f"a later `step()` raises {error}: the run dies when the schedule next needs the new group"
    else:
        what = "the new group's LR is silently rescaled from another group's base LR (its own `lr` is lost)"
    varies = differs_by_release(lambda table: _added_group_behaviour(table, scheduler))
    release = f" (torch {target.minor}; other releases differ)" if varies else ""
    return f"Param group added after `{scheduler.cls}` was built: it does not know the new group, so {what}{release}."


def _added_group_behaviour(table, scheduler: Instance) -> str:
    """What torch does with a group added after this scheduler was built. A container built from
    other schedulers (`ChainedScheduler([...])`) only steps its children, which are builds themselves."""
    entry = table.schedulers.get(scheduler.cls or "", {})
    if entry.get("positional", [""])[0] == "schedulers":
        return "ok"
    return entry.get("added_group", "ok")


def _rebuilt_after(model, scheduler: Instance, site: CallSite) -> bool:
    """The same variable or attribute is assigned a new scheduler after the group was added (for a
    build no name holds: another unnamed build follows in the same scope)."""
    for other in model.scheduler_builds():
        same_target = (
            other.assignment.target == scheduler.assignment.target and other.assignment.scope is scheduler.assignment.scope
        )
        if same_target and other.assignment.order > site.order:
            return True
    return False
