"""How long `optlint check <file>` takes on one file with optimizer code, as pre-commit runs it: one
fresh Python per run, caches warm. Given several checkouts, they take turns in every repetition (a
loaded machine slows them alike) and the medians are compared.

    .venv/bin/python benchmarks/bench_single_file.py --runs 21 /path/to/main .   # before, after
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

TRAINING_SCRIPT = """\
import torch
from torch import nn


def train(model: nn.Module, data, epochs: int = 3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    for _ in range(epochs):
        for inputs, targets in data:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
        scheduler.step()
    return model
"""


def seconds(checkout: Path, folder: Path, flags: list[str]) -> float:
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}  # as users run it
    env["PYTHONPATH"] = str(checkout)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "optlint", "check", *flags, "train.py"], cwd=folder, env=env,
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="optlint checkouts to time, in turn")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--no-cache", action="store_true", help="time `check --no-cache` (results not kept)")
    options = parser.parse_args()
    flags = ["--no-cache"] if options.no_cache else []
    checkouts = [path.resolve() for path in options.checkouts]
    times: dict[Path, list[float]] = {path: [] for path in checkouts}
    with tempfile.TemporaryDirectory() as temporary:
        folders = {path: Path(temporary) / str(i) for i, path in enumerate(checkouts)}
        for folder in folders.values():
            folder.mkdir()
            (folder / "train.py").write_text(TRAINING_SCRIPT)
        for path in checkouts:
            seconds(path, folders[path], flags)  # warm-up: bytecode, code cache and results cache
        for _ in range(options.runs):
            for path in checkouts:
                times[path].append(seconds(path, folders[path], flags))
    for path, runs in times.items():
        print(f"{statistics.median(runs):.3f} s median of {len(runs)} (min {min(runs):.3f})  {path}")


if __name__ == "__main__":
    main()
