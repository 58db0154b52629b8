"""OPT111 (opt-in), the runtime half: groups of Adam, NAdam or RAdam (the classes with a
`decoupled_weight_decay` flag) whose decay is L2 added to the gradient. The static half is
optlint/static/rules/opt111_adam_with_weight_decay.py."""

from __future__ import annotations

from torch.optim import Adam

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.rules._decay import decay, groups_and_decay

DECOUPLED = "decoupled_weight_decay"


def check(analysis: Analysis):
    optimizer = analysis.optimizer
    coupled = [index for index, group in enumerate(analysis.groups)
               if DECOUPLED in group and not group[DECOUPLED] and decay(group) > 0
               and any(p.requires_grad for p in group["params"])]
    if not coupled:
        return
    name = type(optimizer).__name__
    instead = ("torch.optim.AdamW(..., weight_decay=...)" if isinstance(optimizer, Adam)
               else f"{name}(..., decoupled_weight_decay=True)")
    yield Finding(
        "OPT111",
        f"{groups_and_decay(optimizer, coupled)} of `{name}` {'add' if len(coupled) > 1 else 'adds'} the decay to "
        f"the gradient (L2), which `{name}` divides by the gradient's RMS: weights with large gradients are "
        "barely decayed, unlike with AdamW's decoupled decay.",
        hint=f"Use `{instead}`, retuning the value (decoupled decay is scaled by `lr`); keep it only if L2 was "
             "meant.",
    )
