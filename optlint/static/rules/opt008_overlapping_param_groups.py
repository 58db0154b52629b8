from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import Group, Scope, SemanticModel, module_builds, optimizers, parameters_call, sources

_LISTS = (cst.List, cst.Tuple, cst.ListComp)


@dataclass(frozen=True)
class Source:
    """What one group draws parameters from, as far as the file proves it."""

    node: cst.BaseExpression
    root: Scope  # where the path's first name is bound (the class for `self`)
    path: tuple[str, ...]  # ("model", "fc") for `model.fc.parameters()` / `model.fc.weight`
    tree: bool  # `X.parameters()`: every parameter under X
    text: str  # the expression, for "the same expression twice"

    def overlaps(self, other: Source) -> bool:
        if self.root is not other.root:
            return False
        if self.tree and other.tree:
            shorter = min(len(self.path), len(other.path))
            return self.path[:shorter] == other.path[:shorter]
        return self.text == other.text


class OverlappingParamGroups(Rule):
    """Two param groups of one optimizer that provably share parameters: the same expression twice,
    or `model.parameters()` beside `model.fc.parameters()` (a later `add_param_group` included)."""

    code = "OPT008"

    VALID = (
        # Sibling modules: no parameter in both.
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': model.backbone.parameters(), 'lr': 1e-4},
                                   {'params': model.head.parameters()}], lr=1e-2)
        """),
        # The decay / no-decay split: filters are never compared.
        Valid("""
            import torch
            decay = [p for n, p in model.named_parameters() if 'bias' not in n]
            no_decay = [p for n, p in model.named_parameters() if 'bias' in n]
            opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}])
        """),
        # Two optimizers over shared parameters: torch allows it; only groups of one optimizer are compared.
        Valid("""
            import torch
            whole = torch.optim.Adam(model.parameters())
            head = torch.optim.SGD(model.fc.parameters(), lr=0.1)
        """),
        # A new head replaces the old one after the optimizer was built: its parameters are new.
        Valid("""
            import torch
            from torch import nn
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            model.fc = nn.Linear(512, 20)
            opt.add_param_group({'params': model.fc.parameters()})
        """),
        Valid("""
            import torch
            from torch import nn
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            setattr(model, 'fc', nn.Linear(512, 20))
            opt.add_param_group({'params': model.fc.parameters()})
        """),
        # `model` in two functions is two different objects.
        Valid("""
            import torch
            def a(model):
                return torch.optim.SGD(model.parameters(), lr=0.1)
            def b(model, opt):
                opt.add_param_group({'params': model.fc.parameters()})
        """),
        # Only the direct parameters of the root, and the child's: disjoint.
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': model.parameters(recurse=False)},
                                   {'params': model.fc.parameters()}], lr=0.1)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.Adam([{'params': model.parameters()},
                                    {'params': model.fc.parameters(), 'lr': 1e-3}], lr=1e-4)
        """, at="3:36"),
        # list()-wrapped, bare whole params then a later add_param_group on the same optimizer.
        Invalid("""
            import torch
            opt = torch.optim.SGD(list(model.parameters()), lr=0.1)
            opt.add_param_group({'params': model.head.parameters(), 'lr': 0.01})
        """, at="3:32"),
        # The same expression twice.
        Invalid("""
            import torch
            w = list(model.parameters())
            opt = torch.optim.SGD([{'params': w}, {'params': w, 'lr': 0.0}], lr=0.1)
        """, at="3:50"),
        # self.model across methods.
        Invalid("""
            import torch
            class Task:
                def __init__(self, model):
                    self.model = model
                    self.opt = torch.optim.AdamW(self.model.encoder.parameters(), lr=1e-4)
                def unfreeze(self):
                    self.opt.add_param_group({'params': self.model.parameters()})
        """, at="7:45"),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        replaced = {'.'.join(path) for store in model.attribute_stores if (path := _path(store))}
        for optimizer in optimizers(model):
            earlier: list[tuple[Group, Source]] = []
            for group in optimizer.groups:
                found = [s for e in group.expressions for s in _sources(model, e, group.scope)]
                for source in found:
                    clash = next(
                        (
                            old
                            for g, old in earlier
                            if old.overlaps(source) and _same_objects(model, g, group, old, source, replaced)
                        ),
                        None,
                    )
                    if clash is not None:
                        self._report(ctx, source, clash)
                earlier.extend((group, s) for s in found)

    def _report(self, ctx, source: Source, clash: Source) -> None:
        code, other = ctx.module.code_for_node(source.node), ctx.module.code_for_node(clash.node)
        if source.tree and clash.tree and source.path != clash.path:
            relation = "is part of" if len(source.path) > len(clash.path) else "includes"
            fact = f"`{code}` {relation} `{other}` of an earlier group"
            outer, inner = sorted((source, clash), key=lambda s: len(s.path))
            prefix = ".".join(inner.path[len(outer.path):])
            inner_code, outer_code = (ctx.module.code_for_node(parameters_call(s.node)) for s in (inner, outer))
            hint = (
                f"Put `{inner_code}` in one group only; build the other from the rest: "
                f"`[p for n, p in {outer_code}.named_parameters() if not n.startswith('{prefix}.')]`."
            )
        else:
            fact = f"`{code}` is already in an earlier group"
            hint = "Keep these parameters in one group only."
        ctx.report(
            source.node,
            f"{fact}: torch raises ValueError (some parameters appear in more than one parameter group).",
            hint=hint,
        )


def _sources(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> list[Source]:
    return [s for item in sources(model, expr, scope, filters=False) if (s := _source(model, item, scope))]


def _source(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> Source | None:
    receiver = parameters_call(expr)
    if receiver is not None:
        path, tree = _path(receiver), not expr.args and not _overrides_parameters(model)
    elif _holds_same_tensors(model, expr, scope):
        path, tree = _path(expr), False
    else:
        return None
    root = _root_scope(model, path[0], scope) if path else None
    if root is None:
        return None
    return Source(expr, root, path, tree, "".join(cst.Module([]).code_for_node(expr).split()))


def _overrides_parameters(model: SemanticModel) -> bool:
    """A class of this file defines its own `parameters()`: `x.parameters()` may not hold all of `x.y`'s."""
    own = ("parameters", "named_parameters")
    return any(name in s.functions for s in model.scopes if s.kind == "class" for name in own)


def _path(expr: cst.BaseExpression) -> tuple[str, ...] | None:
    """`model.layers[0].fc` -> ("model", "layers", "0", "fc"): the names `named_parameters` uses."""
    if isinstance(expr, cst.Name):
        return (expr.value,)
    if isinstance(expr, cst.Attribute):
        head = _path(expr.value)
        return head + (expr.attr.value,) if head else None
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        key, head = expr.slice[0].slice.value, _path(expr.value)
        if head and isinstance(key, cst.Integer):
            return head + (key.value,)
        if head and isinstance(key, cst.SimpleString):
            return head + (str(key.evaluated_value),)
    return None


def _holds_same_tensors(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    """Twice the same name or attribute is twice the same tensors, unless it may be a generator
    (OPT009's case: the second use is empty) or a module (OPT005's case)."""
    if module_builds(model, expr, scope) is not None:
        return False
    if isinstance(expr, cst.Name) or model.attribute_owner(expr, scope) is not None:
        if model.receives_parameter(expr, scope):
            return False  # the caller's value: maybe a generator
        assignments = model.assignments_of(expr, scope)
        return bool(assignments) and all(_is_list(model, a.value, a.resolution_scope) for a in assignments)
    return True  # `model.fc.weight`: a tensor attribute


def _is_list(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    if isinstance(expr, _LISTS):
        return True
    return isinstance(expr, cst.Call) and model.builtin_name(expr.func, scope) in ("list", "tuple")


def _root_scope(model: SemanticModel, name: str, scope: Scope) -> Scope | None:
    if name == "self":
        return scope.enclosing_class
    return model.binding_scope(name, scope) or model.module_scope


def _same_objects(model, first: Group, second: Group, a: Source, b: Source, replaced: set[str]) -> bool:
    """Within one call both groups see the same objects. Across calls (`add_param_group` later), only
    when the root is assigned once and no module between the two paths was replaced in between."""
    if first.site is second.site:
        return True
    outer, inner = sorted((a.path, b.path), key=len)
    if _assignment_count(model, inner, first.scope) > 1:
        return False
    return not any(".".join(inner[:n]) in replaced for n in range(len(outer) + 1, len(inner) + 1))


def _assignment_count(model: SemanticModel, path: tuple[str, ...], scope: Scope) -> int:
    """How often the path's root is bound: the name, or for `self.x.y` the attribute `self.x`."""
    if path[0] != "self":
        return len(model.assignments_of(cst.Name(path[0]), scope))
    owner = scope.enclosing_class
    return len(owner.attributes.get(path[1], [])) if owner is not None and len(path) > 1 else 0
