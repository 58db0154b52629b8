import libcst as cst

from optlint.static.modules import ModuleBuild, describe, is_parameterless, module_builds
from optlint.static.params import ELEMENTS, WHOLE, all_groups, parameters_call, sources
from optlint.static.rule import Rule


class ParameterlessModuleInGroup(Rule):
    """A param group built from `.parameters()` of a module that owns none (`nn.ReLU`, `nn.Dropout`,
    pooling, `nn.BatchNorm2d(affine=False)`): the group is empty and its settings apply to nothing."""

    code = "OPT006"

    VALID = (
        # PReLU learns its slope; BatchNorm is affine by default; InstanceNorm made affine.
        "import torch\nfrom torch import nn\nact = nn.PReLU()\nnorm = nn.BatchNorm2d(8)\n"
        "inorm = nn.InstanceNorm2d(8, affine=True)\n"
        "opt = torch.optim.SGD([{'params': act.parameters()}, {'params': norm.parameters()},\n"
        "                       {'params': inorm.parameters()}], lr=0.1)",
        # Position 0 of the Sequential is the Linear, not the ReLU.
        "import torch\nimport torch.nn as nn\nseq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())\n"
        "opt = torch.optim.Adam([{'params': seq[0].parameters(), 'lr': 1e-3}])",
        # A flag given as a variable: it may give the module parameters.
        "import torch\nfrom torch import nn\nnorm = nn.BatchNorm1d(8, affine=cfg.affine)\n"
        "opt = torch.optim.SGD(norm.parameters(), lr=0.1)",
        # A head that is an Identity in one build and a Linear in another.
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self, n):\n"
        "        super().__init__()\n        self.head = nn.Identity()\n        if n:\n"
        "            self.head = nn.Linear(8, n)\n"
        "    def configure_optimizers(self):\n"
        "        return torch.optim.AdamW(self.head.parameters(), lr=1e-3)",
        # A parameter of the function may hold anything, whatever its default build is.
        "import torch\nfrom torch import nn\ndef build(act=None):\n    if act is None:\n"
        "        act = nn.ReLU()\n    return torch.optim.SGD(act.parameters(), lr=0.1)",
        # A placeholder head replaced on the instance: the class's Identity is gone.
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.head = nn.Identity()\nmodel = Net()\n"
        "model.head = nn.Linear(512, 10)\nopt = torch.optim.SGD([{'params': model.head.parameters()}], lr=0.1)",
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.head = nn.Identity()\nmodel = Net()\n"
        "model.add_module('head', nn.Linear(512, 10))\nopt = torch.optim.SGD(model.head.parameters(), lr=0.1)",
        # An empty Sequential filled later is a container, not a parameterless module.
        "import torch\nfrom torch import nn\nhead = nn.Sequential()\nhead.append(nn.Linear(4, 2))\n"
        "opt = torch.optim.SGD(head.parameters(), lr=0.1)",
    )
    INVALID = (
        "import torch\nfrom torch import nn\nopt = torch.optim.SGD(nn.ReLU().parameters(), lr=0.1)",
        # Position 1 of the Sequential; negative positions too.
        "import torch\nimport torch.nn as nn\nseq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.1))\n"
        "opt = torch.optim.Adam([{'params': seq[0].parameters()}, {'params': seq[-1].parameters(), 'lr': 1e-4}])",
        # OrderedDict names, inside list(...).
        "import torch\nfrom collections import OrderedDict\nfrom torch import nn\n"
        "seq = nn.Sequential(OrderedDict([('fc', nn.Linear(4, 4)), ('act', nn.GELU())]))\n"
        "opt = torch.optim.SGD([{'params': list(seq.act.parameters()), 'lr': 0.01}], lr=0.1)",
        # self.x in the model's class, reached through an instance of it, inside itertools.chain.
        "import itertools\nimport torch\nfrom torch import nn\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n"
        "        self.pool = nn.AdaptiveAvgPool2d(1)\nmodel = Net()\n"
        "opt = torch.optim.SGD(itertools.chain(model.fc.parameters(), model.pool.parameters()), lr=0.1)",
        # BatchNorm made parameterless by its literal flag.
        "import torch\nfrom torch import nn\nbn = nn.BatchNorm2d(16, affine=False)\n"
        "opt = torch.optim.SGD([{'params': bn.parameters(), 'weight_decay': 0.0}], lr=0.1)",
        # A later add_param_group.
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.body = nn.Linear(4, 4)\n        self.drop = nn.Dropout(0.5)\n"
        "        self.opt = torch.optim.SGD(self.body.parameters(), lr=0.1)\n"
        "    def unfreeze(self):\n        self.opt.add_param_group({'params': self.drop.parameters()})",
    )

    def check(self, ctx) -> None:
        for group in all_groups(ctx.model):
            if group.kind == ELEMENTS:
                continue  # listed tensors: a `.parameters()` there is another mistake
            found = sources(ctx.model, group.iterable, group.scope, filters=True)
            empty = [(s, build) for s in found if (build := self._parameterless(ctx, s, group)) is not None]
            for source, build in empty:
                self._report(ctx, source, build, group.kind, whole_group=len(empty) == len(found))

    def _parameterless(self, ctx, source: cst.BaseExpression, group) -> ModuleBuild | None:
        """For `m.parameters()`: the module `m` holds, when every build it may hold owns no parameters."""
        receiver = parameters_call(source)
        builds = module_builds(ctx.model, receiver, group.scope) if receiver is not None else None
        return builds[0] if builds and all(is_parameterless(ctx.model, b) for b in builds) else None

    def _report(self, ctx, source: cst.Call, build: ModuleBuild, kind: str, whole_group: bool) -> None:
        receiver = parameters_call(source)
        code = ctx.module.code_for_node(receiver)
        if not whole_group:
            consequence, instead = "it adds nothing to this group", ", or leave it out"
        elif kind == WHOLE:
            consequence, instead = "torch raises ValueError (optimizer got an empty parameter list)", ""
        else:
            consequence = "the group is silently empty and its settings apply to nothing"
            instead = ", or drop the group"
        what = f"`{code}`" if isinstance(receiver, cst.Call) else f"`{code}` is {describe(ctx.model, build)}, which"
        ctx.report(source, f"{what} owns no parameters: {consequence}.", hint=_hint(ctx.facts, build) + instead + ".")


def _hint(facts, build: ModuleBuild) -> str:
    entry = facts.nn_modules.get(build.torch_name or "", {})
    learns_with = entry.get("has_parameters_when") or {flag: True for flag in entry.get("parameterless_when", {})}
    if learns_with:
        return f"Build it with `{', '.join(f'{k}={v}' for k, v in learns_with.items())}` if it should learn"
    return "Use `.parameters()` of the layer that owns the weights"
