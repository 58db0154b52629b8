"""Weight-decay hygiene, opt-in (OPT110, OPT111): what a group with weight_decay > 0 really decays, and
Adam's coupled L2 where AdamW was likely meant.

The decay torch applies is the group's own `weight_decay` entry: torch copies the constructor's value,
or the class default (AdamW: 0.01), into every group, so an unwritten default counts too.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter

from torch import nn
from torch.optim import Adam

from optlint.findings import Finding
from optlint.runtime.coverage import Coverage
from optlint.runtime.naming import describe, join_and
from optlint.runtime.simulate import as_float

# torch.nn's BatchNorm1d-3d, LazyBatchNorm*, SyncBatchNorm, InstanceNorm*, LayerNorm, GroupNorm, RMSNorm,
# and user modules named the same way (LlamaRMSNorm, T5LayerNorm, LayerNorm2d), their subclasses too.
NORM_CLASS_NAME = re.compile(r"Norm(\d[dD])?$")
EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)
BIAS = "bias"
NORM = "normalisation weight"
EMBEDDING = "embedding"
PLURALS = {EMBEDDING: "embeddings", NORM: "normalisation weights", BIAS: "biases"}
DECOUPLED = "decoupled_weight_decay"


def is_norm(module_class: type) -> bool:
    return any(NORM_CLASS_NAME.search(cls.__name__) for cls in module_class.__mro__)


def weight_decay_findings(model: nn.Module, optimizer, coverage: Coverage) -> list[Finding]:
    return [*_decayed_norms_and_biases(model, optimizer, coverage), *_coupled_adam_decay(optimizer)]


def _decayed_norms_and_biases(model: nn.Module, optimizer, coverage: Coverage):
    """OPT110: one finding naming every bias, normalisation weight and embedding in a decaying group."""
    kinds = no_decay_kinds(model)
    decaying, names, counts = [], [], Counter()
    for index, group in enumerate(optimizer.param_groups):
        if _decay(group) <= 0:
            continue
        found = [(coverage.names[id(p)], kinds[id(p)]) for p in group["params"]
                 if p.requires_grad and id(p) in kinds and id(p) in coverage.names]
        if found:
            decaying.append(index)
            names += [name for name, _ in found]
            counts.update(kind for _, kind in found)
    if not decaying:
        return
    what = join_and(f"{counts[kind]} {kind if counts[kind] == 1 else plural}" for kind, plural in PLURALS.items()
                    if counts[kind])
    yield Finding(
        "OPT110",
        f"{_groups_and_decay(optimizer, decaying)} also {'decay' if len(decaying) > 1 else 'decays'} {what}: "
        f"{describe(coverage.tree.fold(names))}. Every step pulls them toward 0, though they are scales, offsets "
        "or lookup rows, not the weights decay is meant to regularise.",
        hint="split decay and no-decay groups: [{'params': decay, 'weight_decay': wd}, {'params': no_decay, "
        "'weight_decay': 0.0}], no_decay = biases, norm and embedding weights",
    )


def no_decay_kinds(model: nn.Module) -> dict[int, str]:
    """id(parameter) -> why it is usually left out of weight decay: a bias, a normalisation layer's weight,
    or an embedding table (unless the table is tied to an output layer, whose weight decays as usual)."""
    kinds: dict[int, str] = {}
    used_as_matrix: set[int] = set()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            if (name == BIAS or name.endswith("_" + BIAS)) and param.dim() <= 1:
                kinds[id(param)] = BIAS
            elif is_norm(type(module)):
                kinds[id(param)] = NORM
            elif isinstance(module, EMBEDDINGS):
                kinds.setdefault(id(param), EMBEDDING)
            else:
                used_as_matrix.add(id(param))
    return {key: kind for key, kind in kinds.items() if not (kind == EMBEDDING and key in used_as_matrix)}


def _coupled_adam_decay(optimizer):
    """OPT111: groups of Adam, NAdam or RAdam (the classes with a `decoupled_weight_decay` flag) whose
    decay is L2 added to the gradient."""
    coupled = [index for index, group in enumerate(optimizer.param_groups)
               if DECOUPLED in group and not group[DECOUPLED] and _decay(group) > 0
               and any(p.requires_grad for p in group["params"])]
    if not coupled:
        return
    name = type(optimizer).__name__
    instead = ("torch.optim.AdamW(..., weight_decay=...)" if isinstance(optimizer, Adam)
               else f"{name}(..., decoupled_weight_decay=True)")
    yield Finding(
        "OPT111",
        f"{_groups_and_decay(optimizer, coupled)} of {name} {'add' if len(coupled) > 1 else 'adds'} the decay to "
        f"the gradient (L2), which {name} divides by the gradient's RMS: weights with large gradients are "
        "barely decayed, unlike with AdamW's decoupled decay.",
        hint=f"use {instead}, retuning the value (decoupled decay is scaled by lr); keep it only if L2 was meant",
    )


def _groups_and_decay(optimizer, groups: list[int]) -> str:
    """`group 0 (weight_decay=0.01, AdamW's default)`, `groups 0 and 2 (weight_decay=0.05)`."""
    values = {_decay(optimizer.param_groups[g]) for g in groups}
    if len(values) == 1:
        [value] = values
        return f"group{'s' * (len(groups) > 1)} {join_and(groups)} ({_decay_text(optimizer, value)})"
    return "groups " + join_and(f"{g} ({_decay_text(optimizer, _decay(optimizer.param_groups[g]))})" for g in groups)


def _decay_text(optimizer, value: float) -> str:
    default = _default_decay(type(optimizer))
    return f"weight_decay={value:g}" + (f", {type(optimizer).__name__}'s default" if value == default else "")


def _default_decay(cls) -> float | None:
    try:
        parameter = inspect.signature(cls.__init__).parameters.get("weight_decay")
    except (TypeError, ValueError):
        return None
    return parameter.default if parameter is not None and isinstance(parameter.default, (int, float)) else None


def _decay(group: dict) -> float:
    return as_float(group.get("weight_decay", 0.0))
