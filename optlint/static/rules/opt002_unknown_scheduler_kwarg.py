from optlint.static.examples import Invalid, Valid
from optlint.static.rules._keywords import UnknownKeywordRule


class UnknownSchedulerKwarg(UnknownKeywordRule):
    """A torch LR scheduler class called with a keyword it does not accept (`t_max=`, `verbose=`)."""

    code = "OPT002"
    kind = "scheduler"

    VALID = (
        Valid("""
            from torch.optim.lr_scheduler import StepLR
            s = StepLR(opt, step_size=10, gamma=0.1)
        """),
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=1e-6)
        """),
    )
    INVALID = (
        Invalid("""
            from torch.optim.lr_scheduler import StepLR
            s = StepLR(opt, step=10, decay=0.1)
        """, at=("2:17", "2:26")),
        Invalid("""
            from torch.optim import lr_scheduler as S
            s = S.CosineAnnealingLR(opt, t_max=5)
        """, at="2:30", fixed="""
            from torch.optim import lr_scheduler as S
            s = S.CosineAnnealingLR(opt, T_max=5)
        """),
        Invalid("""
            import torch.optim as optim
            s = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9, verbose=True)
        """, at="2:54"),
    )
