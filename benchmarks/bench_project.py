"""A generated 200-file training project: cold run, warm run, and a pre-commit run on one staged file.

    .venv/bin/python benchmarks/bench_project.py [--files 200] [--reps 5]

The project (in a temporary folder, a git checkout as pre-commit sees it): `train.py` imports its epoch
loop from `engine.py` and its builders from `optim.py`; the other files are models, data and utils, a
fifth of them with optimizer code that imports project modules. Each figure is the median wall time
of `optlint check` as a user runs it (a new process each time); the warm runs reuse the results cache.
Issue 16's target: the staged-file run at most 0.4 s warm.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINE = """\
def train_one_epoch(model, loader, optimizer, scheduler):
    for inputs, targets in loader:
        optimizer.zero_grad()
        model(inputs).sum().backward()
        optimizer.step()
        scheduler.step()
"""
OPTIM = """\
import torch


def build_optimizer(model, lr=0.1):
    return torch.optim.AdamW(model.parameters(), lr=lr)


def build_scheduler(optimizer, steps):
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
"""
TRAIN = """\
import torch

from engine import train_one_epoch
from optim import build_optimizer, build_scheduler
from models.m{last} import Net{last}


def main(loader, epochs):
    model = Net{last}()
    probe = torch.optim.SGD(model.parameters(), lr=0.01)  # a torch class: the file is parsed
    optimizer = build_optimizer(model)
    scheduler = build_scheduler(optimizer, epochs * len(loader))
    for epoch in range(epochs):
        train_one_epoch(model, loader, optimizer, scheduler)
"""
MODEL = """\
import torch
from torch import nn

from utils.u{other} import helper_{other}


class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(*[nn.Linear(64, 64) for _ in range({i} % 7 + 1)])

    def forward(self, x):
        return helper_{other}(self.body(x))
"""
OPTIMIZED = MODEL + """

def finetune(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)
    for epoch in range(3):
        for x in loader:
            optimizer.step()
        scheduler.step()
"""
UTIL = """\
def helper_{i}(x):
    for _ in range({i} % 3):
        x = x * 1.0
    return x
"""


def build(root: Path, count: int) -> None:
    models = (count - 3) // 2
    for folder in ("models", "utils"):
        (root / folder).mkdir()
        (root / folder / "__init__.py").write_text("")
    for i in range(models):
        template = OPTIMIZED if i % 5 == 0 else MODEL
        (root / "models" / f"m{i}.py").write_text(template.format(i=i, other=i))
        (root / "utils" / f"u{i}.py").write_text(UTIL.format(i=i))
    (root / "engine.py").write_text(ENGINE)
    (root / "optim.py").write_text(OPTIM)
    (root / "train.py").write_text(TRAIN.format(last=models - 1))
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def timed(command: list[str], root: Path) -> float:
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as users run it
    start = time.perf_counter()
    subprocess.run(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose optlint runs (before/after)")
    args = parser.parse_args()
    optlint = [args.python, "-m", "optlint"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build(root, args.files)
        files = len(list(root.rglob("*.py")))
        cold = [timed([*optlint, "check", "--no-cache", "."], root) for _ in range(args.reps)]
        timed([*optlint, "check", "."], root)  # fills the cache
        time.sleep(2.1)  # files younger than 2 s are never taken on their stat (see cache.py)
        timed([*optlint, "check", "."], root)
        warm = [timed([*optlint, "check", "."], root) for _ in range(args.reps)]
        staged = [timed([*optlint, "check", "train.py"], root) for _ in range(args.reps)]
        rows = [("cold, whole project (--no-cache)", cold), ("warm, whole project", warm),
                ("warm, one staged file (train.py)", staged)]
        print(f"{files} files")
        for label, values in rows:
            print(f"{label:36} {statistics.median(values):7.3f} s  (min {min(values):.3f})")
        print(f"warm / cold: {statistics.median(warm) / statistics.median(cold):.3f}x")


if __name__ == "__main__":
    main()
