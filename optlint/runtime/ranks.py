"""The check under torch.distributed: every rank checks its own model and optimizer, the findings of
all ranks are combined, and every rank reaches the same verdict.

A verdict that differed between ranks would leave the ranks that carry on waiting in their next
collective for a rank that raised, until the process group times out. So the ranks exchange their
findings (or the error their check raised) in one `all_gather_object`, take rank 0's groups and
schedule in one `broadcast_object_list`, and decide from the same data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from optlint.findings import Finding
from optlint.runtime import several
from optlint.runtime.naming import join_and
from optlint.runtime.report import SetupReport, parts


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
    outcomes: list = [None] * size
    findings = [part.findings for part in parts(report)] if report else None
    torch.distributed.all_gather_object(outcomes, (findings, _described(error)))
    failed = [(other, described) for other, (_, described) in enumerate(outcomes) if described]
    if error is not None:
        raise error
    if failed:
        other, described = failed[0]
        raise RankCheckError(f"the optimizer set-up check raised on rank {other}: {described}")
    shown = [report]
    torch.distributed.broadcast_object_list(shown, src=0)
    combined = [
        dataclasses.replace(
            part,
            findings=merged([per_part[index] if index < len(per_part) else [] for per_part, _ in outcomes]),
            notes=[*part.notes, f"findings of all {size} ranks; the groups and learning rates shown are rank 0's"],
        )
        for index, part in enumerate(parts(shown[0]))
    ]
    return several.SetupReports(combined) if isinstance(shown[0], several.SetupReports) else combined[0]


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
