"""`optlint runtime --plot`: the LR preview drawn to a PNG or as a terminal chart."""

import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import optlint  # noqa: E402
from optlint.runtime import lr_plot  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def report_for(head_lr: float):
    model = torch.nn.ModuleDict({"backbone": torch.nn.Linear(4, 4), "head": torch.nn.Linear(4, 2)})
    optimizer = torch.optim.SGD([{"params": model["backbone"].parameters(), "lr": 1e-5},
                                 {"params": model["head"].parameters(), "lr": head_lr}], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.9)
    return optlint.check_setup(model, optimizer, scheduler, epochs=6)


def test_log_scale_only_when_the_groups_span_decades():
    assert lr_plot.spans_decades(report_for(head_lr=1e-3))
    assert not lr_plot.spans_decades(report_for(head_lr=2e-5))


def test_terminal_chart_puts_the_larger_lr_higher_and_names_every_group():
    chart = lr_plot.terminal_chart(report_for(head_lr=1e-3))
    rows = chart.splitlines()
    first_column = [row[11] if len(row) > 11 else " " for row in rows]
    head_row, backbone_row = first_column.index(lr_plot.MARKS[1]), first_column.index(lr_plot.MARKS[0])
    assert head_row < backbone_row
    assert "backbone.*" in rows[-1] and "head.*" in rows[-1]
    assert "(log scale)" in chart


def test_png_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "lr.png"
    lr_plot.plot_png(report_for(head_lr=1e-3), str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "optlint", "runtime", *args], cwd=cwd, capture_output=True,
                          text=True)


def test_cli_plot_without_a_file_prints_the_chart_and_with_an_unwritable_one_fails_in_one_line(tmp_path):
    target = str(REPO / "fixtures" / "runtime" / "demo_setup.py") + ":build"
    shown = run(target, "--device", "cpu", "--plot", cwd=tmp_path)
    assert shown.returncode == 1 and "steps (log scale)" in shown.stdout
    pytest.importorskip("matplotlib")
    failed = run(target, "--device", "cpu", "--plot", str(tmp_path / "missing" / "lr.png"), cwd=tmp_path)
    assert failed.returncode == 2
    assert failed.stderr.splitlines()[0].startswith("optlint: error: cannot write the plot")
    assert "Traceback" not in failed.stderr


def test_cli_plot_to_a_file_says_where_it_wrote(tmp_path):
    pytest.importorskip("matplotlib")
    target = str(REPO / "fixtures" / "runtime" / "demo_setup.py") + ":build"
    drawn = run(target, "--device", "cpu", "--plot", "lr.png", cwd=tmp_path)
    assert drawn.stderr.splitlines() == ["optlint: wrote the plot to lr.png"] and (tmp_path / "lr.png").is_file()
