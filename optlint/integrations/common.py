"""What the framework callbacks share: their options, and one check of an optimizer with its scheduler."""

from __future__ import annotations

from collections.abc import Sequence

from optlint.findings import Finding
from optlint.runtime.api import enabled_codes, enforce, inspect_setup
from optlint.runtime.report import SetupReport
from optlint.runtime.simulate import Plan

ON_ERROR = ("raise", "warn")


class SetupCheck:
    """on_error: "raise" an OptimizerSetupError (as `assert_setup` does) or "warn" (an OptimizerSetupWarning on
    rank 0) when a check finds an error (any finding when `strict`); select, ignore: rule codes or prefixes.
    Under torch.distributed every rank checks, and every rank raises or goes on (see `assert_setup`).
    `reports` holds the reports of the last check, one per optimizer."""

    def __init__(self, *, on_error: str = "raise", strict: bool = False, select: Sequence[str] | None = None,
                 ignore: Sequence[str] | None = None):
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
        self.on_error, self.strict, self.select, self.ignore = on_error, strict, select, ignore
        self.reports: list[SetupReport] = []

    def check(self, model, optimizer, scheduler, plan: Plan, *, notes: Sequence[str] = (),
              trained_elsewhere: frozenset[int] = frozenset(), shared: Sequence[Finding] = ()) -> SetupReport:
        """`shared`: OPT102 findings for tensors this optimizer and an earlier one both hold."""
        def check_here() -> SetupReport:
            report = inspect_setup(model, optimizer, scheduler, plan=plan, select=self.select, ignore=self.ignore,
                                   trained_elsewhere=trained_elsewhere)
            enabled = enabled_codes(self.select, self.ignore)
            report.findings += [finding for finding in shared if finding.code in enabled]
            report.notes.extend(notes)
            return report

        report = enforce(check_here, strict=self.strict, warn=self.on_error == "warn")
        self.reports.append(report)
        return report
