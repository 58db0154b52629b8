"""Several optimizers that together train one model: Muon for the hidden matrices and AdamW for the rest,
a GAN's generator and discriminator optimizers.

Each optimizer gets its own report, as `check_setup` would give it, except that the parameters the
others hold are not missing from it (OPT101). What no single report can see is a tensor that two
optimizers hold: each `step()` updates it, so it moves twice per iteration (OPT102).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from optlint.findings import Finding
from optlint.runtime.naming import ModuleTree, describe
from optlint.runtime.unwrap import is_scheduler, unwrap_model, unwrap_optimizer, unwrap_scheduler, user_named_parameters


class SetupReports(list):
    """One SetupReport per optimizer, in the order given; `ok`, `findings`, `to_dict()` and `str()` cover all."""

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self)

    @property
    def findings(self) -> list[Finding]:
        return [finding for report in self for finding in report.findings]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "optimizers": [report.to_dict() for report in self]}

    def __str__(self) -> str:
        return "\n\n\n".join(str(report) for report in self)


def is_several(optimizer) -> bool:
    """A list or tuple of optimizers (a list of tensors is a mistake that the one-optimizer check names)."""
    return isinstance(optimizer, (list, tuple)) and bool(optimizer) and all(
        isinstance(unwrap_optimizer(o)[0], torch.optim.Optimizer) for o in optimizer)


def schedulers_for(optimizers: Sequence, scheduler) -> list:
    """One scheduler (or None, or a factory) per optimizer: a list given in their order, or one live
    scheduler placed with the optimizer it drives (with the first when it drives none: OPT109 says so)."""
    if isinstance(scheduler, (list, tuple)):
        if len(scheduler) != len(optimizers):
            raise ValueError(f"{len(optimizers)} optimizers but {len(scheduler)} schedulers: give one per optimizer, "
                             "in the same order (None for an optimizer without one)")
        return list(scheduler)
    placed: list = [None] * len(optimizers)
    if scheduler is None:
        return placed
    live = unwrap_scheduler(scheduler)
    if not is_scheduler(live):
        raise ValueError("a scheduler factory fits any optimizer: with several optimizers, pass a list with one "
                         "entry per optimizer, e.g. scheduler=[factory, None]")
    drives = [i for i, optimizer in enumerate(optimizers) if any(live.optimizer is a for a in _aliases(optimizer))]
    placed[drives[0] if drives else 0] = scheduler
    return placed


def not_missing_from(model, optimizers: Sequence, index: int) -> frozenset[int]:
    """The parameters report `index` must not call missing (OPT101): those the other optimizers hold and,
    for every report but the first, those no optimizer holds, which the first one names, once."""
    others = held_by(optimizers[:index] + optimizers[index + 1:])
    if index == 0:
        return others
    return others | (frozenset(id(p) for _, p in user_named_parameters(unwrap_model(model))) - held_by(optimizers))


def held_by(optimizers) -> frozenset[int]:
    """The ids of the tensors these optimizers hold."""
    return frozenset(id(p) for optimizer in optimizers for group in optimizer.param_groups for p in group["params"])


def shared_between(model, optimizers: Sequence) -> dict[int, list[Finding]]:
    """OPT102 for the tensors two optimizers hold, filed with the report of the later one, by its index."""
    names = {id(p): name for name, p in user_named_parameters(unwrap_model(model))}
    tree = ModuleTree(names.values())
    held = [held_by([optimizer]) for optimizer in optimizers]
    findings: dict[int, list[Finding]] = {}
    for later in range(1, len(optimizers)):
        for earlier in range(later):
            shared = held[later] & held[earlier]
            if shared:
                findings.setdefault(later, []).append(_held_twice(shared, names, tree, optimizers, earlier, later))
    return findings


def _held_twice(shared: frozenset[int], names: dict[int, str], tree: ModuleTree, optimizers, earlier: int,
                later: int) -> Finding:
    named = [names[key] for key in names if key in shared]  # in model order
    unnamed = len(shared) - len(named)
    what = ", ".join(filter(None, [describe(tree.fold(named)) if named else "",
                                   f"{unnamed} tensor{'s' * (unnamed > 1)} outside the model" if unnamed else ""]))
    return Finding(
        "OPT102",
        f"{what} {'is' if len(shared) == 1 else 'are'} held by optimizer {earlier} ({_name(optimizers[earlier])}) "
        f"and optimizer {later} ({_name(optimizers[later])}): each one's step() updates such a tensor, so it moves "
        "twice per iteration.",
        hint="give each parameter to one optimizer: split the model's parameters once, into disjoint lists",
    )


def _aliases(optimizer) -> list:
    return unwrap_optimizer(optimizer)[1]


def _name(optimizer) -> str:
    return type(unwrap_optimizer(optimizer)[0]).__name__


def note_for(index: int, optimizers: Sequence) -> str:
    others = "the others hold" if len(optimizers) > 2 else "the other holds"
    return f"optimizer {index} of the {len(optimizers)} given; the parameters {others} are not missing from this one"
