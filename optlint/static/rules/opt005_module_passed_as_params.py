import re

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import ELEMENTS, WHOLE, Group, all_groups, describe, module_builds, terminal_name

# `model`, `net`, `student_model`, `d_net`, `model2`: names that say "this is a module".
_MODEL_NAME = re.compile(r"^(model|net|network)\d*$|_(model|net|network)\d*$")
# Callees whose result may well be an iterable of parameters, whatever the name it is bound to.
_PARAMETER_ISH = re.compile(r"param|iter|chain|filter|list|tuple|group", re.IGNORECASE)


class ModulePassedAsParams(Rule):
    """An `nn.Module` where parameters belong: `SGD(model)`, `SGD([model.enc, model.dec])`,
    `{'params': model.fc}`. torch wants tensors (or an iterable of them), not modules."""

    code = "OPT005"

    VALID = (
        Valid("""
            import torch
            from torch import nn
            model = nn.Linear(4, 2)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
        """),
        # Tensors of a module: its weight and bias are parameters.
        Valid("""
            import torch
            from torch import nn
            model = nn.Linear(4, 2)
            opt = torch.optim.SGD([model.weight, model.bias], lr=0.1)
        """),
        # A ParameterList is itself an iterable of parameters.
        Valid("""
            import torch
            from torch import nn
            scales = nn.ParameterList([nn.Parameter(torch.ones(1))])
            opt = torch.optim.Adam([{'params': scales, 'lr': 1e-2}])
        """),
        # `model` bound to what may well be parameters.
        Valid("""
            import torch
            model = get_trainable_params(net)
            opt = torch.optim.SGD(model, lr=0.1)
        """),
        Valid("""
            import torch
            net = [p for p in backbone.parameters() if p.requires_grad]
            opt = torch.optim.SGD(net, lr=0.1)
        """),
        Valid("""
            import torch
            def build(params_or_model, lr):
                return torch.optim.SGD(params_or_model, lr=lr)
        """),
        # An attribute of a class from elsewhere, and a conventional name inside a list.
        Valid("""
            import torch
            opt = torch.optim.SGD([backbone.stem, model], lr=0.1)
        """),
        # A same-file class whose attribute holds a tensor, not a module.
        Valid("""
            import torch
            from torch import nn
            class Scale(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.gain = nn.Parameter(torch.ones(1))
            m = Scale()
            opt = torch.optim.SGD([m.gain], lr=0.1)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            from torch import nn
            model = nn.Sequential(nn.Linear(4, 4), nn.ReLU()).to(device)
            opt = torch.optim.SGD(model, lr=0.1)
        """, at="4:23"),
        # A conventional model name, passed as the whole params, bound to nothing that says otherwise.
        Invalid("""
            import torch
            def make_optimizer(model, lr):
                return torch.optim.AdamW(model, lr=lr)
        """, at="3:30"),
        Invalid("""
            import timm
            import torch
            model = timm.create_model('resnet50', pretrained=True)
            optimizer = torch.optim.SGD(model, lr=0.1)
        """, at="4:29"),
        # self.x assigned a module, in a list.
        Invalid("""
            import torch
            from torch import nn
            class AE(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.enc = nn.Linear(8, 2)
                    self.dec = nn.Linear(2, 8)
                    self.opt = torch.optim.Adam([self.enc, self.dec], lr=1e-3)
        """, at=("8:38", "8:48")),
        # inst.attr where inst's same-file class assigns a module to self.attr.
        Invalid("""
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(8, 2)
            net = Net()
            opt = torch.optim.SGD([{'params': net.fc, 'lr': 1e-2}], lr=0.1)
        """, at="8:35"),
        # A Sequential position, given to add_param_group.
        Invalid("""
            import torch
            from torch import nn
            seq = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
            opt = torch.optim.SGD(seq[0].parameters(), lr=0.1)
            opt.add_param_group({'params': seq[1]})
        """, at="5:32"),
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
    values = [a.value for a in model.values_of(expr, scope)]
    callees = [terminal_name(v.func) if isinstance(v, cst.Call) else None for v in values]
    return all(callee is not None and not _PARAMETER_ISH.search(callee) for callee in callees)


def _iterates_parameters(facts, torch_name: str | None) -> bool:
    """A ParameterList: iterating it yields its parameters, so it is valid where an iterable belongs."""
    return bool(facts.nn_modules.get(torch_name or "", {}).get("iterable_of_parameters"))
