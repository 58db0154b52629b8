"""The per-group LR preview as a picture: a PNG (matplotlib) or a compact chart in the terminal.

One line per param group, labelled by its module prefix; a log scale when the values span more than
a decade (a backbone at 1e-5 beside a head at 1e-3 would otherwise sit flat on the axis).
"""

from __future__ import annotations

import math

from optlint.runtime.report import SetupReport, short

MARKS = "●○▲△■□◆◇"


def spans_decades(report: SetupReport) -> bool:
    positive = [lr for series in report.schedule for lr in series if lr > 0 and math.isfinite(lr)]
    return bool(positive) and max(positive) / min(positive) > 10


def plot_png(report, path: str) -> None:
    """One panel per optimizer of the report."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    reports = list(report)
    figure, panels = plt.subplots(len(reports), 1, figsize=(7.5, 4.2 * len(reports)), squeeze=False)
    for axes, shown in zip(panels[:, 0], reports):
        _draw(axes, shown)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _draw(axes, report: SetupReport) -> None:
    for group, series in zip(report.groups, report.schedule):
        axes.plot(range(len(series)), series, label=f"{group.index}: {short(group.label)}", linewidth=1.6)
    if spans_decades(report):
        axes.set_yscale("log", nonpositive="mask")  # an LR of 0 leaves a gap, not a cliff
    if report.steps_per_epoch > 1:
        for epoch in range(1, report.epochs):
            axes.axvline(epoch * report.steps_per_epoch, color="0.85", linewidth=0.6, zorder=0)
    axes.set_xlabel("optimizer step")
    axes.set_ylabel("learning rate")
    scheduler = report.scheduler_name or "no scheduler"
    axes.set_title(f"{report.optimizer_name} + {scheduler}: learning rate per param group", fontsize=10)
    axes.legend(fontsize=8, loc="best")


def terminal_charts(report) -> str:
    """`terminal_chart` of each optimizer's report, under its name when there are several."""
    reports = list(report)
    if len(reports) == 1:
        return terminal_chart(reports[0])
    return "\n\n".join(f"{shown.optimizer_name}:\n{terminal_chart(shown)}" for shown in reports)


def terminal_chart(report: SetupReport, width: int = 60, height: int = 12) -> str:
    """Each group's LR over the steps as marks on a character grid, with the axis range."""
    steps = max((len(s) for s in report.schedule), default=0)
    values = [lr for series in report.schedule for lr in series if math.isfinite(lr)]
    if not steps or not values:
        return "(nothing to draw: no simulated step)"
    log = spans_decades(report)
    scale = (lambda lr: math.log10(lr) if lr > 0 else None) if log else (lambda lr: lr)
    scaled = [v for v in map(scale, values) if v is not None]
    low, high = min(scaled), max(scaled)
    columns = min(width, steps)
    grid = [[" "] * columns for _ in range(height)]
    for g, series in enumerate(report.schedule):
        for column in range(columns):
            lr = series[min(len(series) - 1, column * steps // columns)] if series else math.nan
            y = scale(lr) if math.isfinite(lr) else None
            if y is None:
                continue
            row = 0 if high == low else round((high - y) / (high - low) * (height - 1))
            grid[row][column] = MARKS[g % len(MARKS)]
    top, bottom = (10**high, 10**low) if log else (high, low)
    lines = [f"{top:9.3g} ┤" + "".join(grid[0])]
    lines += ["          │" + "".join(row) for row in grid[1:-1]]
    lines.append(f"{bottom:9.3g} ┤" + "".join(grid[-1]))
    lines.append("          └" + "─" * columns + f"  {steps} steps{' (log scale)' if log else ''}")
    legend = "   ".join(f"{MARKS[g.index % len(MARKS)]} {short(g.label)}" for g in report.groups)
    return "\n".join([*lines, f"          {legend}"])
