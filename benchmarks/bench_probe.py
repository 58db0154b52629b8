"""Cost of `optlint.probe_step` for a ~100M-parameter transformer on CPU (issue 9). Prints; asserts nothing.

The probe deep-copies the model and the optimizer (weights + AdamW state), runs one forward and
backward pass and one optimizer step on the copy, then measures every group. It is compared with one
plain training step on the real objects (zero_grad, forward, backward, step), which is what the
probe costs at the least. Peak memory is the process's resident high-water mark (Linux VmHWM, reset
before each measurement), above what was resident before it.

    .venv/bin/python benchmarks/bench_probe.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "runtime"))

from gpt_pretrain import GPT, GPTConfig, configure_optimizer  # noqa: E402

import optlint  # noqa: E402

CONFIG = GPTConfig(vocab_size=32000, dim=768, layers=12, heads=12, hidden=1792)  # ~100M parameters
BATCH, SEQUENCE = 4, 128
MB = 2**20


def loss_fn(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    logits = model(tokens[:, :-1])
    return nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())


def resident() -> tuple[int, int]:
    """(current, peak) resident memory in bytes."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def measure(label: str, step) -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before, _ = resident()
    start, start_cpu = time.perf_counter(), time.process_time()
    step()
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    _, peak = resident()
    print(f"{label:<34} {wall:6.2f} s wall  {cpu:6.2f} s CPU  peak +{(peak - before) / MB:6.0f} MiB")


def plain_step(model, optimizer, tokens) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model, tokens).backward()
    optimizer.step()


def main() -> None:
    torch.manual_seed(0)
    model = GPT(CONFIG)
    optimizer = configure_optimizer(model, lr=6e-4, weight_decay=0.1)
    tokens = torch.randint(0, CONFIG.vocab_size, (BATCH, SEQUENCE + 1))
    params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; model: {params / 1e6:.1f}M parameters "
          f"({params * 4 / MB:.0f} MiB fp32), AdamW, batch {BATCH}x{SEQUENCE} tokens")
    measure("probe_step (fresh AdamW)", lambda: optlint.probe_step(model, optimizer, loss_fn, tokens))
    measure("plain training step (fresh AdamW)", lambda: plain_step(model, optimizer, tokens))
    measure("probe_step (AdamW with state)", lambda: optlint.probe_step(model, optimizer, loss_fn, tokens))
    measure("plain training step (with state)", lambda: plain_step(model, optimizer, tokens))
    report = optlint.probe_step(model, optimizer, loss_fn, tokens)
    print()
    print(report)


if __name__ == "__main__":
    main()
