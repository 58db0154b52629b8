"""`check_setup` and `assert_setup`: the runtime check of a live model, optimizer and scheduler."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from optlint.runtime import pipeline, ranks, several, simulate
from optlint.runtime.analysis import SchedulerSimulationError
from optlint.runtime.ranks import RankCheckError
from optlint.runtime.report import SetupReport

__all__ = ["check_setup", "assert_setup", "check_plan", "enforce", "OptimizerSetupError", "OptimizerSetupWarning",
           "SchedulerSimulationError", "RankCheckError"]


class OptimizerSetupError(AssertionError):
    """Raised by `assert_setup`; the message is the readable report, `.report` the report itself."""

    def __init__(self, report: SetupReport):
        super().__init__(str(report))
        self.report = report


class OptimizerSetupWarning(UserWarning):
    """Issued instead of OptimizerSetupError where a check is asked to warn (the training callbacks)."""


def check_setup(model, optimizer, scheduler=None, *, epochs: int | None = None, steps_per_epoch: int | None = None,
                scheduler_interval: str = "auto", select: Sequence[str] | None = None,
                ignore: Sequence[str] | None = None) -> SetupReport:
    """Check which tensors the optimizer trains and preview each group's learning rate.

    model: the module the optimizer trains; wrappers (DDP, DataParallel, torch.compile, FSDP, activation
        checkpointing), around it or around its submodules, are looked through, so names are the ones written.
    optimizer: a torch optimizer, or a list of the optimizers that together train the model (Muon for the
        matrices and AdamW for the rest): then a parameter is missing only when none holds it, one held by
        two is OPT102, and the report has one part per optimizer (`report[i]`).
    scheduler: None, an LR scheduler bound to `optimizer` (a resumed one continues from its state), or a
        factory such as `lambda opt: OneCycleLR(opt, ...)`, applied to a stand-in optimizer: with a
        factory OPT107 compares against the LRs the groups have now. With several optimizers: a list with
        one of those per optimizer, in their order, or one scheduler (placed with the optimizer it drives).
    epochs, steps_per_epoch: the length of the preview, `epochs * steps_per_epoch` optimizer steps; a longer
        run than simulate.MAX_PREVIEW_STEPS (100,000) is previewed up to there, and a note says so. Without both
        the preview is 5 epochs of 1 step, not the run, so OPT113 does not judge how much of the schedule it uses.
    scheduler_interval: "step" or "epoch" (when the loop calls `scheduler.step()`); "auto" is "step"
        for OneCycleLR, CyclicLR and the Hugging Face schedules (a LambdaLR whose lambda is a functools.partial
        given `num_training_steps`/`num_warmup_steps`), "epoch" otherwise, and the report's first line says it
        is a guess.
    select, ignore: rule codes or prefixes ("OPT10") to report or leave out. The opt-in rules (OPT110
        weight decay on norms, biases and embeddings; OPT111 Adam with coupled weight decay) run only
        when selected by their full code: select=["OPT1", "OPT110"].

    Nothing real is changed or stepped: the schedule is torch's own, replayed on a stand-in optimizer, with
    copies of the functions the scheduler calls and of what they close over (see isolation.py).
    A scheduler that raises within the preview (the real run would) is the finding OPT116.
    """
    return check_plan(model, optimizer, scheduler, preview_plan(epochs, steps_per_epoch, scheduler_interval),
                      select=select, ignore=ignore)


def preview_plan(epochs: int | None, steps_per_epoch: int | None, interval: str) -> simulate.Plan:
    """The plan of `epochs` epochs of `steps_per_epoch` steps; 5 epochs of 1 step, of unknown length, without them."""
    return simulate.Plan(5 if epochs is None else epochs, 1 if steps_per_epoch is None else steps_per_epoch, interval,
                         length_known=epochs is not None and steps_per_epoch is not None)


def check_plan(model, optimizer, scheduler, plan: simulate.Plan, *, select: Sequence[str] | None = None,
               ignore: Sequence[str] | None = None, lrs_before: dict[int, list[float]] | None = None) -> SetupReport:
    """`check_setup` with the training loop given as a plan (a frequency, a run that stops mid-epoch), and the
    group LRs recorded before each optimizer's first scheduler was built (by `optlint runtime`), by id."""
    if not several.is_several(optimizer):
        return pipeline.check(model, [optimizer], [scheduler], plan, select=select, ignore=ignore,
                              lrs_before=lrs_before)
    optimizers = list(optimizer)
    notes = [[several.note_for(index, len(optimizers))] for index in range(len(optimizers))]
    return pipeline.check(model, optimizers, several.schedulers_for(optimizers, scheduler), plan, select=select,
                          ignore=ignore, lrs_before=lrs_before, notes=notes)


def assert_setup(model, optimizer, scheduler=None, *, epochs: int | None = None, steps_per_epoch: int | None = None,
                 scheduler_interval: str = "auto", select: Sequence[str] | None = None,
                 ignore: Sequence[str] | None = None, strict: bool = False, all_ranks: bool = True) -> SetupReport:
    """`check_setup`, raising `OptimizerSetupError` on an error finding (on any finding when `strict`).

    Under torch.distributed (an initialized default process group) it is a collective, to call on every
    rank: each rank checks its own model and optimizer, the findings of all ranks are combined (one found
    on some ranks only names them: "on rank 1 of 2: ..."), and every rank returns, or raises, the same. A
    check that raises on one rank (bad arguments) raises there, and `RankCheckError` on the others.
    `all_ranks=False` checks this rank alone, for a call made on one rank only.
    """
    def check() -> SetupReport:
        return check_setup(model, optimizer, scheduler, epochs=epochs, steps_per_epoch=steps_per_epoch,
                           scheduler_interval=scheduler_interval, select=select, ignore=ignore)

    return enforce(check, strict=strict, all_ranks=all_ranks)


def enforce(check: Callable[[], SetupReport], *, strict: bool = False, warn: bool = False,
            all_ranks: bool = True) -> SetupReport:
    """Run `check` (on every rank, see `assert_setup`) and raise OptimizerSetupError on an error finding (any
    finding when `strict`); with `warn`, issue an OptimizerSetupWarning on rank 0 instead and return the report."""
    report = ranks.check_every_rank(check) if all_ranks else check()
    if report.ok and not (strict and report.findings):
        return report
    if not warn:
        raise OptimizerSetupError(report)
    if not all_ranks or ranks.world()[0] == 0:
        warnings.warn(str(report), OptimizerSetupWarning, stacklevel=3)
    return report
