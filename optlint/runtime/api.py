"""`check_setup` and `assert_setup`: the runtime check of a live model, optimizer and scheduler."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.optim import lr_scheduler

from optlint.findings import Finding, decide
from optlint.runtime import ranks, schedule_checks, several, simulate
from optlint.runtime.codes import RUNTIME_RULES, selector_problem
from optlint.runtime.coverage import Coverage, check_coverage
from optlint.runtime.keys import check_group_keys
from optlint.runtime.naming import common_prefix
from optlint.runtime.report import GroupInfo, SetupReport, every, setting
from optlint.runtime.several import SetupReports
from optlint.runtime.unwrap import is_scheduler, unwrap_model, unwrap_optimizer, unwrap_scheduler
from optlint.runtime.weight_decay import weight_decay_findings

INTERVALS = ("auto", "epoch", "step")
# Schedulers that write every group's `lr` in their constructor: the LRs set before are gone afterwards.
OVERWRITE_GROUP_LRS = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
# Settings that tell two groups over the same modules apart in the table (decay / no-decay).
DISTINGUISHING_KEYS = ("weight_decay", "lr")
SHORT_KEYS = {"weight_decay": "wd"}
NOT_SETTINGS = {"params", "param_names", "initial_lr"}
LABEL_WIDTH = 40
OPT_IN = {info.code for info in RUNTIME_RULES if not info.default_enabled}
FOLD_AT_MOST = 5000  # larger groups are named by their common module prefix: folding them costs seconds


class OptimizerSetupError(AssertionError):
    """Raised by `assert_setup`; the message is the readable report, `.report` the report itself."""

    def __init__(self, report: SetupReport):
        super().__init__(str(report))
        self.report = report


class OptimizerSetupWarning(UserWarning):
    """Issued instead of OptimizerSetupError where a check is asked to warn (the training callbacks)."""


class SchedulerSimulationError(ValueError):
    """The scheduler raised while its schedule was simulated: the real run would raise at that step."""


def check_setup(model, optimizer, scheduler=None, *, epochs: int = 5, steps_per_epoch: int = 1,
                scheduler_interval: str = "auto", select: Sequence[str] | None = None,
                ignore: Sequence[str] | None = None) -> SetupReport | SetupReports:
    """Check which tensors the optimizer trains and preview each group's learning rate.

    model: the module the optimizer trains; wrappers (DDP, DataParallel, torch.compile, FSDP, activation
        checkpointing), around it or around its submodules, are looked through, so names are the ones written.
    optimizer: a torch optimizer, or a list of the optimizers that together train the model (Muon for the
        matrices and AdamW for the rest): then a parameter is missing only when none holds it, one held by
        two is OPT102, and the result is a SetupReports, one SetupReport per optimizer.
    scheduler: None, an LR scheduler bound to `optimizer` (a resumed one continues from its state), or a
        factory such as `lambda opt: OneCycleLR(opt, ...)`, applied to a stand-in optimizer: with a
        factory OPT107 compares against the LRs the groups have now. With several optimizers: a list with
        one of those per optimizer, in their order, or one scheduler (placed with the optimizer it drives).
    epochs, steps_per_epoch: the length of the preview, `epochs * steps_per_epoch` optimizer steps; a longer
        run than simulate.MAX_PREVIEW_STEPS (100,000) is previewed up to there, and a note says so.
    scheduler_interval: "step" or "epoch" (when the loop calls `scheduler.step()`); "auto" is "step"
        for OneCycleLR and CyclicLR, "epoch" otherwise.
    select, ignore: rule codes or prefixes ("OPT10") to report or leave out. The opt-in rules (OPT110
        weight decay on norms, biases and embeddings; OPT111 Adam with coupled weight decay) run only
        when selected by their full code: select=["OPT1", "OPT110"].

    Nothing real is changed or stepped: the schedule is torch's own, replayed on a stand-in optimizer, with
    copies of the functions the scheduler calls and of what they close over (see isolation.py).
    Raises SchedulerSimulationError when the scheduler raises within the preview (the real run would).
    """
    return inspect_any(model, optimizer, scheduler, plan=simulate.Plan(epochs, steps_per_epoch, scheduler_interval),
                       select=select, ignore=ignore)


def assert_setup(model, optimizer, scheduler=None, *, epochs: int = 5, steps_per_epoch: int = 1,
                 scheduler_interval: str = "auto", select: Sequence[str] | None = None,
                 ignore: Sequence[str] | None = None, strict: bool = False, all_ranks: bool = True) -> SetupReport | SetupReports:
    """`check_setup`, raising `OptimizerSetupError` on an error finding (on any finding when `strict`).

    Under torch.distributed (an initialized default process group) it is a collective, to call on every
    rank: each rank checks its own model and optimizer, the findings of all ranks are combined (one found
    on some ranks only names them: "on rank 1 of 2: ..."), and every rank returns, or raises, the same. A
    check that raises on one rank (bad arguments) raises there, and `ranks.RankCheckError` on the others.
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


def inspect_setup(model, optimizer, scheduler, *, plan: simulate.Plan, select: Sequence[str] | None = None,
                  ignore: Sequence[str] | None = None, lrs_before: dict[int, list[float]] | None = None,
                  trained_elsewhere: frozenset[int] = frozenset()) -> SetupReport:
    """`check_setup` with the training loop given as a plan (a frequency, a run that stops mid-epoch), plus:
    lrs_before: the group LRs recorded before each optimizer's first scheduler was built, by id of the
        optimizer (what `optlint runtime` observes while the factory runs);
    trained_elsewhere: ids of the model's parameters that other optimizers train (not missing from this one).
    """
    _check_options(plan, select, ignore)
    plan, cut = plan.capped()
    outer_model, model = model, unwrap_model(model)
    optimizer, aliases = unwrap_optimizer(optimizer)
    _check_objects(model, optimizer)
    groups = optimizer.param_groups
    coverage = check_coverage(model, groups, trained_elsewhere)
    labels = group_labels(coverage, groups)
    now = simulate.lr_list(optimizer)
    enabled = enabled_codes(select, ignore)
    findings = coverage.findings + check_group_keys(optimizer, groups)
    if enabled & OPT_IN:
        findings += weight_decay_findings(model, optimizer, coverage)
    scheduler, shown_name, notes = _scheduler_to_replay(unwrap_scheduler(scheduler), optimizer, aliases, now, findings)
    notes += [cut] if cut else []
    preview = simulate.preview(optimizer, aliases, scheduler, model=outer_model, plan=plan)
    if preview.stop and preview.known_groups is None:
        raise SchedulerSimulationError(_simulation_error(preview))
    if preview.shared:
        notes.append(f"the preview shares {', '.join(preview.shared)} with the real run, as it cannot be copied: "
                     "what the scheduler changes there, the real run sees")
    if preview.assumes_a_metric:
        notes.append("ReduceLROnPlateau follows a metric: the preview assumes it never improves, so the LRs drop "
                     "at the earliest epochs they can")
    before = _lrs_before(scheduler, optimizer, aliases, lrs_before, now, notes)
    live = [n > 0 for n in coverage.group_tensors]
    findings += _schedule_findings(preview, before, labels, live, plan.steps_per_epoch)
    return SetupReport(
        findings=[f for f in findings if f.code in enabled],
        groups=[GroupInfo(i, labels[i], now[i], coverage.group_tensors[i], coverage.group_elements[i],
                          tuple(coverage.group_names[i])) for i in range(len(groups))],
        schedule=preview.schedule,
        epochs=plan.epochs,
        steps_per_epoch=plan.steps_per_epoch,
        interval=preview.interval,
        frequency=plan.frequency,
        optimizer_name=type(optimizer).__name__,
        scheduler_name=shown_name or preview.scheduler_name,
        stop=preview.stop,
        notes=notes,
        scheduler_drives_this_optimizer=shown_name is None,
    )


def inspect_any(model, optimizer, scheduler, **options) -> SetupReport | SetupReports:
    """`inspect_setup` for one optimizer, `inspect_several` for a list of them."""
    inspect = inspect_several if several.is_several(optimizer) else inspect_setup
    return inspect(model, optimizer, scheduler, **options)


def inspect_several(model, optimizers: Sequence, schedulers, *, plan: simulate.Plan,
                    select: Sequence[str] | None = None, ignore: Sequence[str] | None = None,
                    lrs_before: dict[int, list[float]] | None = None) -> SetupReports:
    """`inspect_setup` for each of several optimizers that train one model (see `check_setup`)."""
    for optimizer in optimizers:
        _check_objects(unwrap_model(model), unwrap_optimizer(optimizer)[0])
    placed = several.schedulers_for(optimizers, schedulers)
    shared = several.shared_between(model, optimizers)
    enabled = enabled_codes(select, ignore)
    reports = SetupReports()
    for index, (optimizer, scheduler) in enumerate(zip(optimizers, placed)):
        elsewhere = several.not_missing_from(model, list(optimizers), index)
        report = inspect_setup(model, optimizer, scheduler, plan=plan, select=select, ignore=ignore,
                               lrs_before=lrs_before, trained_elsewhere=elsewhere)
        report.findings += [finding for finding in shared.get(index, []) if finding.code in enabled]
        report.notes.append(several.note_for(index, optimizers))
        reports.append(report)
    return reports


def _scheduler_to_replay(scheduler, optimizer, aliases: list, now: list[float], findings: list):
    """The scheduler (or factory) whose schedule this optimizer really follows, a name to show when that
    is none, and notes. A scheduler of another optimizer (OPT109) leaves this one's LRs constant."""
    if is_scheduler(scheduler) and not any(scheduler.optimizer is a for a in aliases):
        other = unwrap_optimizer(scheduler.optimizer)[0]
        if other is not optimizer:
            findings.append(schedule_checks.bound_elsewhere(type(scheduler).__name__, other, optimizer, now))
            return None, type(scheduler).__name__, []
        aliases.append(scheduler.optimizer)
    if scheduler is not None and not is_scheduler(scheduler) and not callable(scheduler):
        note = f"{type(scheduler).__name__} is not a torch LR scheduler: the preview shows the current LRs"
        return None, None, [note]
    return scheduler, None, []


def group_labels(coverage: Coverage, groups: list[dict]) -> list[str]:
    """What to call each group in the table: `backbone.*`, `cls_token, pos_embed, patch_embed.*`,
    `* but head.*`; with a setting when two groups cover the same modules (`* weight_decay=0.0`)."""
    labels = []
    for names, tensors in zip(coverage.group_names, coverage.group_tensors):
        label = _modules_of(coverage.tree, names) if names else "empty" if not tensors else "not in the model"
        foreign = tensors - len(names)
        labels.append(f"{label} +{foreign} foreign" if names and foreign else label)
    for label in {label for label in labels if labels.count(label) > 1}:
        same = [i for i, other in enumerate(labels) if other == label]
        key = _distinguishing_key([groups[i] for i in same])
        if key:
            for i in same:
                labels[i] = f"{label} {SHORT_KEYS.get(key, key)}={setting(groups[i][key])}"
    return labels


def _modules_of(tree, names: list[str]) -> str:
    if len(names) == len(tree.names):
        return "*"
    if len(names) <= FOLD_AT_MOST:
        folded = tree.fold(names)
        listed = ", ".join(entry.text for entry in folded)
        if len(folded) <= 3 and len(listed) <= LABEL_WIDTH:
            return listed
    if len(tree.names) - len(names) <= FOLD_AT_MOST:
        others = tree.fold(tree.names_except(names))
        listed = ", ".join(entry.text for entry in others)
        if len(others) == 1 or (len(others) <= 3 and len(listed) <= LABEL_WIDTH):
            return f"* but {listed}"
    return common_prefix(names)


def _distinguishing_key(groups: list[dict]) -> str | None:
    keys = [k for k in DISTINGUISHING_KEYS if k in groups[0]]
    keys += sorted(k for k in groups[0] if isinstance(k, str) and k not in NOT_SETTINGS and k not in keys)
    for key in keys:
        values = [setting(g.get(key)) for g in groups]
        if len(set(values)) == len(values):
            return key
    return None


def _schedule_findings(preview: simulate.Preview, before: list[float] | None, labels: list[str],
                       live: list[bool], steps_per_epoch: int) -> list[Finding]:
    return [
        *schedule_checks.flattened_lrs(preview, before, labels, live),
        *schedule_checks.invalid_lrs(preview, labels, steps_per_epoch),
        *schedule_checks.groups_added_later(
            preview, labels, raises_later=preview.raises_later, rescaler=preview.rescaler,
            steps_per_epoch=steps_per_epoch),
    ]


def _lrs_before(scheduler, optimizer, aliases, recorded, now: list[float], notes: list[str]) -> list[float] | None:
    """The group LRs before the scheduler was built: known for a factory (the real optimizer never saw
    it), recorded by `optlint runtime`, or kept by torch in `initial_lr` unless the scheduler overwrote them."""
    if scheduler is None:
        return None
    if not is_scheduler(scheduler):
        return now
    for alias in aliases:
        if recorded and id(alias) in recorded and len(recorded[id(alias)]) == len(now):
            return recorded[id(alias)]
    overwriter = next((s for s in simulate.leaves(scheduler) if isinstance(s, OVERWRITE_GROUP_LRS)), None)
    if overwriter is not None:
        name = type(overwriter).__name__
        notes.append(f"{name} set every group's LR when it was built, so the LRs written before it are gone; "
                     f"to compare with them (OPT107), pass a factory: scheduler=lambda opt: {name}(opt, ...)")
        return None
    return [simulate.as_float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]


def _simulation_error(preview: simulate.Preview) -> str:
    stop, plan = preview.stop, preview.plan
    return (f"{preview.scheduler_name}.step() after optimizer step {stop.step} (epoch {stop.epoch}) raised "
            f"{stop.error}. The preview ran {plan.steps} optimizer steps, {plan.steps_per_epoch} per epoch, stepping the "
            f"scheduler {every(plan.interval, plan.frequency)}: the real run raises there too, unless it is shorter.")


def _check_options(plan: simulate.Plan, select, ignore) -> None:
    for name, value in (("epochs", plan.epochs), ("steps_per_epoch", plan.steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if plan.interval not in INTERVALS:
        raise ValueError(f"scheduler_interval must be one of {', '.join(INTERVALS)}, got {plan.interval!r}")
    for name, codes in (("select", select), ("ignore", ignore)):
        for code in codes or ():
            problem = selector_problem(code)
            if problem:
                raise ValueError(f"{name}: {problem}")


def _check_objects(model, optimizer) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer or a list of them, got {type(optimizer).__name__}")
    if not optimizer.param_groups:
        raise ValueError(f"the {type(optimizer).__name__} has no param groups: there is nothing to check")


def enabled_codes(select, ignore) -> set[str]:
    """The selected rules: all but the opt-in ones by default (OPT110, OPT111), which only their full code
    selects."""
    chosen = [code.upper() for code in select or ()]
    ignored = [code.upper() for code in ignore or ()]
    return {info.code for info in RUNTIME_RULES
            if decide(info.code, chosen, ignored, default=select is None and info.default_enabled,
                      opt_in=not info.default_enabled)}
