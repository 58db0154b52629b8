"""Time optlint against the tools users would run instead, on real ML code, in one run.

Whole corpus (benchmarks/fetch_corpus.py), then one package of it: optlint cold (--no-cache),
optlint warm (its cache, nothing changed), `ruff check --select ALL --no-cache`, and TorchFix (on
the package only unless --torchfix-reps: it needs many minutes for the corpus). One file: a
training script with optimizer code and a model file without, against ruff, TorchFix and
`python -c pass`, the floor of any Python tool. optlint runs as users install it: built from this
checkout into a wheel in its own virtual environment (fetch_corpus.installed_optlint). The tools
take turns in every repetition, so a busy machine slows them alike; the table gives the median wall
time, the median CPU time and the ratios.

    make bench                    # or: .venv/bin/python benchmarks/bench_static.py --reps 5
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import fetch_corpus

WITH_OPTIMIZER = "torchtune/recipes/full_finetune_single_device.py"
WITHOUT_OPTIMIZER = "timm/timm/models/resnet.py"
PACKAGE = "accelerate"  # small enough for TorchFix to finish in minutes


@dataclass(eq=False)
class Tool:
    name: str
    command: list[str]
    ok_exit_codes: tuple[int, ...] = (0,)
    warm_up: bool = True  # a first, uncounted run: bytecode written, files in the page cache, caches filled
    env: dict = field(default_factory=dict)  # on top of the run's environment
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    def run(self, cwd: Path, env: dict) -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(self.command, cwd=cwd, env={**env, **self.env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in self.ok_exit_codes:
            sys.exit(f"{self.name} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each timing of a quick tool")
    parser.add_argument("--torchfix-reps", type=int, default=0,
                        help="TorchFix runs on the whole corpus (about 20 minutes each on 2 cores; default none)")
    parser.add_argument("--package-torchfix-reps", type=int, default=1, help=f"TorchFix runs on {PACKAGE} alone")
    parser.add_argument("--file-reps", type=int, default=10, help="repetitions of each one-file timing")
    args = parser.parse_args()

    corpus, bin_dir = fetch_corpus.corpus(), fetch_corpus.tools()
    work = fetch_corpus.BENCH_DIR / "run"  # optlint's cache lands here, never in the repository
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # Installed software runs from compiled bytecode; this machine's environment forbids writing it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    installed = fetch_corpus.installed_optlint(Path(__file__).resolve().parent.parent)
    optlint, python = str(installed / "optlint"), str(installed / "python")
    where = "from optlint.static.libcst_import import cache_file; print(cache_file())"
    code_cache = subprocess.run([python, "-c", where], capture_output=True, text=True, check=True).stdout.strip()
    print(f"{', '.join(fetch_corpus.PACKAGES)}; {os.cpu_count()} cores")

    for title, target, torchfix_reps in (("whole corpus", corpus, args.torchfix_reps),
                                         (f"one package: {PACKAGE}", corpus / PACKAGE, args.package_torchfix_reps)):
        _compare_on_many_files(title, target, optlint, bin_dir, work, env, args.reps, torchfix_reps)
    for label, relative in (("with optimizer code", WITH_OPTIMIZER), ("without optimizer code", WITHOUT_OPTIMIZER)):
        path = str(corpus / relative)
        ruff = Tool("ruff check --select ALL --no-cache", _ruff(bin_dir, path))
        one = [
            Tool("optlint check --no-cache", [optlint, "check", "--no-cache", path], (0, 1)),
            # The first run after an install, before libcst's compiled dataclass methods are cached
            # (optlint/static/libcst_import.py): the cache file removed, and never written.
            Tool("optlint check --no-cache, 1st run", ["sh", "-c", 'rm -f "$0" && exec "$@"', code_cache,
                                                        optlint, "check", "--no-cache", path], (0, 1),
                 env={"PYTHONDONTWRITEBYTECODE": "1"}),
            ruff,
            Tool("torchfix", [str(bin_dir / "torchfix"), path], (0, 1)),
            Tool("python -c pass", [python, "-c", "pass"]),
        ]
        _timed(dict.fromkeys(one, args.file_reps), work, env)
        _print_table(f"one file {label}: {relative} ({_size(Path(path))[1]} lines)", one, ruff, None)


def _compare_on_many_files(title, target: Path, optlint, bin_dir, work, env, reps: int, torchfix_reps: int) -> None:
    cold = Tool("optlint cold (--no-cache)", [optlint, "check", "--no-cache", str(target)], (0, 1))
    warm = Tool("optlint warm (cache)", [optlint, "check", str(target)], (0, 1))
    ruff = Tool("ruff check --select ALL --no-cache", _ruff(bin_dir, str(target)))
    torchfix = Tool("torchfix", [str(bin_dir / "torchfix"), str(target)], (0, 1), warm_up=False)  # minutes a run
    _timed({cold: reps, warm: reps, ruff: reps, torchfix: torchfix_reps}, work, env)
    files, lines = _size(target)
    _print_table(f"{title}: {files} files, {lines:,} lines", [t for t in (cold, warm, ruff, torchfix) if t.walls],
                 ruff, lines)
    ratios = f"optlint cold / ruff: {cold.wall / ruff.wall:.2f}x; optlint warm / cold: {warm.wall / cold.wall:.3f}x"
    if torchfix.walls:
        ratios += f"; torchfix / optlint cold: {torchfix.wall / cold.wall:.0f}x"
    print(f"\n{ratios}")


def _timed(schedule: dict[Tool, int], work: Path, env: dict) -> None:
    """Run each tool its number of times, taking turns, after its warm-up run."""
    for tool, reps in schedule.items():
        if reps and tool.warm_up:
            tool.run(work, env)
            tool.walls.clear()
            tool.cpus.clear()
    for rep in range(max(schedule.values())):
        for tool, reps in schedule.items():
            if rep < reps:
                tool.run(work, env)


def _ruff(bin_dir: Path, target: str) -> list[str]:
    return [str(bin_dir / "ruff"), "check", "--select", "ALL", "--no-cache", "--isolated", "--exit-zero", target]


def _print_table(title: str, tools: list[Tool], reference: Tool, lines: int | None) -> None:
    print(f"\n{title}\n")
    print(f"| {'tool':<34} | wall s (median) | CPU s (median) | {'lines/s':>9} | vs {reference.name.split()[0]} |")
    print(f"|{'-' * 36}|----------------:|---------------:|----------:|--------:|")
    for tool in tools:
        speed = f"{lines / tool.wall:,.0f}" if lines else ""
        print(f"| {tool.name:<34} | {tool.wall:15.3f} | {tool.cpu:14.3f} | {speed:>9} | {tool.wall / reference.wall:6.2f}x |")


def _size(path: Path) -> tuple[int, int]:
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    return len(files), sum(f.read_bytes().count(b"\n") for f in files)


if __name__ == "__main__":
    main()
