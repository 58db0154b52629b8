from __future__ import annotations

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import Group, ParameterSource, optimizers, parameter_sources, parameters_call, same_objects


class OverlappingParamGroups(Rule):
    """Two param groups of one optimizer that provably share parameters: the same expression twice,
    or `model.parameters()` beside `model.fc.parameters()` (a later `add_param_group` included)."""

    code = "OPT008"

    VALID = (
        # Sibling modules: no parameter in both.
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': model.backbone.parameters(), 'lr': 1e-4},
                                   {'params': model.head.parameters()}], lr=1e-2)
        """),
        # The decay / no-decay split: filters are never compared.
        Valid("""
            import torch
            decay = [p for n, p in model.named_parameters() if 'bias' not in n]
            no_decay = [p for n, p in model.named_parameters() if 'bias' in n]
            opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}])
        """),
        # Two optimizers over shared parameters: torch allows it; only groups of one optimizer are compared.
        Valid("""
            import torch
            whole = torch.optim.Adam(model.parameters())
            head = torch.optim.SGD(model.fc.parameters(), lr=0.1)
        """),
        # A new head replaces the old one after the optimizer was built: its parameters are new.
        Valid("""
            import torch
            from torch import nn
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            model.fc = nn.Linear(512, 20)
            opt.add_param_group({'params': model.fc.parameters()})
        """),
        Valid("""
            import torch
            from torch import nn
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            setattr(model, 'fc', nn.Linear(512, 20))
            opt.add_param_group({'params': model.fc.parameters()})
        """),
        # `model` in two functions is two different objects.
        Valid("""
            import torch
            def a(model):
                return torch.optim.SGD(model.parameters(), lr=0.1)
            def b(model, opt):
                opt.add_param_group({'params': model.fc.parameters()})
        """),
        # Only the direct parameters of the root, and the child's: disjoint.
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': model.parameters(recurse=False)},
                                   {'params': model.fc.parameters()}], lr=0.1)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.Adam([{'params': model.parameters()},
                                    {'params': model.fc.parameters(), 'lr': 1e-3}], lr=1e-4)
        """, at="3:36"),
        # list()-wrapped, bare whole params then a later add_param_group on the same optimizer.
        Invalid("""
            import torch
            opt = torch.optim.SGD(list(model.parameters()), lr=0.1)
            opt.add_param_group({'params': model.head.parameters(), 'lr': 0.01})
        """, at="3:32"),
        # The same expression twice.
        Invalid("""
            import torch
            w = list(model.parameters())
            opt = torch.optim.SGD([{'params': w}, {'params': w, 'lr': 0.0}], lr=0.1)
        """, at="3:50"),
        # self.model across methods.
        Invalid("""
            import torch
            class Task:
                def __init__(self, model):
                    self.model = model
                    self.opt = torch.optim.AdamW(self.model.encoder.parameters(), lr=1e-4)
                def unfreeze(self):
                    self.opt.add_param_group({'params': self.model.parameters()})
        """, at="7:45"),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        for optimizer in optimizers(model):
            earlier: list[tuple[Group, ParameterSource]] = []
            for group in optimizer.groups:
                found = [s for e in group.expressions for s in parameter_sources(model, e, group.scope)]
                for source in found:
                    clash = next(
                        (
                            old
                            for g, old in earlier
                            if old.overlaps(source) and same_objects(model, g, group, old, source)
                        ),
                        None,
                    )
                    if clash is not None:
                        self._report(ctx, source, clash)
                earlier.extend((group, s) for s in found)

    def _report(self, ctx, source: ParameterSource, clash: ParameterSource) -> None:
        code, other = ctx.module.code_for_node(source.node), ctx.module.code_for_node(clash.node)
        if source.tree and clash.tree and source.path != clash.path:
            relation = "is part of" if len(source.path) > len(clash.path) else "includes"
            fact = f"`{code}` {relation} `{other}` of an earlier group"
            outer, inner = sorted((source, clash), key=lambda s: len(s.path))
            prefix = ".".join(inner.path[len(outer.path):])
            inner_code, outer_code = (ctx.module.code_for_node(parameters_call(s.node)) for s in (inner, outer))
            hint = (
                f"Put `{inner_code}` in one group only; build the other from the rest: "
                f"`[p for n, p in {outer_code}.named_parameters() if not n.startswith('{prefix}.')]`."
            )
        else:
            fact = f"`{code}` is already in an earlier group"
            hint = "Keep these parameters in one group only."
        ctx.report(
            source.node,
            f"{fact}: torch raises ValueError (some parameters appear in more than one parameter group).",
            hint=hint,
        )
