import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import OPTIMIZER, constructions, dict_groups

# Literals that can never be a learning rate: collections and text (f-strings and "1e" "-3" too).
_NOT_A_NUMBER = {
    cst.List: "a list",
    cst.ListComp: "a list",
    cst.Tuple: "a tuple",
    cst.Dict: "a dict",
    cst.DictComp: "a dict",
    cst.Set: "a set",
    cst.SetComp: "a set",
    cst.GeneratorExp: "a generator",
    cst.SimpleString: "a string",
    cst.FormattedString: "a string",
    cst.ConcatenatedString: "a string",
}


class LrNotANumber(Rule):
    """`lr` given a list, tuple, dict, set or string literal (`lr=[1e-3, 1e-4]`, `lr="1e-3"`).

    One learning rate per group is written as one group dict each, not as a list of rates.
    """

    code = "OPT004"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), float(cfg['lr']))
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(1e-3))
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=(1e-3))
        """),
        # The tuple is `betas`, not `lr`.
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), 1e-3, (0.9, 0.99))
        """),
        # OneCycleLR takes one max_lr per group: a list is right there.
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[1e-3, 1e-2], total_steps=100)
        """),
        Valid("""
            from torch.optim import Optimizer
            class SGD(Optimizer):
                pass
            opt = SGD(p, lr=[0.1, 0.2])
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=[1e-3, 1e-4])
        """, at="2:47"),
        Invalid("""
            import torch.optim as optim
            opt = optim.SGD(model.parameters(), '0.1')
        """, at="2:37"),
        Invalid("""
            from torch.optim import AdamW
            opt = AdamW([{'params': a, 'lr': (1e-3,)}])
        """, at="2:35"),
        Invalid("""
            from torch.optim import AdamW
            opt = AdamW([dict(params=a, lr=f'{base}e-4')])
        """, at="2:32"),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            opt.add_param_group({'params': h, 'lr': '1e-3'})
        """, at="3:41"),
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr={'head': 0.1, 'body': 0.01})
        """, at="2:42"),
    )

    def check(self, ctx) -> None:
        for construction in constructions(ctx.model):
            lr = ctx.model.torch_argument(construction.call, OPTIMIZER, construction.cls, "lr")
            self._check(ctx, construction.cls, lr, "when the optimizer is built")
        for cls, group in dict_groups(ctx.model):
            self._check(ctx, cls, group.value("lr"), "at the first step (or when a scheduler reads it)")

    def _check(self, ctx, cls: str, lr: cst.BaseExpression | None, when: str) -> None:
        kind = _NOT_A_NUMBER.get(type(lr))
        if kind is None:
            return
        ctx.report(
            lr,
            f"`lr` of `{cls}` is {kind}, not a number: torch raises TypeError {when}.",
            hint="Give one float per group; for several learning rates, write one group dict per rate.",
        )
