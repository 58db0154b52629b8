"""OPT110 (opt-in): one finding naming every bias, normalisation weight and embedding in a group with
`weight_decay > 0`."""

from __future__ import annotations

import re
from collections import Counter

from torch import nn

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.naming import describe, join_and
from optlint.runtime.rules._decay import decay, groups_and_decay
from optlint.words import plural

# torch.nn's BatchNorm1d-3d, LazyBatchNorm*, SyncBatchNorm, InstanceNorm*, LayerNorm, GroupNorm, RMSNorm,
# and user modules named the same way (LlamaRMSNorm, T5LayerNorm, LayerNorm2d), their subclasses too.
NORM_CLASS_NAME = re.compile(r"Norm(\d[dD])?$")
EMBEDDINGS = (nn.Embedding, nn.EmbeddingBag)
BIAS = "bias"
NORM = "normalisation weight"
EMBEDDING = "embedding"
PLURALS = {EMBEDDING: "embeddings", NORM: "normalisation weights", BIAS: "biases"}


def is_norm(module_class: type) -> bool:
    return any(NORM_CLASS_NAME.search(cls.__name__) for cls in module_class.__mro__)


def check(analysis: Analysis):
    kinds = no_decay_kinds(analysis.model)
    names = analysis.coverage.names
    decaying, found_names, counts = [], [], Counter()
    for index, group in enumerate(analysis.groups):
        if decay(group) <= 0:
            continue
        found = [(names[id(p)], kinds[id(p)]) for p in group["params"]
                 if p.requires_grad and id(p) in kinds and id(p) in names]
        if found:
            decaying.append(index)
            found_names += [name for name, _ in found]
            counts.update(kind for _, kind in found)
    if not decaying:
        return
    what = join_and(plural(counts[kind], kind, kinds_of) for kind, kinds_of in PLURALS.items() if counts[kind])
    yield Finding(
        "OPT110",
        f"{groups_and_decay(analysis.optimizer, decaying)} also {'decay' if len(decaying) > 1 else 'decays'} "
        f"{what}: {describe(analysis.coverage.tree.fold(found_names))}. Every step pulls them toward 0, though they "
        "are scales, offsets or lookup rows, not the weights decay is meant to regularise.",
        hint="Split decay and no-decay groups: `[{'params': decay, 'weight_decay': wd}, {'params': no_decay, "
             "'weight_decay': 0.0}]`, with biases, norm and embedding weights in `no_decay`.",
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
