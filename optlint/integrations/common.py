"""What the framework callbacks share: their options, and one check of the set-up the framework built."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from optlint.runtime import pipeline
from optlint.runtime.api import OptimizerSetupError, OptimizerSetupWarning, SchedulerSimulationError, enforce
from optlint.runtime.report import OptimizerReport, SetupReport
from optlint.runtime.simulate import Plan

ON_ERROR = ("raise", "warn")


class SetupCheck:
    """on_error: "raise" an OptimizerSetupError (as `assert_setup` does) or "warn" (an OptimizerSetupWarning on
    rank 0) when a check finds an error (any finding when `strict`); select, ignore: rule codes or prefixes.
    Under torch.distributed every rank checks, and every rank raises or goes on (see `assert_setup`).
    `reports` holds the parts of the last check's report, one per optimizer."""

    def __init__(self, *, on_error: str = "raise", strict: bool = False, select: Sequence[str] | None = None,
                 ignore: Sequence[str] | None = None):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
        self.on_error, self.strict, self.select, self.ignore = on_error, strict, select, ignore
        self.reports: list[OptimizerReport] = []

    def check(self, model, optimizers: Sequence, schedulers: Sequence, plans: Sequence[Plan],
              notes: Sequence[Sequence[str]] = (), lrs_before: dict[int, list[float]] | None = None,
              built_empty: Sequence[dict[int, str]] = ()) -> SetupReport:
        """The pipeline's check of the optimizers, each with its scheduler and plan, raising or warning;
        lrs_before: the group LRs the framework's optimizers had before their schedulers were built (observe.py);
        built_empty: per optimizer, {group: why it is empty} for the groups the framework itself built, which hold no
        tensors for a reason that is no mistake: a note, not OPT105."""
        def check_here() -> SetupReport:
            report = pipeline.check(model, optimizers, schedulers, plans, select=self.select, ignore=self.ignore,
                                    notes=notes, lrs_before=lrs_before)
            for part, excused in zip(report, built_empty):
                _excuse_empty_groups(part, excused)
            return report

        self.reports = []
        try:
            report = enforce(check_here, strict=self.strict, warn=self.on_error == "warn")
        except (OptimizerSetupError, SchedulerSimulationError):  # a finding; a schedule the real run fails on too
            raise
        except Exception as exc:  # noqa: BLE001 - never stop a training because optlint failed to look
            warnings.warn(f"optlint could not check this optimizer set-up ({type(exc).__name__}: {exc}); training "
                          "goes on unchecked", OptimizerSetupWarning, stacklevel=3)
            return SetupReport()
        self.reports = list(report)
        return report


def _excuse_empty_groups(part: OptimizerReport, excused: dict[int, str]) -> None:
    """Drop OPT105 for the groups in `excused` and say why each is empty."""
    dropped = [f for f in part.findings if f.code == "OPT105" and f.extra.get("group") in excused]
    part.findings = [f for f in part.findings if not any(f is d for d in dropped)]
    part.notes.extend(excused[f.extra["group"]] for f in dropped)
