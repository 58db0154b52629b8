"""Which tensors the optimizer holds, compared with the model's parameters, by identity (read by OPT101-105).

Never by value: a deepcopy holds equal values in other tensors, and an optimizer built for it
trains nothing of this model. Tied weights are one tensor, named once (`remove_duplicate=True`).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

import torch

from optlint.runtime.naming import ModuleTree
from optlint.runtime.unwrap import user_named_parameters

REQUIRES_GRAD = operator.attrgetter("requires_grad")
NUMEL = torch.Tensor.numel


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
        self.group_elements.append(_elements(tensors))
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


def _elements(tensors: list) -> int:
    # ZeRO stage 3 partitions a parameter's data away between steps: its size is then DeepSpeed's `ds_numel`.
    return sum(map(NUMEL, tensors)) or sum(getattr(t, "ds_numel", 0) for t in tensors)


def coverage_of(model, param_groups: list[dict], trained_elsewhere: frozenset[int] = frozenset()) -> Coverage:
    """`trained_elsewhere`: ids of the model's parameters that other optimizers hold (a GAN's generator
    and discriminator optimizers): not missing from this one."""
    pairs = user_named_parameters(model)
    ids = [id(p) for _, p in pairs]
    coverage = Coverage(dict(zip(ids, (name for name, _ in pairs))), dict(zip(ids, (p for _, p in pairs))),
                        trained_elsewhere=trained_elsewhere)
    for index, group in enumerate(param_groups):
        coverage.add_group(index, group["params"])
    return coverage
