from __future__ import annotations

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import OPTIMIZER_USE, ExhaustedUse, exhausted_uses


class ReusedParameterGenerator(Rule):
    """A variable holding `model.parameters()` (a generator) used twice: the first use exhausts it,
    so the second optimizer or group gets no parameters."""

    code = "OPT009"

    VALID = (
        # Materialised once, used twice.
        Valid("""
            import torch
            params = list(model.parameters())
            print(sum(p.numel() for p in params))
            opt = torch.optim.SGD(params, lr=0.1)
        """),
        # Mutually exclusive branches: one use on each path.
        Valid("""
            import torch
            params = model.parameters()
            if cfg.sgd:
                opt = torch.optim.SGD(params, lr=0.1)
            else:
                opt = torch.optim.Adam(params, lr=1e-3)
        """),
        Valid("""
            import torch
            def build(model, name):
                params = model.parameters()
                if name == 'sgd':
                    return torch.optim.SGD(params, lr=0.1)
                return torch.optim.Adam(params)
        """),
        Valid("""
            import torch
            params = model.parameters()
            opt = torch.optim.SGD(params, lr=0.1) if cfg.sgd else torch.optim.Adam(params)
        """),
        # A rebinding in between gives a fresh generator.
        Valid("""
            import torch
            params = model.parameters()
            n = sum(p.numel() for p in params)
            params = model.parameters()
            opt = torch.optim.SGD(params, lr=0.1)
        """),
        # Bound inside the loop: fresh each iteration.
        Valid("""
            import torch
            for fold in range(5):
                params = model.parameters()
                opt = torch.optim.SGD(params, lr=0.1)
        """),
        # A loop left after its first iteration.
        Valid("""
            import torch
            params = model.parameters()
            for name in ('fused', 'plain'):
                try:
                    opt = torch.optim.AdamW(params, fused=name == 'fused')
                    break
                except RuntimeError:
                    continue
        """),
        # timm-style decay/no-decay split: one loop reads the generator once.
        Valid("""
            import torch
            decay, no_decay = [], []
            named = model.named_parameters()
            for name, p in named:
                if not p.requires_grad:
                    continue
                (no_decay if p.ndim <= 1 or name.endswith('.bias') else decay).append(p)
            opt = torch.optim.AdamW([{'params': no_decay, 'weight_decay': 0.0}, {'params': decay}])
        """),
        # HF `get_parameter_names` style, materialised once.
        Valid("""
            import torch
            named = list(model.named_parameters())
            decay_names = get_parameter_names(model, [LayerNorm])
            groups = [{'params': [p for n, p in named if n in decay_names], 'weight_decay': 0.01},
                      {'params': [p for n, p in named if n not in decay_names], 'weight_decay': 0.0}]
            opt = torch.optim.AdamW(groups, lr=5e-5)
        """),
        # The second read is a count, which feeds no group.
        Valid("""
            import torch
            named = model.named_parameters()
            trainable = [p for n, p in named if p.requires_grad]
            frozen = sum(p.numel() for n, p in named)
            opt = torch.optim.AdamW(trainable)
        """),
        # The first read only wraps the generator; the list comprehension reads it first.
        Valid("""
            import torch
            named = model.named_parameters()
            decay = (p for n, p in named if 'bias' not in n)
            no_decay = [p for n, p in named if 'bias' in n]
            opt = torch.optim.AdamW([{'params': no_decay, 'lr': 0.0}])
        """),
        # `any()` may stop at the first parameter: what follows is not known to be empty.
        Valid("""
            import torch
            params = model.parameters()
            if not any(p.requires_grad for p in params):
                raise ValueError('all frozen')
            opt = torch.optim.SGD([p for p in params if p.requires_grad], lr=0.1)
        """),
        # The empty list is filled afterwards.
        Valid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim > 1]
            no_decay = [p for n, p in named if p.ndim <= 1]
            no_decay.extend(model.norm.parameters())
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """),
        # The first read runs only if a nested function is called.
        Valid("""
            import torch
            named = model.named_parameters()
            def log_names():
                print([n for n, _ in named])
            opt = torch.optim.AdamW([p for n, p in named if p.requires_grad])
        """),
    )
    INVALID = (
        # Two optimizers.
        Invalid("""
            import torch
            params = model.parameters()
            opt_a = torch.optim.SGD(params, lr=0.1)
            opt_b = torch.optim.Adam(params, lr=1e-3)
        """, at="4:26"),
        # A count before the optimizer.
        Invalid("""
            import torch
            params = model.parameters()
            print(f'{sum(p.numel() for p in params)} parameters')
            opt = torch.optim.AdamW(params, lr=1e-3)
        """, at="4:25"),
        # Two groups of one optimizer.
        Invalid("""
            import torch
            named = model.named_parameters()
            opt = torch.optim.SGD([{'params': [p for n, p in named if 'bias' in n], 'weight_decay': 0.0},
                                   {'params': [p for n, p in named if 'bias' not in n]}], lr=0.1)
        """, at="4:50"),
        # A loop around the optimizer, the generator bound outside it.
        Invalid("""
            import torch
            params = model.parameters()
            for fold in range(5):
                opt = torch.optim.SGD(params, lr=0.1)
        """, at="4:27"),
        # A for-loop over it, then a group.
        Invalid("""
            import torch
            def setup(model):
                params = model.parameters()
                for p in params:
                    p.requires_grad_(True)
                return torch.optim.SGD([{'params': params, 'lr': 0.1}])
        """, at="6:40"),
        # A decay/no-decay split from one `named_parameters()`: the second comprehension is empty.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if not n.endswith('bias')]
            no_decay = [p for n, p in named if n.endswith('bias')]
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """, at="4:27"),
        # The same split through a list of groups.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim >= 2]
            no_decay = [p for n, p in named if p.ndim < 2]
            groups = [{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}]
            opt = torch.optim.AdamW(groups)
        """, at="4:27"),
        # HF `get_parameter_names` style, the generator hoisted into a name.
        Invalid("""
            import torch
            def create_optimizer(model, decay_names):
                named = model.named_parameters()
                decayed = [p for n, p in named if n in decay_names and p.requires_grad]
                undecayed = [p for n, p in named if n not in decay_names and p.requires_grad]
                return torch.optim.AdamW([{'params': decayed, 'weight_decay': 0.01},
                                          {'params': undecayed, 'weight_decay': 0.0}], lr=5e-5)
        """, at="5:32"),
        # Filtering by requires_grad after a parameter count.
        Invalid("""
            import torch
            params = model.parameters()
            print(sum(p.numel() for p in params))
            trainable = list(filter(lambda p: p.requires_grad, params))
            opt = torch.optim.Adam(trainable, lr=1e-3)
        """, at="4:52"),
        # timm-style loop filling `no_decay` after a comprehension read the generator.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim > 1]
            no_decay = []
            for n, p in named:
                if p.ndim <= 1:
                    no_decay.append(p)
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """, at="5:13"),
        # A head group added later (gradual unfreezing).
        Invalid("""
            import torch
            named = model.named_parameters()
            body = [p for n, p in named if not n.startswith('head')]
            head = [p for n, p in named if n.startswith('head')]
            opt = torch.optim.SGD(body, lr=0.01)
            opt.add_param_group({'params': head, 'lr': 0.1})
        """, at="4:23"),
    )

    def check(self, ctx) -> None:
        for use in exhausted_uses(ctx.model):
            what, hint = _described(ctx, use)
            ctx.report(use.read, _message(use, what), hint=hint)


def _message(use: ExhaustedUse, what: str) -> str:
    if use.holder is None:
        consequence = _consequence(use.kind)
        if use.in_loop:
            return f"{what} bound outside this loop: the first iteration exhausts it; from the second on, {consequence}."
        return f"{what} already exhausted by an earlier use: {consequence}."
    consequence = f"`{use.holder}` is empty: {_consequence(use.kind, use.holder)}"
    if use.by_loop:
        return f"{what} already exhausted: this loop never runs, so {consequence}."
    if use.in_loop:
        return f"{what} bound outside this loop: from the second iteration on, {consequence}."
    return f"{what} already exhausted by an earlier use, so {consequence}."


def _described(ctx, use: ExhaustedUse) -> tuple[str, str]:
    """What the read name holds, and the hint to materialise it."""
    name, source = use.read, ctx.module.code_for_node(use.source)
    short = len(source) <= 40
    what = f"`{name.value}` holds `{source}`, an iterator" if short else f"`{name.value}` is an iterator"
    rebuilt = f"call `{source}` again" if short else "rebuild it"
    return what, f"Bind `{name.value} = list(...)` once and reuse the list, or {rebuilt} at each use."


def _consequence(kind: str, holder: str | None = None) -> str:
    if kind == OPTIMIZER_USE:
        return "torch raises ValueError (optimizer got an empty parameter list)"
    if holder is not None:
        return f"the param group of `{holder}` is silently empty"
    return "this group is silently empty"
