"""Benchmark of the runtime check (issue 4). Prints times; nothing is asserted.

1. A LLaMA-7B-sized transformer built on `meta`, AdamW with decay / no-decay groups, warm-up then
   cosine (SequentialLR), 10 epochs: the whole check_setup, next to the time torch takes to build
   the optimizer. Targets: well under a second, a small multiple of the optimizer's construction.
2. A model with 100,000 parameter tensors: coverage (OPT101-105) under half a second.

    .venv/bin/python benchmarks/bench_runtime.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "runtime"))

from gpt_pretrain import GPT, GPTConfig, configure_optimizer  # noqa: E402

from optlint.runtime.api import check_setup  # noqa: E402
from optlint.runtime.coverage import coverage_of  # noqa: E402

LLAMA_7B = GPTConfig(vocab_size=32000, dim=4096, layers=32, heads=32, hidden=11008)
REPEATS = 5


def best_of(fn, repeats: int = REPEATS) -> tuple[float, float]:
    """The best wall-clock time and the best CPU time (steadier on a machine shared with other work)."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def warmup_cosine(optimizer, epochs: int = 10, warmup: int = 1):
    return SequentialLR(
        optimizer,
        [LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
         CosineAnnealingLR(optimizer, T_max=epochs - warmup)],
        milestones=[warmup],
    )


def bench_7b_on_meta() -> None:
    start = time.perf_counter()
    with torch.device("meta"):
        model = GPT(LLAMA_7B)
    built = time.perf_counter() - start
    elements = sum(p.numel() for p in model.parameters())
    build_optimizer, build_cpu = best_of(lambda: configure_optimizer(model, lr=3e-4, weight_decay=0.1))
    optimizer = configure_optimizer(model, lr=3e-4, weight_decay=0.1)
    scheduler = warmup_cosine(optimizer)
    first = time.perf_counter()
    report = check_setup(model, optimizer, scheduler, epochs=10)
    first = time.perf_counter() - first
    check, check_cpu = best_of(lambda: check_setup(model, optimizer, scheduler, epochs=10))
    print(f"7B on meta: {elements / 1e9:.2f}B elements in {len(list(model.parameters()))} tensors "
          f"(model built in {built:.2f} s)")
    print(f"  torch builds the AdamW (2 groups):    {build_optimizer * 1e3:8.1f} ms wall, {build_cpu * 1e3:.1f} ms cpu")
    print(f"  check_setup, 10 epochs (first call):  {first * 1e3:8.1f} ms wall (loads the torch facts table once)")
    print(f"  check_setup, 10 epochs:               {check * 1e3:8.1f} ms wall, {check_cpu * 1e3:.1f} ms cpu "
          f"= {check / build_optimizer:.1f}x the optimizer's construction")
    print(f"  findings: {[f.code for f in report.findings] or 'none'}")


class Stage(nn.Module):
    """50 small tensors, as in a model with very many per-channel parameters."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ParameterList(nn.Parameter(torch.zeros(4, 4)) for _ in range(25))
        self.scales = nn.ParameterList(nn.Parameter(torch.ones(4)) for _ in range(25))


def bench_100k_tensors() -> None:
    start = time.perf_counter()
    model = nn.ModuleDict({f"stage{i}": nn.ModuleList(Stage() for _ in range(100)) for i in range(20)})
    built = time.perf_counter() - start
    tensors = list(model.parameters())
    decay = [p for p in tensors if p.dim() >= 2]
    no_decay = [p for p in tensors if p.dim() < 2][:-50]  # 50 tensors left out: OPT101 names them
    groups = [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}]
    start = time.perf_counter()
    optimizer = torch.optim.AdamW(groups, lr=1e-3)
    build_optimizer = time.perf_counter() - start
    coverage, coverage_cpu = best_of(lambda: coverage_of(model, optimizer.param_groups))
    report_time, report_cpu = best_of(lambda: check_setup(model, optimizer, epochs=10), repeats=3)
    result = check_setup(model, optimizer, epochs=10)
    print(f"100k tensors: {len(tensors)} tensors (model built in {built:.1f} s)")
    print(f"  torch builds the AdamW (2 groups):    {build_optimizer * 1e3:8.1f} ms")
    print(f"  coverage (read by OPT101-105):        {coverage * 1e3:8.1f} ms wall, {coverage_cpu * 1e3:.1f} ms cpu")
    print(f"  whole check_setup, with labels:       {report_time * 1e3:8.1f} ms wall, {report_cpu * 1e3:.1f} ms cpu")
    print(f"  findings: {[str(f.message)[:90] for f in result.findings]}")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times are the best of {REPEATS} runs")
    bench_7b_on_meta()
    bench_100k_tensors()
