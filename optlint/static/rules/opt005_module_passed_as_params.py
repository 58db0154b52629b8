import re

import libcst as cst

from optlint.static.model import terminal_name
from optlint.static.modules import describe, module_builds
from optlint.static.params import ELEMENTS, WHOLE, Group, all_groups
from optlint.static.rule import Rule

# `model`, `net`, `student_model`, `d_net`, `model2`: names that say "this is a module".
_MODEL_NAME = re.compile(r"^(model|net|network)\d*$|_(model|net|network)\d*$")
# Callees whose result may well be an iterable of parameters, whatever the name it is bound to.
_PARAMETER_ISH = re.compile(r"param|iter|chain|filter|list|tuple|group", re.IGNORECASE)


class ModulePassedAsParams(Rule):
    """An `nn.Module` where parameters belong: `SGD(model)`, `SGD([model.enc, model.dec])`,
    `{'params': model.fc}`. torch wants tensors (or an iterable of them), not modules."""

    code = "OPT005"

    VALID = (
        "import torch\nfrom torch import nn\nmodel = nn.Linear(4, 2)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)",
        # Tensors of a module: its weight and bias are parameters.
        "import torch\nfrom torch import nn\nmodel = nn.Linear(4, 2)\n"
        "opt = torch.optim.SGD([model.weight, model.bias], lr=0.1)",
        # A ParameterList is itself an iterable of parameters.
        "import torch\nfrom torch import nn\nscales = nn.ParameterList([nn.Parameter(torch.ones(1))])\n"
        "opt = torch.optim.Adam([{'params': scales, 'lr': 1e-2}])",
        # `model` bound to what may well be parameters.
        "import torch\nmodel = get_trainable_params(net)\nopt = torch.optim.SGD(model, lr=0.1)",
        "import torch\nnet = [p for p in backbone.parameters() if p.requires_grad]\nopt = torch.optim.SGD(net, lr=0.1)",
        "import torch\ndef build(params_or_model, lr):\n    return torch.optim.SGD(params_or_model, lr=lr)",
        # An attribute of a class from elsewhere, and a conventional name inside a list.
        "import torch\nopt = torch.optim.SGD([backbone.stem, model], lr=0.1)",
        # A same-file class whose attribute holds a tensor, not a module.
        "import torch\nfrom torch import nn\nclass Scale(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.gain = nn.Parameter(torch.ones(1))\n"
        "m = Scale()\nopt = torch.optim.SGD([m.gain], lr=0.1)",
    )
    INVALID = (
        "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(4, 4), nn.ReLU()).to(device)\n"
        "opt = torch.optim.SGD(model, lr=0.1)",
        # A conventional model name, passed as the whole params, bound to nothing that says otherwise.
        "import torch\ndef make_optimizer(model, lr):\n    return torch.optim.AdamW(model, lr=lr)",
        "import timm\nimport torch\nmodel = timm.create_model('resnet50', pretrained=True)\n"
        "optimizer = torch.optim.SGD(model, lr=0.1)",
        # self.x assigned a module, in a list.
        "import torch\nfrom torch import nn\nclass AE(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.enc = nn.Linear(8, 2)\n        self.dec = nn.Linear(2, 8)\n"
        "        self.opt = torch.optim.Adam([self.enc, self.dec], lr=1e-3)",
        # inst.attr where inst's same-file class assigns a module to self.attr.
        "import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(8, 2)\nnet = Net()\n"
        "opt = torch.optim.SGD([{'params': net.fc, 'lr': 1e-2}], lr=0.1)",
        # A Sequential position, given to add_param_group.
        "import torch\nfrom torch import nn\nseq = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))\n"
        "opt = torch.optim.SGD(seq[0].parameters(), lr=0.1)\nopt.add_param_group({'params': seq[1]})",
    )

    def check(self, ctx) -> None:
        for group in all_groups(ctx.model):
            if group.kind == ELEMENTS:
                found = [(e, what) for e in group.elements if (what := self._module(ctx, e, group, iterable=False))]
                for element, what in found:
                    self._report_element(ctx, element, what, [e for e, _ in found])
            elif (what := self._module(ctx, group.iterable, group, iterable=True)) is not None:
                self._report_iterable(ctx, group, what)

    def _module(self, ctx, expr: cst.BaseExpression, group: Group, iterable: bool) -> str | None:
        """How to name the module `expr` holds, when the file proves it is one."""
        builds = module_builds(ctx.model, expr, group.scope)
        if builds:
            if iterable and any(_iterates_parameters(ctx.facts, b.torch_name) for b in builds):
                return None
            return describe(ctx.model, builds[0])
        if group.kind == WHOLE and _named_model(ctx.model, expr, group.scope):
            return "going by its name"
        return None

    def _report_iterable(self, ctx, group: Group, what: str) -> None:
        code = ctx.module.code_for_node(group.iterable)
        ctx.report(
            group.iterable,
            f"`{code}` is a module ({what}), not its parameters: torch raises TypeError "
            "(a module is not an iterable of tensors).",
            hint=f"Pass `{code}.parameters()`.",
        )

    def _report_element(self, ctx, element, what: str, modules: list[cst.BaseExpression]) -> None:
        code = ctx.module.code_for_node(element)
        if len(modules) == 1:
            hint = f"Write `*{code}.parameters()` in the list, or give it a group: `{{'params': {code}.parameters()}}`."
        else:
            chained = ", ".join(f"{ctx.module.code_for_node(m)}.parameters()" for m in modules)
            hint = f"Pass `itertools.chain({chained})`, or give each module its own `{{'params': ...}}` group."
        ctx.report(
            element,
            f"`{code}` is a module ({what}), not a parameter: torch raises TypeError "
            "(optimizer can only optimize Tensors).",
            hint=hint,
        )


def _named_model(model, expr: cst.BaseExpression, scope) -> bool:
    """A plain name that says "model", bound to nothing that says otherwise: a parameter, a loop
    variable, or calls like `timm.create_model(...)`, `accelerator.prepare(model)`."""
    if not (isinstance(expr, cst.Name) and _MODEL_NAME.search(expr.value)) or "param" in expr.value.lower():
        return False  # `params_or_model`, `param_net`: the name itself says it may be parameters
    values = [a.value for a in model.assignments_of(expr, scope)]
    callees = [terminal_name(v.func) if isinstance(v, cst.Call) else None for v in values]
    return all(callee is not None and not _PARAMETER_ISH.search(callee) for callee in callees)


def _iterates_parameters(facts, torch_name: str | None) -> bool:
    """A ParameterList: iterating it yields its parameters, so it is valid where an iterable belongs."""
    return bool(facts.nn_modules.get(torch_name or "", {}).get("iterable_of_parameters"))
