from optlint.static.examples import Invalid, Valid
from optlint.static.rules._keywords import UnknownKeywordRule


class UnknownOptimizerKwarg(UnknownKeywordRule):
    """A torch optimizer class called with a keyword it does not accept (`learning_rate=`)."""

    code = "OPT001"
    kind = "optimizer"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
        """),
        Valid("""
            from torch.optim import SGD
            opt = SGD(params, lr=0.1, momentum=0.9, nesterov=True)
        """),
        # A user class that shadows torch's name has its own signature.
        Valid("""
            from torch.optim import Optimizer
            class Adam(Optimizer):
                pass
            opt = Adam(p, learning_rate=1)
        """),
        Valid("""
            import torch
            opt = torch.optim.AdamW(model.parameters(), **cfg)
        """),
        # An optional dependency with a torch fallback: the name may be either class.
        Valid("""
            try:
                from transformers import AdamW
            except ImportError:
                from torch.optim import AdamW
            opt = AdamW(params, lr=5e-5, correct_bias=False)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)
        """, at="2:44", fixed="""
            import torch
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        """),
        Invalid("""
            import torch.optim as optim
            opt = optim.SGD(model.parameters(), lr=0.1, weightDecay=1e-4)
        """, at="2:45", fixed="""
            import torch.optim as optim
            opt = optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)
        """),
        # `betas` takes a pair: renaming `beta1` alone would pass a float, so the finding has no fix.
        Invalid("""
            from torch.optim import Adam as A
            opt = A(model.parameters(), beta1=0.9)
        """, at="2:29", message="Did you mean `betas`?"),
        Invalid("""
            from torch import optim
            opt = optim.AdamW(model.parameters(), lr2=1e-3)
        """, at="2:39", fixed="""
            from torch import optim
            opt = optim.AdamW(model.parameters(), lr=1e-3)
        """),
    )
