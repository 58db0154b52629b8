from optlint.findings import Severity
from optlint.static.loops import loop_events, optimizer_matches
from optlint.static.model import OPTIMIZER, SCHEDULER
from optlint.static.rule import Rule

PER_BATCH = frozenset({"OneCycleLR", "CyclicLR"})


class PerBatchSchedulerSteppedPerEpoch(Rule):
    """A OneCycleLR/CyclicLR stepped in an outer loop while its optimizer steps in an inner loop."""

    code = "OPT012"
    name = "per-batch-scheduler-stepped-per-epoch"
    severity = Severity.ERROR
    summary = "OneCycleLR/CyclicLR is stepped once per epoch while its optimizer steps per batch."

    VALID = (
        "from torch.optim.lr_scheduler import OneCycleLR\nsched = OneCycleLR(opt, max_lr=0.1, total_steps=n)\n"
        "for epoch in range(3):\n    for x in loader:\n        opt.step()\n        sched.step()",
        "import torch\nsched = torch.optim.lr_scheduler.StepLR(opt, 10)\n"
        "for epoch in range(3):\n    for x in loader:\n        opt.step()\n    sched.step()",
    )
    INVALID = (
        "import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=3, steps_per_epoch=len(loader))\n"
        "for epoch in range(3):\n    for x in loader:\n        opt.step()\n    sched.step()",
        "from torch.optim.lr_scheduler import CyclicLR\nclass T:\n    def setup(self):\n"
        "        self.sched = CyclicLR(self.opt, 1e-4, 1e-2)\n    def epoch(self):\n"
        "        for x in self.loader:\n            self.opt.step()\n    def fit(self):\n"
        "        for e in range(3):\n            self.epoch()\n            self.sched.step()",
    )

    def check(self, ctx) -> None:
        for loop, scope in ctx.model.loops:
            events = loop_events(ctx.model, loop, scope, ctx.settings)
            for event in events:
                if event.kind != SCHEDULER or event.depth != 0 or event.instance is None:
                    continue
                if event.instance.cls not in PER_BATCH:
                    continue
                steps = [e for e in events if e.kind == OPTIMIZER and optimizer_matches(event, e)]
                if steps and all(step.depth > 0 for step in steps):
                    self._report(ctx, event, steps[0])

    def _report(self, ctx, scheduler, optimizer) -> None:
        cls = scheduler.instance.cls
        sched, opt = scheduler.label(ctx.module), optimizer.label(ctx.module)
        ctx.report(
            scheduler.call,
            f"`{sched}` is a {cls}, stepped once per outer iteration while `{opt}` steps in an inner loop: "
            "the cycle is meant to span every batch, so stepped per epoch it never leaves warm-up.",
            hint=f"Call `{sched}.step()` right after `{opt}.step()` inside the batch loop.",
        )
