from optlint.static.rules._keywords import UnknownKeywordRule


class UnknownOptimizerKwarg(UnknownKeywordRule):
    """A torch optimizer class called with a keyword it does not accept (`learning_rate=`)."""

    code = "OPT001"
    kind = "optimizer"

    VALID = (
        "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99))",
        "from torch.optim import SGD\nopt = SGD(params, lr=0.1, momentum=0.9, nesterov=True)",
        # A user class that shadows torch's name has its own signature.
        "from torch.optim import Optimizer\nclass Adam(Optimizer):\n    pass\nopt = Adam(p, learning_rate=1)",
        "import torch\nopt = torch.optim.AdamW(model.parameters(), **cfg)",
        # An optional dependency with a torch fallback: the name may be either class.
        "try:\n    from transformers import AdamW\nexcept ImportError:\n    from torch.optim import AdamW\n"
        "opt = AdamW(params, lr=5e-5, correct_bias=False)",
    )
    INVALID = (
        "import torch\nopt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)",
        "import torch.optim as optim\nopt = optim.SGD(model.parameters(), lr=0.1, weightDecay=1e-4)",
        "from torch.optim import Adam as A\nopt = A(model.parameters(), beta1=0.9)",
        "from torch import optim\nopt = optim.AdamW(model.parameters(), lr2=1e-3)",
    )
