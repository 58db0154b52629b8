"""Which tensors the optimizer holds, compared with the model's parameters, by identity (OPT101-105).

Never by value: a deepcopy holds equal values in other tensors, and an optimizer built for it
trains nothing of this model. Tied weights are one tensor, named once (`remove_duplicate=True`).
"""

from __future__ import annotations

from dataclasses import dataclass

from optlint.runtime.naming import ModuleTree, describe
from optlint.runtime.report import RuntimeFinding

COPY_OF_MODEL = "a deepcopy, a re-instantiated model, an EMA twin"


@dataclass
class Coverage:
    tree: ModuleTree
    group_names: list[list[str]]  # per group: the model's names of its tensors
    group_elements: list[int]
    group_tensors: list[int]
    findings: list[RuntimeFinding]


def check_coverage(model, param_groups: list[dict]) -> Coverage:
    named = {id(p): (name, p) for name, p in model.named_parameters(remove_duplicate=True)}
    tree = ModuleTree(name for name, _ in named.values())
    places: dict[int, list[int]] = {}
    foreign: dict[int, object] = {}
    group_names, group_elements, group_tensors = [], [], []
    for index, group in enumerate(param_groups):
        tensors = group["params"]
        for tensor in tensors:
            places.setdefault(id(tensor), []).append(index)
            if id(tensor) not in named:
                foreign[id(tensor)] = tensor
        group_names.append([named[id(t)][0] for t in tensors if id(t) in named])
        group_elements.append(sum(t.numel() for t in tensors))
        group_tensors.append(len(tensors))

    findings = [
        *_not_in_optimizer(named, places, tree),
        *_in_several_places(named, places, tree),
        *_frozen_beside_trainable(named, param_groups, tree),
        *_foreign(named, places, foreign, tree),
        *_empty_groups(param_groups),
    ]
    return Coverage(tree, group_names, group_elements, group_tensors, findings)


def _not_in_optimizer(named, places, tree: ModuleTree):
    trainable = [name for key, (name, p) in named.items() if p.requires_grad]
    missing = [name for key, (name, p) in named.items() if p.requires_grad and key not in places]
    if not missing:
        return
    if len(missing) == len(trainable):
        fact = f"none of the model's {_count(missing, 'trainable parameter')} is in a param group"
        hint = "build the optimizer from this model: torch.optim.AdamW(model.parameters(), ...)"
    else:
        folded = tree.fold(missing)
        fact = f"{_count(missing, 'trainable parameter')} of the model {_verb(missing, 'is', 'are')} in no param group: {describe(folded)}"
        module = folded[0].text.removesuffix(".*")
        where = f"{{'params': model.{module}.parameters()}}" if folded[0].text.endswith(".*") and all(
            part.isidentifier() for part in module.split(".")) else "them"
        hint = f"add {where} to the optimizer's groups, or freeze them with requires_grad_(False) if they should not train"
    yield RuntimeFinding(
        "OPT101",
        f"{fact}. They get gradients, but the optimizer never updates them.",
        hint=hint,
    )


def _in_several_places(named, places, tree: ModuleTree):
    repeated = {key: groups for key, groups in places.items() if len(groups) > 1}
    if not repeated:
        return
    names = [named[key][0] for key in repeated if key in named]
    what = describe(tree.fold(names)) if names else ""
    unnamed = len(repeated) - len(names)
    what = ", ".join(filter(None, [what, _count(range(unnamed), "tensor outside the model") if unnamed else ""]))
    groups = sorted({g for gs in repeated.values() for g in gs})
    yield RuntimeFinding(
        "OPT102",
        f"{what} {_verb(repeated, 'is', 'are')} in more than one place in the optimizer (groups {_list(groups)}): every step "
        "updates the tensor once per occurrence, each time with that group's lr, and advances its state as often.",
        hint="keep each tensor in exactly one group: build the groups from disjoint parameter lists",
    )


def _frozen_beside_trainable(named, param_groups, tree: ModuleTree):
    """Frozen tensors mixed with trainable ones. A group of only frozen tensors is staged for unfreezing."""
    for index, group in enumerate(param_groups):
        tensors = group["params"]
        frozen = [named[id(t)][0] for t in tensors if id(t) in named and not t.requires_grad]
        if frozen and any(t.requires_grad for t in tensors):
            yield RuntimeFinding(
                "OPT103",
                f"{describe(tree.fold(frozen))} {_verb(frozen, 'has', 'have')} requires_grad=False but "
                f"{_verb(frozen, 'sits', 'sit')} in group {index} beside trainable tensors: skipped while frozen, "
                f"{_verb(frozen, 'it trains', 'they train')} again with this group's lr={group.get('lr')!r} "
                "the moment anything sets requires_grad=True.",
                hint="build the optimizer from trainable tensors only: [p for p in model.parameters() if p.requires_grad]",
            )


def _foreign(named, places, foreign, tree: ModuleTree):
    if not foreign:
        return
    groups = sorted({g for key in foreign for g in places[key]})
    lookalike = _same_shapes(foreign.values(), [p for key, (_, p) in named.items() if key not in places], named, tree)
    yield RuntimeFinding(
        "OPT104",
        f"{_count(foreign, 'tensor')} in group {_list(groups)} {_verb(foreign, 'is', 'are')} not parameters of the model{lookalike}: "
        f"the optimizer was built for another copy of it ({COPY_OF_MODEL}), so its steps never change this model.",
        hint="build the optimizer from the model you train, after the last copy or re-instantiation: "
        "torch.optim.AdamW(model.parameters(), ...)",
    )


def _same_shapes(foreign_tensors, left_out, named, tree: ModuleTree) -> str:
    """` (same shapes as head.weight, head.bias)` when each foreign tensor matches a left-out parameter."""
    by_shape: dict[tuple, list] = {}
    for p in left_out:
        by_shape.setdefault(tuple(p.shape), []).append(p)
    twins = []
    for tensor in foreign_tensors:
        candidates = by_shape.get(tuple(tensor.shape))
        if not candidates:
            return ""
        twins.append(named[id(candidates.pop(0))][0])
    return f" (same shapes as {describe(tree.fold(twins))})"


def _empty_groups(param_groups):
    for index, group in enumerate(param_groups):
        if not group["params"]:
            settings = ", ".join(f"{k}={group[k]!r}" for k in ("lr", "weight_decay") if k in group)
            yield RuntimeFinding(
                "OPT105",
                f"group {index} holds no tensors: its settings ({settings}) apply to nothing. It was probably built "
                "from the .parameters() of a module that owns none (nn.ReLU, nn.Dropout, pooling, nn.Identity).",
                hint="remove the group, or build it from the module whose weights you meant",
            )


def _count(items, noun: str) -> str:
    n = len(items)
    return f"{n} {noun}{'s' * (n != 1)}"


def _list(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _verb(items, singular: str, plural: str) -> str:
    return singular if len(items) == 1 else plural
