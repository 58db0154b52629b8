"""SetupReport: what the runtime check found, the param groups and their simulated learning rates.

A SetupReport holds one OptimizerReport per optimizer, in the order given; with one optimizer it reads as
that optimizer's report (`report.schedule[g][k]`, `report.groups`). `str(report)` is the table a person
reads; `report.to_dict()` is the same content as JSON-able data. Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from optlint.findings import Finding, Severity
from optlint.report import text
from optlint.report.escape import escape
from optlint.words import plural

ROWS_SHOWN_AT_MOST = 24
HEADER_WIDTH = 20
SHORT_FLOAT = 10  # characters: a setting printed longer is cut to 4 significant digits
TABLE_WIDTH = 100  # characters: a wider schedule table is cut into blocks of groups, each with the epoch column


@dataclass(frozen=True)
class GroupInfo:
    index: int
    label: str  # e.g. "backbone.*", what the table's column is called
    lr: float  # the group's learning rate now (after the scheduler was built)
    tensors: int
    elements: int
    names: tuple[str, ...]  # the model's names of the tensors in the group, in group order
    base_lr: float | None = None  # the LR set before the scheduler (a warm-up starts `lr` at 0), when known

    def to_dict(self) -> dict:
        return {"index": self.index, "label": self.label, "lr": json_float(self.lr), "tensors": self.tensors,
                "elements": self.elements, "params": list(self.names)}


@dataclass(frozen=True)
class SimulationStop:
    """The scheduler raised: torch would crash at this `scheduler.step()`."""

    step: int  # the optimizer step after which scheduler.step() raised (0-based)
    epoch: int
    error: str  # "ValueError: zip() argument 2 is shorter than argument 1"

    def to_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "error": self.error}


class OneOptimizer:
    """What a report on one optimizer shares, the runtime check's part and the probe's: `ok`, and the head of
    its JSON."""

    findings: list[Finding]
    optimizer_name: str
    scheduler_name: str | None

    @property
    def ok(self) -> bool:
        return no_errors(self.findings)

    def head(self) -> dict:
        return {"ok": self.ok, "optimizer": self.optimizer_name, "scheduler": self.scheduler_name}


@dataclass
class OptimizerReport(OneOptimizer):
    """One optimizer's part of a SetupReport."""

    findings: list[Finding]
    groups: list[GroupInfo]
    schedule: list[list[float]]  # schedule[g][k]: the LR group g uses at optimizer step k
    epochs: int
    steps_per_epoch: int
    interval: str  # "epoch" or "step": when the scheduler is stepped
    optimizer_name: str
    scheduler_name: str | None = None
    stop: SimulationStop | None = None
    notes: list[str] = field(default_factory=list)
    scheduler_drives_this_optimizer: bool = True  # False: it steps another optimizer (OPT109)
    frequency: int = 1  # the scheduler steps every `frequency` intervals
    interval_guessed: bool = False  # "auto" chose the interval, nothing in the scheduler said which

    def to_dict(self) -> dict:
        return {
            **self.head(),
            "scheduler_drives_this_optimizer": self.scheduler_drives_this_optimizer,
            "findings": [finding_dict(f) for f in self.findings],
            "groups": [group.to_dict() for group in self.groups],
            "schedule": {
                "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch,
                "interval": self.interval,
                "frequency": self.frequency,
                "interval_guessed": self.interval_guessed,
                "lr": [[json_float(lr) for lr in lrs] for lrs in self.schedule],
                "stopped": self.stop.to_dict() if self.stop else None,
            },
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        parts = [self._headline(), _groups_table(self.groups), self._schedule_table()]
        parts += [f"note: {escape(note)}" for note in self.notes]
        parts += [finding_lines(f) for f in self.findings]
        parts.append(text.summary(self.findings))
        return "\n\n".join(parts)

    def _headline(self) -> str:
        tensors = sum(g.tensors for g in self.groups)
        elements = sum(g.elements for g in self.groups)
        line = (f"{self.optimizer_name}: {plural(len(self.groups), 'param group')}, "
                f"{plural(tensors, 'tensor')} ({_human(elements)} elements)")
        if self.scheduler_name and not self.scheduler_drives_this_optimizer:
            line += f"; {self.scheduler_name} drives another optimizer, so these LRs stay as they are"
        elif self.scheduler_name:
            line += f"; {self.scheduler_name} stepped {every(self.interval, self.frequency)}"
            if self.interval_guessed:
                line += (" (a guess: if the loop steps it after every optimizer step, say so with "
                         "scheduler_interval=\"step\", or `optlint runtime --interval step`)")
        return escape(line)

    def _schedule_table(self) -> str:
        epochs_seen = _ceil_div(len(self.schedule[0]), self.steps_per_epoch) if self.schedule else 0
        steps = f", {self.steps_per_epoch} steps each" if self.steps_per_epoch > 1 else ""
        where = " (at the first step of each epoch)" if self.steps_per_epoch > 1 else ""
        title = f"Learning rate per group over {plural(self.epochs, 'epoch')}{steps}{where}:"
        headers = ["epoch", *(short(escape(f"{g.index}: {g.label}")) for g in self.groups)]
        rows = [
            [str(epoch), *(_lr(lrs[epoch * self.steps_per_epoch]) for lrs in self.schedule)]
            for epoch in range(epochs_seen)
        ]
        lines = [title, *wrapped(headers, _elide(rows, len(headers)))]
        if self.stop:
            lines.append(escape(f"  scheduler.step() after optimizer step {self.stop.step} (epoch {self.stop.epoch}) "
                                f"raises {self.stop.error}: the run crashes here."))
        return "\n".join(lines)


def setting(value) -> str:
    """A group setting as the user reads it: a one-element tensor (a tensor lr) shows its number, not `tensor(0.0010)`,
    to the precision of the LR table (a float32 1e-5 is 9.99999974e-06)."""
    if hasattr(value, "item") and callable(getattr(value, "numel", None)) and value.numel() == 1:
        return f"{value.item():.4g}"
    if isinstance(value, float) and len(repr(value)) > SHORT_FLOAT:  # 0.00010045242572063329 reads as 0.0001005
        return f"{value:.4g}"
    return repr(value)


def every(interval: str, frequency: int) -> str:
    """`every epoch`, `every 3 steps`."""
    return f"every {interval}" if frequency == 1 else f"every {frequency} {interval}s"


def json_float(value: float) -> float | str:
    """Strict JSON has no NaN or infinity: those become the strings "nan", "inf", "-inf"."""
    return value if math.isfinite(value) else str(value)


def _groups_table(groups: list[GroupInfo]) -> str:
    headers = ["group", "parameters", "tensors", "elements", "lr"]
    rows = [[str(g.index), escape(g.label), str(g.tensors), _human(g.elements),
             _lr(g.lr if g.base_lr is None else g.base_lr)] for g in groups]
    return "\n".join(table(headers, _elide(rows, len(headers)), left_aligned={1}))


def table(headers: list[str], rows: list[list[str]], left_aligned: set[int] = frozenset()) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in left_aligned else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def wrapped(headers: list[str], rows: list[list[str]]) -> list[str]:
    """`table`, cut into blocks of columns no wider than TABLE_WIDTH, each repeating the first column."""
    widths = [max(len(cell) for cell in column) + 2 for column in zip(headers, *rows)]
    blocks: list[list[int]] = [[]]
    for i in range(1, len(headers)):
        if blocks[-1] and widths[0] + sum(widths[j] for j in blocks[-1]) + widths[i] > TABLE_WIDTH:
            blocks.append([])
        blocks[-1].append(i)
    lines: list[str] = []
    for block in blocks:
        lines += ([""] if lines else []) + table([headers[0], *(headers[i] for i in block)],
                                                 [[row[0], *(row[i] for i in block)] for row in rows])
    return lines


def _elide(rows: list[list[str]], width: int) -> list[list[str]]:
    if len(rows) <= ROWS_SHOWN_AT_MOST:
        return rows
    head, tail = ROWS_SHOWN_AT_MOST * 2 // 3, ROWS_SHOWN_AT_MOST // 3
    return [*rows[:head], ["..."] * width, *rows[-tail:]]


def no_errors(findings: list[Finding]) -> bool:
    return not any(f.severity is Severity.ERROR for f in findings)


def finding_dict(f: Finding) -> dict:
    return {"code": f.code, "name": f.name, "severity": str(f.severity), "message": f.message, "hint": f.hint}


def finding_lines(finding: Finding) -> str:
    """A finding without a location, as the runtime and probe reports print it: `CODE [severity] name: message`
    and its HINT line."""
    line = text.headline(finding, named=True)
    return f"{line}\n{text.hint_line(finding)}" if finding.hint else line


def short(header: str) -> str:
    return header if len(header) <= HEADER_WIDTH else header[: HEADER_WIDTH - 1] + "…"


def _lr(value: float) -> str:
    return f"{value:.4g}"


def _human(n: int) -> str:
    for unit, size in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class SetupReport(list):
    """One OptimizerReport per optimizer, in the order given; `ok`, `findings`, `to_dict()` and `str()` cover
    all. With one optimizer, its attributes (`groups`, `schedule`, `notes`...) are the report's own."""

    @property
    def ok(self) -> bool:
        return all(part.ok for part in self)

    @property
    def findings(self) -> list[Finding]:
        return [finding for part in self for finding in part.findings]

    def to_dict(self) -> dict:
        if len(self) == 1:
            return self[0].to_dict()
        return {"ok": self.ok, "optimizers": [part.to_dict() for part in self]}

    def __str__(self) -> str:
        return "\n\n\n".join(str(part) for part in self)

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in OptimizerReport.__dataclass_fields__:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if len(self) != 1:
            raise AttributeError(f"this report covers {len(self)} optimizers: read `report[i].{name}`")
        return getattr(self[0], name)


SetupReports = SetupReport  # its name when several optimizers had a type of their own
