"""OPT111, checked by the static and the runtime pass: one declaration, rules/OPT111.md, for both."""

from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import OPTIMIZER, ParamGroup, added_groups, bool_literal, constructions, number_literal

DECAY = "weight_decay"
DECOUPLED = "decoupled_weight_decay"


class AdamWithWeightDecay(Rule):
    """`Adam`, `NAdam` or `RAdam` given a literal `weight_decay > 0` without `decoupled_weight_decay=True`.

    These classes add the decay to the gradient (L2 regularisation) unless told otherwise, and the
    adaptive step then divides it by the gradient's running RMS: AdamW's decoupled decay was usually
    meant. The classes are the ones whose constructor has a `decoupled_weight_decay` flag (torch facts).
    Opt-in: L2 with Adam is sometimes deliberate.
    """

    code = "OPT111"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.05, decoupled_weight_decay=True)
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0)
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD(model.parameters(), 0.1, 0.9, 0, 5e-4)
        """),
        # Not a literal, or a flag that is not literal: optlint cannot tell.
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=cfg.wd)
        """),
        Valid("""
            import torch
            opt = torch.optim.NAdam(p, weight_decay=0.01, decoupled_weight_decay=cfg.decoupled)
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(p, weight_decay=0.01, **cfg.optimizer_kwargs)
        """),
        # Every group sets its own decay: the optimizer-wide value applies to none of them.
        Valid("""
            import torch
            opt = torch.optim.Adam([{'params': a, 'weight_decay': 0.0}, {'params': b, 'weight_decay': 0}], weight_decay=0.01)
        """),
        Valid("""
            from torch.optim import RAdam
            opt = RAdam([{'params': a, 'weight_decay': 0.1, 'decoupled_weight_decay': True}])
        """),
        Valid("""
            from torch.optim import Optimizer
            class Adam(Optimizer):
                pass
            opt = Adam(p, weight_decay=0.01)
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam([{**base, 'weight_decay': 0.01}])
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-2)
        """, at="2:66"),
        Invalid("""
            import torch.optim as optim
            opt = optim.Adam(model.parameters(), 1e-3, (0.9, 0.999), 1e-8, 5e-4)
        """, at="2:64"),
        Invalid("""
            from torch.optim import NAdam
            opt = NAdam(p, weight_decay=0.01, decoupled_weight_decay=False)
        """, at="2:29"),
        Invalid("""
            from torch.optim import RAdam
            opt = RAdam([{'params': a, 'weight_decay': 0.1}, {'params': b}])
        """, at="2:44"),
        Invalid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            opt.add_param_group({'params': head.parameters(), 'weight_decay': 0.05})
        """, at="3:67"),
    )

    def check(self, ctx) -> None:
        for construction in constructions(ctx.model):
            if not self._has_flag(ctx, construction.cls) or _unpacks_keywords(construction.call):
                continue
            default_decoupled = ctx.model.torch_argument(construction.call, OPTIMIZER, construction.cls, DECOUPLED)
            decay = ctx.model.torch_argument(construction.call, OPTIMIZER, construction.cls, DECAY)
            if _positive(decay) and any(_uses_default(g, default_decoupled) for g in construction.groups):
                self._report(ctx, construction.cls, decay)
            for group in construction.groups:
                self._check_group(ctx, construction.cls, group, default_decoupled)
        for _, instance, group in added_groups(ctx.model):
            if instance.cls is not None and self._has_flag(ctx, instance.cls) and not _unpacks_keywords(instance.call):
                self._check_group(ctx, instance.cls, group, ctx.model.torch_argument(instance.call, OPTIMIZER, instance.cls, DECOUPLED))

    def _check_group(self, ctx, cls: str, group: ParamGroup, default_decoupled) -> None:
        decay = group.value(DECAY) if group.is_dict else None
        if _positive(decay) and _group_coupled(group, default_decoupled):
            self._report(ctx, cls, decay)

    @staticmethod
    def _has_flag(ctx, cls: str) -> bool:
        return DECOUPLED in ctx.facts.optimizers[cls]["keywords"]

    def _report(self, ctx, cls: str, decay: cst.BaseExpression) -> None:
        value = cst.Module([]).code_for_node(decay)
        instead = ("`torch.optim.AdamW`, or pass `decoupled_weight_decay=True`" if cls == "Adam"
                   else "`decoupled_weight_decay=True`")
        ctx.report(
            decay,
            f"`{cls}` with weight_decay={value} adds the decay to the gradient (L2), which the adaptive step divides "
            "by the gradient's RMS: weights with large gradients are barely decayed, unlike with AdamW.",
            hint=f"Use {instead}, and retune the value (decoupled decay is scaled by lr); keep it if L2 is meant.",
        )


def _positive(expr: cst.BaseExpression | None) -> bool:
    value = number_literal(expr)
    return value is not None and value > 0


def _coupled(decoupled: cst.BaseExpression | None) -> bool:
    """Absent or a literal False; a name or call may hold True."""
    return decoupled is None or bool_literal(decoupled) is False


def _keys(group: ParamGroup) -> set[str]:
    return {key.name for key in group.keys}


def _group_coupled(group: ParamGroup, default_decoupled) -> bool:
    """The group's own decoupled_weight_decay, else the optimizer-wide one; `{**base}` may hold either."""
    if DECOUPLED in _keys(group):
        return _coupled(group.value(DECOUPLED))
    return not group.has_unpacking and _coupled(default_decoupled)


def _uses_default(group: ParamGroup, default_decoupled) -> bool:
    """A group that takes the optimizer-wide weight_decay and is not decoupled by its own key."""
    if not group.is_dict:
        return _coupled(default_decoupled)
    return DECAY not in _keys(group) and _group_coupled(group, default_decoupled)


def _unpacks_keywords(call: cst.Call) -> bool:
    """`**kwargs` may hold decoupled_weight_decay=True."""
    return any(arg.star == "**" for arg in call.args)
