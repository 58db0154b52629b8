"""Name resolution of the semantic model: imports, aliases, shadowing, instances and bindings."""

import libcst as cst
import pytest

from optlint.facts import load
from optlint.static.semantic.model import OPTIMIZER, SCHEDULER, SemanticModel


def model_of(source: str) -> SemanticModel:
    return SemanticModel(cst.parse_module(source), load())


def classes_built(source: str) -> list:
    model = model_of(source)
    return [model.torch_class(site.node.func, site.scope) for site in model.calls]


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ntorch.optim.Adam(p)",
        "import torch.optim\ntorch.optim.Adam(p)",
        "import torch.optim as optim\noptim.Adam(p)",
        "from torch import optim\noptim.Adam(p)",
        "from torch.optim import Adam as A\nA(p)",
        "def build():\n    from torch.optim import Adam\n    return Adam(p)",
        # The same module imported twice, in two forms, is still torch's.
        "import torch.optim as optim\nfrom torch import optim\noptim.Adam(p)",
    ],
)
def test_optimizer_class_resolves_through_every_import_form(source):
    assert (OPTIMIZER, "Adam") in classes_built(source)


@pytest.mark.parametrize(
    "source",
    [
        "from torch.optim import lr_scheduler as S\nS.StepLR(o, 1)",
        "import torch.optim as optim\noptim.lr_scheduler.StepLR(o, 1)",
        "from torch.optim.lr_scheduler import StepLR\nStepLR(o, 1)",
    ],
)
def test_scheduler_class_resolves_through_every_import_form(source):
    assert (SCHEDULER, "StepLR") in classes_built(source)


@pytest.mark.parametrize(
    "source",
    [
        # A user class with torch's name shadows the import.
        "from torch.optim import Adam\nclass Adam:\n    pass\nAdam(p)",
        # A parameter shadows the module alias inside its function.
        "import torch.optim as optim\ndef f(optim):\n    return optim.Adam(p)",
        # No torch import at all.
        "import myoptim as optim\noptim.Adam(p)",
        "Adam(p)",
        # Relative imports are the project's own modules.
        "from .optim import Adam\nAdam(p)",
        # Imported from two places (an optional dependency and its fallback): either may be bound.
        "try:\n    from apex.optimizers import FusedAdam as Adam\nexcept ImportError:\n"
        "    from torch.optim import Adam\nAdam(p)",
        "if fast:\n    import torch_optimizer as optim\nelse:\n    import torch.optim as optim\noptim.Adam(p)",
    ],
)
def test_names_that_are_not_torch_classes_stay_unresolved(source):
    assert (OPTIMIZER, "Adam") not in classes_built(source)


def test_self_attributes_hold_across_methods():
    model = model_of(
        "import torch\nclass T:\n    def setup(self):\n        self.opt = torch.optim.SGD(p, lr=0.1)\n"
        "        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, 5)\n"
        "    def fit(self):\n        self.sched.step()\n"
    )
    scheduler = next(i for i in model.instances if i.kind == SCHEDULER)
    assert scheduler.cls == "StepLR"
    assert scheduler.optimizer is not None and scheduler.optimizer.cls == "SGD"
    fit_call = next(site for site in model.calls if site.scope.node.name.value == "fit")
    assert model.instance_of(fit_call.node.func.value, fit_call.scope) is scheduler


def test_scheduler_from_a_factory_taking_the_optimizer_is_bound_to_it():
    model = model_of(
        "import torch\nfrom transformers import get_scheduler\nopt = torch.optim.AdamW(p)\n"
        "lr_scheduler = get_scheduler('linear', optimizer=opt, num_warmup_steps=0, num_training_steps=10)\n"
        "ema = make_ema(opt)\n"
    )
    schedulers = [i for i in model.instances if i.kind == SCHEDULER]
    assert [(s.assignment.target, s.cls, s.optimizer.cls) for s in schedulers] == [("lr_scheduler", None, "AdamW")]


def test_branches_building_different_classes_keep_the_kind_and_forget_the_class():
    model = model_of(
        "import torch\nopt = torch.optim.SGD(p, lr=1)\nif cos:\n"
        "    s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 5)\nelse:\n"
        "    s = torch.optim.lr_scheduler.OneCycleLR(opt, 1, total_steps=5)\ns.step()\n"
    )
    site = model.calls[-1]
    instance = model.instance_of(site.node.func.value, site.scope)
    assert instance.kind == SCHEDULER and instance.cls is None


def test_plain_names_hold_within_their_function():
    model = model_of(
        "import torch\ndef a():\n    opt = torch.optim.SGD(p, lr=1)\ndef b(opt):\n    opt.step()\n"
    )
    site = model.calls[-1]
    assert model.instance_of(site.node.func.value, site.scope) is None
