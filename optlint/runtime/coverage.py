"""Which tensors the optimizer holds, compared with the model's parameters, by identity (OPT101-105).

Never by value: a deepcopy holds equal values in other tensors, and an optimizer built for it
trains nothing of this model. Tied weights are one tensor, named once (`remove_duplicate=True`).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

import torch

from optlint.findings import Finding
from optlint.runtime.naming import ModuleTree, describe, join_and
from optlint.runtime.report import setting
from optlint.runtime.unwrap import user_named_parameters

REQUIRES_GRAD = operator.attrgetter("requires_grad")
NUMEL = torch.Tensor.numel
COPY_OF_MODEL = "a deepcopy, a re-instantiated model, an EMA twin"


@dataclass
class Coverage:
    names: dict[int, str]  # id(parameter) -> its name, in model order
    params: dict[int, object]  # id(parameter) -> the parameter
    group_names: list[list[str]] = field(default_factory=list)  # per group: the model's names of its tensors
    group_elements: list[int] = field(default_factory=list)
    group_tensors: list[int] = field(default_factory=list)
    group_of: dict[int, int] = field(default_factory=dict)  # id(tensor) -> the first group holding it
    repeats: dict[int, list[int]] = field(default_factory=dict)  # id -> every group, for tensors held twice
    foreign: dict[int, object] = field(default_factory=dict)  # id -> tensor, for tensors not in the model
    frozen: dict[int, list[str]] = field(default_factory=dict)  # group -> frozen names beside trainable tensors
    trained_elsewhere: frozenset[int] = frozenset()  # ids of parameters that another optimizer trains
    findings: list[Finding] = field(default_factory=list)

    @functools.cached_property
    def tree(self) -> ModuleTree:
        return ModuleTree(self.names.values())

    def left_out(self) -> list[int]:
        """The ids of the model's parameters that no optimizer holds, in model order."""
        held = self.group_of.keys() | self.trained_elsewhere
        return [key for key in self.names if key not in held]

    def add_group(self, index: int, tensors: list) -> None:
        # map() over C accessors keeps this linear pass fast: 100,000 tensors in a fraction of a second.
        ids = list(map(id, tensors))
        names = list(map(self.names.get, ids))
        trainable = list(map(REQUIRES_GRAD, tensors))
        self._place(index, ids)
        if None in names:
            self.foreign.update((key, t) for key, name, t in zip(ids, names, tensors) if name is None)
            names_in_model = [name for name in names if name is not None]
        else:
            names_in_model = names
        if any(trainable) and not all(trainable):  # a group of only frozen tensors is staged for unfreezing
            frozen = [name for name, grad in zip(names, trainable) if not grad and name is not None]
            if frozen:
                self.frozen[index] = frozen
        self.group_names.append(names_in_model)
        self.group_elements.append(sum(map(NUMEL, tensors)))
        self.group_tensors.append(len(tensors))

    def _place(self, index: int, ids: list[int]) -> None:
        fresh = dict.fromkeys(ids, index)
        if len(fresh) == len(ids) and self.group_of.keys().isdisjoint(fresh):
            self.group_of.update(fresh)
            return
        for key in ids:  # some tensor is held twice: note every place
            if key in self.group_of:
                self.repeats.setdefault(key, [self.group_of[key]]).append(index)
            else:
                self.group_of[key] = index


def check_coverage(model, param_groups: list[dict], trained_elsewhere: frozenset[int] = frozenset()) -> Coverage:
    """`trained_elsewhere`: ids of the model's parameters that other optimizers hold (a GAN's generator
    and discriminator optimizers): not missing from this one."""
    pairs = user_named_parameters(model)
    ids = [id(p) for _, p in pairs]
    coverage = Coverage(dict(zip(ids, (name for name, _ in pairs))), dict(zip(ids, (p for _, p in pairs))),
                        trained_elsewhere=trained_elsewhere)
    for index, group in enumerate(param_groups):
        coverage.add_group(index, group["params"])
    coverage.findings = [
        *_not_in_optimizer(coverage),
        *_in_several_places(coverage),
        *_frozen_beside_trainable(coverage, param_groups),
        *_foreign(coverage),
        *_empty_groups(param_groups),
    ]
    return coverage


def _not_in_optimizer(coverage: Coverage):
    missing = [coverage.names[key] for key in coverage.left_out() if coverage.params[key].requires_grad]
    if not missing:
        return
    trainable_here = [p for key, p in coverage.params.items() if key not in coverage.trained_elsewhere]
    if len(missing) == sum(map(REQUIRES_GRAD, trainable_here)):
        fact = f"none of the model's {_count(missing, 'trainable parameter')} is in a param group"
        hint = "build the optimizer from this model: torch.optim.AdamW(model.parameters(), ...)"
    else:
        folded = coverage.tree.fold(missing)
        where_none = "param group of any optimizer" if coverage.trained_elsewhere else "param group"
        fact = (f"{_count(missing, 'trainable parameter')} of the model {_verb(missing, 'is', 'are')} in no "
                f"{where_none}: {describe(folded)}")
        module = folded[0].text.removesuffix(".*")
        where = f"{{'params': model.{module}.parameters()}}" if folded[0].text.endswith(".*") and all(
            part.isidentifier() for part in module.split(".")) else "them"
        hint = f"add {where} to the optimizer's groups, or freeze them with requires_grad_(False) if they stay fixed"
    who = "no optimizer updates" if coverage.trained_elsewhere else "the optimizer never updates"
    what = "it, so it keeps its initial value" if len(missing) == 1 else "them, so they keep their initial values"
    yield Finding("OPT101", f"{fact}: {who} {what}.", hint=hint)


def _in_several_places(coverage: Coverage):
    if not coverage.repeats:
        return
    names = [coverage.names[key] for key in coverage.repeats if key in coverage.names]
    unnamed = len(coverage.repeats) - len(names)
    what = ", ".join(filter(None, [describe(coverage.tree.fold(names)) if names else "",
                                   _count(range(unnamed), "tensor outside the model") if unnamed else ""]))
    groups = sorted({g for gs in coverage.repeats.values() for g in gs})
    where = (f"more than once in group {groups[0]}" if len(groups) == 1
             else f"in more than one group ({join_and(groups)})")
    yield Finding(
        "OPT102",
        f"{what} {_verb(coverage.repeats, 'is', 'are')} {where}: every step updates such a tensor once per "
        "occurrence, each time with that group's lr, and advances its optimizer state as often.",
        hint="keep each tensor in exactly one group: build the groups from disjoint parameter lists",
    )


def _frozen_beside_trainable(coverage: Coverage, param_groups: list[dict]):
    for index, frozen in coverage.frozen.items():
        yield Finding(
            "OPT103",
            f"{describe(coverage.tree.fold(frozen))} {_verb(frozen, 'has', 'have')} requires_grad=False but "
            f"{_verb(frozen, 'sits', 'sit')} in group {index} beside trainable tensors: skipped while frozen, "
            f"{_verb(frozen, 'it trains', 'they train')} again with this group's "
            f"lr={setting(param_groups[index].get('lr'))} the moment anything sets requires_grad=True.",
            hint="build the optimizer from trainable tensors only: [p for p in model.parameters() if p.requires_grad]",
        )


def _foreign(coverage: Coverage):
    """Tensors outside the model, while trainable parameters of the model are left out: the optimizer
    holds a copy or a replaced module. Extras beside a fully covered model (a loss module's weights, a
    learnable temperature, optimized inputs) are deliberate and not flagged."""
    if not coverage.foreign:
        return
    left_out = [coverage.params[key] for key in coverage.left_out()]
    if not any(p.requires_grad for p in left_out):
        return
    groups = sorted({coverage.group_of[key] for key in coverage.foreign})
    yield Finding(
        "OPT104",
        f"{_count(coverage.foreign, 'tensor')} in group {join_and(groups)} "
        f"{_verb(coverage.foreign, 'is not a parameter', 'are not parameters')} of the model"
        f"{_same_shapes(coverage, left_out)}: {_verb(coverage.foreign, 'it belongs', 'they belong')} to a module "
        f"replaced after the optimizer was built, or to another copy of the model ({COPY_OF_MODEL}); stepping "
        f"{_verb(coverage.foreign, 'it', 'them')} never changes this model.",
        hint="build the optimizer from the model you train, after the last copy, re-instantiation or sharding "
        "(fully_shard): torch.optim.AdamW(model.parameters(), ...)",
    )


def _same_shapes(coverage: Coverage, left_out: list) -> str:
    """` (same shapes as head.weight, head.bias)` when each foreign tensor matches a left-out parameter."""
    by_shape: dict[tuple, list] = {}
    for p in left_out:
        by_shape.setdefault(tuple(p.shape), []).append(p)
    twins = []
    for tensor in coverage.foreign.values():
        candidates = by_shape.get(tuple(tensor.shape))
        if not candidates:
            return ""
        twins.append(coverage.names[id(candidates.pop(0))])
    if len(twins) == len(coverage.names):
        return " (the same shapes as all of the model's parameters)"
    return f" (same shapes as {describe(coverage.tree.fold(twins))})"


def _empty_groups(param_groups):
    for index, group in enumerate(param_groups):
        if not group["params"]:
            settings = ", ".join(f"{k}={setting(group[k])}" for k in ("lr", "weight_decay") if k in group)
            yield Finding(
                "OPT105",
                f"group {index} holds no tensors: its settings ({settings}) apply to nothing. It was probably built "
                "from the .parameters() of a module that owns none (nn.ReLU, nn.Dropout, pooling, nn.Identity).",
                hint="remove the group, or build it from the module whose weights you meant",
            )


def _count(items, noun: str) -> str:
    n = len(items)
    return f"{n} {noun}{'s' * (n != 1)}"


def _verb(items, singular: str, plural: str) -> str:
    return singular if len(items) == 1 else plural
