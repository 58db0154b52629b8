"""The runtime check: one input shape, one run, one report.

The input is a model, the optimizers that train it (a single optimizer is a list of one), one scheduler
per optimizer (a live one, a factory `lambda opt: ...`, or None) and the plan of the training loop, one
for all optimizers or one each (Lightning steps each scheduler by its own config). `check_setup`,
`optlint runtime` and the Lightning and Hugging Face callbacks all call `check`.

For each optimizer `analysis.analyse` builds what the rules read; every selected rule of
runtime/rules/ reports on it; the findings, groups and schedule make that optimizer's part of the
SetupReport. With several optimizers, a parameter is missing only when none holds it (the first
optimizer's part names it) and one held by two is OPT102.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from optlint.findings import decide
from optlint.runtime import rules, simulate
from optlint.runtime.analysis import Analysis, analyse
from optlint.runtime.codes import RUNTIME_RULES, selector_problem
from optlint.runtime.report import GroupInfo, OptimizerReport, SetupReport
from optlint.runtime.unwrap import unwrap_model, unwrap_optimizer, user_named_parameters

INTERVALS = ("auto", "epoch", "step")


def check(model, optimizers: Sequence, schedulers: Sequence, plan: simulate.Plan | Sequence[simulate.Plan], *,
          select: Sequence[str] | None = None, ignore: Sequence[str] | None = None,
          lrs_before: dict[int, list[float]] | None = None, notes: Sequence[Sequence[str]] = ()) -> SetupReport:
    """The report on `optimizers`, each with its scheduler (`schedulers[i]`) and plan.
    lrs_before: the group LRs recorded before each optimizer's first scheduler was built, by id of the
        optimizer (what `optlint runtime` observes while the factory runs);
    notes: per optimizer, what the caller adds to its part (how the framework runs the loop)."""
    plans = list(plan) if isinstance(plan, Sequence) else [plan] * len(optimizers)
    _check_options(plans, select, ignore)
    inner = unwrap_model(model)
    unwrapped = [unwrap_optimizer(optimizer)[0] for optimizer in optimizers]
    for optimizer in unwrapped:
        _check_objects(inner, optimizer)
    enabled = enabled_codes(select, ignore)
    report = SetupReport()
    for index, (optimizer, scheduler) in enumerate(zip(optimizers, schedulers)):
        analysis = analyse(model, inner, optimizer, scheduler, plans[index], optimizers=unwrapped,
                           index=index, trained_elsewhere=not_missing_from(inner, unwrapped, index),
                           lrs_before=lrs_before)
        findings = rules.findings_of("check", analysis, enabled)
        rule_notes = rules.notes_of("check", analysis, enabled)
        report.append(_part(analysis, findings, [*analysis.notes, *rule_notes, *(notes[index] if notes else ())]))
    return report


def _part(analysis: Analysis, findings: list, notes: list[str]) -> OptimizerReport:
    coverage, preview = analysis.coverage, analysis.preview
    return OptimizerReport(
        findings=findings,
        groups=[GroupInfo(i, analysis.labels[i], analysis.lrs_now[i], coverage.group_tensors[i],
                          coverage.group_elements[i], tuple(coverage.group_names[i]),
                          analysis.lrs_before[i] if analysis.lrs_before else None)
                for i in range(len(analysis.groups))],
        schedule=preview.schedule,
        epochs=preview.plan.epochs,
        steps_per_epoch=preview.plan.steps_per_epoch,
        interval=preview.interval,
        interval_guessed=preview.interval_guessed,
        frequency=preview.plan.frequency,
        optimizer_name=type(analysis.optimizer).__name__,
        scheduler_name=analysis.other_scheduler[0] if analysis.other_scheduler else preview.scheduler_name,
        stop=preview.stop,
        notes=notes,
        scheduler_drives_this_optimizer=analysis.other_scheduler is None,
    )


def not_missing_from(model, optimizers: Sequence, index: int) -> frozenset[int]:
    """The parameters part `index` must not call missing (OPT101): those the other optimizers hold and,
    for every part but the first, those no optimizer holds, which the first one names, once."""
    others = held_by(optimizers[:index] + optimizers[index + 1:])
    if index == 0:
        return others
    return others | (frozenset(id(p) for _, p in user_named_parameters(model)) - held_by(optimizers))


def held_by(optimizers) -> frozenset[int]:
    """The ids of the tensors these optimizers hold."""
    return frozenset(id(p) for optimizer in optimizers for group in optimizer.param_groups for p in group["params"])


def enabled_codes(select, ignore) -> set[str]:
    """The selected rules: all but the opt-in ones by default (OPT110, OPT111), which only their full code
    selects."""
    chosen = [code.upper() for code in select or ()]
    ignored = [code.upper() for code in ignore or ()]
    return {info.code for info in RUNTIME_RULES
            if decide(info.code, chosen, ignored, default=select is None and info.default_enabled,
                      opt_in=not info.default_enabled)}


def _check_options(plans: list[simulate.Plan], select, ignore) -> None:
    for plan in plans:
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
