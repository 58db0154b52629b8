import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import (
    ELEMENTS, WHOLE, ModuleBuild, all_groups, describe, is_parameterless, module_builds, parameters_call, sources
)


class ParameterlessModuleInGroup(Rule):
    """A param group built from `.parameters()` of a module that owns none (`nn.ReLU`, `nn.Dropout`,
    pooling, `nn.BatchNorm2d(affine=False)`): the group is empty and its settings apply to nothing."""

    code = "OPT006"

    VALID = (
        # PReLU learns its slope; BatchNorm is affine by default; InstanceNorm made affine.
        Valid("""
            import torch
            from torch import nn
            act = nn.PReLU()
            norm = nn.BatchNorm2d(8)
            inorm = nn.InstanceNorm2d(8, affine=True)
            opt = torch.optim.SGD([{'params': act.parameters()}, {'params': norm.parameters()},
                                   {'params': inorm.parameters()}], lr=0.1)
        """),
        # Position 0 of the Sequential is the Linear, not the ReLU.
        Valid("""
            import torch
            import torch.nn as nn
            seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
            opt = torch.optim.Adam([{'params': seq[0].parameters(), 'lr': 1e-3}])
        """),
        # A flag given as a variable: it may give the module parameters.
        Valid("""
            import torch
            from torch import nn
            norm = nn.BatchNorm1d(8, affine=cfg.affine)
            opt = torch.optim.SGD(norm.parameters(), lr=0.1)
        """),
        # A head that is an Identity in one build and a Linear in another.
        Valid("""
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self, n):
                    super().__init__()
                    self.head = nn.Identity()
                    if n:
                        self.head = nn.Linear(8, n)
                def configure_optimizers(self):
                    return torch.optim.AdamW(self.head.parameters(), lr=1e-3)
        """),
        # A parameter of the function may hold anything, whatever its default build is.
        Valid("""
            import torch
            from torch import nn
            def build(act=None):
                if act is None:
                    act = nn.ReLU()
                return torch.optim.SGD(act.parameters(), lr=0.1)
        """),
        # A placeholder head replaced on the instance: the class's Identity is gone.
        Valid("""
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.head = nn.Identity()
            model = Net()
            model.head = nn.Linear(512, 10)
            opt = torch.optim.SGD([{'params': model.head.parameters()}], lr=0.1)
        """),
        Valid("""
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.head = nn.Identity()
            model = Net()
            model.add_module('head', nn.Linear(512, 10))
            opt = torch.optim.SGD(model.head.parameters(), lr=0.1)
        """),
        # An empty Sequential filled later is a container, not a parameterless module.
        Valid("""
            import torch
            from torch import nn
            head = nn.Sequential()
            head.append(nn.Linear(4, 2))
            opt = torch.optim.SGD(head.parameters(), lr=0.1)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            from torch import nn
            opt = torch.optim.SGD(nn.ReLU().parameters(), lr=0.1)
        """, at="3:23"),
        # Position 1 of the Sequential; negative positions too.
        Invalid("""
            import torch
            import torch.nn as nn
            seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Dropout(0.1))
            opt = torch.optim.Adam([{'params': seq[0].parameters()}, {'params': seq[-1].parameters(), 'lr': 1e-4}])
        """, at="4:69"),
        # OrderedDict names, inside list(...).
        Invalid("""
            import torch
            from collections import OrderedDict
            from torch import nn
            seq = nn.Sequential(OrderedDict([('fc', nn.Linear(4, 4)), ('act', nn.GELU())]))
            opt = torch.optim.SGD([{'params': list(seq.act.parameters()), 'lr': 0.01}], lr=0.1)
        """, at="5:40"),
        # self.x in the model's class, reached through an instance of it, inside itertools.chain.
        Invalid("""
            import itertools
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.pool = nn.AdaptiveAvgPool2d(1)
            model = Net()
            opt = torch.optim.SGD(itertools.chain(model.fc.parameters(), model.pool.parameters()), lr=0.1)
        """, at="10:62"),
        # BatchNorm made parameterless by its literal flag.
        Invalid("""
            import torch
            from torch import nn
            bn = nn.BatchNorm2d(16, affine=False)
            opt = torch.optim.SGD([{'params': bn.parameters(), 'weight_decay': 0.0}], lr=0.1)
        """, at="4:35"),
        # A later add_param_group.
        Invalid("""
            import torch
            from torch import nn
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.body = nn.Linear(4, 4)
                    self.drop = nn.Dropout(0.5)
                    self.opt = torch.optim.SGD(self.body.parameters(), lr=0.1)
                def unfreeze(self):
                    self.opt.add_param_group({'params': self.drop.parameters()})
        """, at="10:45"),
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
