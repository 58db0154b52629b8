from optlint.static.rules._keywords import UnknownKeywordRule


class UnknownSchedulerKwarg(UnknownKeywordRule):
    """A torch LR scheduler class called with a keyword it does not accept (`t_max=`, `verbose=`)."""

    code = "OPT002"
    kind = "scheduler"

    VALID = (
        "from torch.optim.lr_scheduler import StepLR\ns = StepLR(opt, step_size=10, gamma=0.1)",
        "import torch\ns = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=1e-6)",
    )
    INVALID = (
        "from torch.optim.lr_scheduler import StepLR\ns = StepLR(opt, step=10, decay=0.1)",
        "from torch.optim import lr_scheduler as S\ns = S.CosineAnnealingLR(opt, t_max=5)",
        "import torch.optim as optim\ns = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9, verbose=True)",
    )
