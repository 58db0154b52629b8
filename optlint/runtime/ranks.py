"""The check under torch.distributed: every rank checks its own model and optimizer, the findings of
all ranks are combined, and every rank reaches the same verdict.

A verdict that differed between ranks would leave the ranks that carry on waiting in their next
collective for a rank that raised, until the process group times out. So the ranks exchange their
findings (or the error their check raised), take rank 0's groups and schedule, and decide from the
same data. They exchange pickled bytes as uint8 tensors: torch's `all_gather_object` needs numpy,
which optlint does not require.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Callable

import torch

from optlint.findings import Finding
from optlint.runtime.naming import join_and
from optlint.runtime.report import SetupReport


class RankCheckError(RuntimeError):
    """The check raised on another rank (that rank raises its own error)."""


def world() -> tuple[int, int]:
    """(this rank, the number of ranks) of the default process group; (0, 1) outside torch.distributed."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_every_rank(check: Callable[[], SetupReport]) -> SetupReport:
    """Run `check` here and combine it with every other rank's; a collective under torch.distributed."""
    rank, size = world()
    if size == 1:
        return check()
    try:
        report, error = check(), None
    except Exception as exc:  # noqa: BLE001 - the other ranks must learn of it, or they wait for this one
        report, error = None, exc
    findings = [part.findings for part in report] if report is not None else None
    outcomes = [pickle.loads(b) for b in _all_gather_bytes(pickle.dumps((findings, _described(error))))]
    failed = [(other, described) for other, (_, described) in enumerate(outcomes) if described]
    if error is not None:
        raise error
    if failed:
        other, described = failed[0]
        raise RankCheckError(f"the optimizer set-up check raised on rank {other}: {described}")
    shown = pickle.loads(_broadcast_bytes(pickle.dumps(report) if rank == 0 else b""))
    shown_parts = list(shown)
    per_rank = [_folded(per_part, len(shown_parts)) for per_part, _ in outcomes]
    notes = [f"findings of all {size} ranks; the groups and learning rates shown are rank 0's",
             *_count_note([len(per_part) for per_part, _ in outcomes])]
    combined = [
        dataclasses.replace(part, findings=merged([per_part[index] for per_part in per_rank]),
                            notes=[*part.notes, *notes])
        for index, part in enumerate(shown_parts)
    ]
    return SetupReport(combined)


def _folded(per_part: list[list[Finding]], shown: int) -> list[list[Finding]]:
    """One list of findings per optimizer rank 0 has: those of a rank's further optimizers join the last,
    named by their index, so that none is dropped."""
    extra = [dataclasses.replace(finding, message=f"optimizer {index}: {finding.message}")
             for index in range(shown, len(per_part)) for finding in per_part[index]]
    padded = per_part[:shown] + [[] for _ in range(shown - len(per_part))]
    return [*padded[:-1], padded[-1] + extra]


def _count_note(counts: list[int]) -> list[str]:
    if len(set(counts)) == 1:
        return []
    listed = ", ".join(f"rank {rank}: {count}" for rank, count in enumerate(counts))
    return [f"the ranks check different numbers of optimizers ({listed}); the findings of those rank 0 has not "
            "are listed with its last one"]


def _all_gather_bytes(payload: bytes) -> list[bytes]:
    """Every rank's `payload`, in rank order."""
    dist = torch.distributed
    device = _exchange_device()
    sizes = [torch.zeros(1, dtype=torch.int64, device=device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([len(payload)], dtype=torch.int64, device=device))
    longest = max(int(size.item()) for size in sizes)
    gathered = [torch.zeros(longest, dtype=torch.uint8, device=device) for _ in sizes]
    dist.all_gather(gathered, _padded(payload, longest, device))
    return [_as_bytes(tensor[: int(size.item())]) for tensor, size in zip(gathered, sizes)]


def _broadcast_bytes(payload: bytes) -> bytes:
    """Rank 0's `payload` on every rank (the others pass anything)."""
    dist = torch.distributed
    device = _exchange_device()
    size = torch.tensor([len(payload)], dtype=torch.int64, device=device)
    dist.broadcast(size, src=0)
    data = _padded(payload, int(size.item()), device)
    dist.broadcast(data, src=0)
    return _as_bytes(data)


def _padded(payload: bytes, length: int, device) -> torch.Tensor:
    data = torch.zeros(length, dtype=torch.uint8)
    if payload:
        data[: len(payload)] = torch.frombuffer(bytearray(payload), dtype=torch.uint8)
    return data.to(device)


def _as_bytes(tensor: torch.Tensor) -> bytes:
    return bytes(tensor.cpu().tolist())


def _exchange_device() -> torch.device:
    """Where the collectives run: the CPU under gloo (alone or beside another backend), else this rank's GPU."""
    backend = str(torch.distributed.get_backend())
    if "gloo" in backend or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", torch.cuda.current_device())


def merged(per_rank: list[list[Finding]]) -> list[Finding]:
    """Each distinct finding once; one found on some ranks only says on which."""
    ranks_of: dict[Finding, set[int]] = {}
    for rank, findings in enumerate(per_rank):
        for finding in findings:
            ranks_of.setdefault(finding, set()).add(rank)
    size = len(per_rank)
    combined = [finding if len(ranks) == size else
                dataclasses.replace(finding, message=f"on {_ranks(ranks)} of {size}: {finding.message}")
                for finding, ranks in ranks_of.items()]
    return sorted(combined, key=lambda finding: finding.code)


def _ranks(ranks: set[int]) -> str:
    return f"rank{'s' * (len(ranks) > 1)} {join_and(sorted(ranks))}"


def _described(error: Exception | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"
