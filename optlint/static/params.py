"""Where an optimizer reads its parameters: one `Group` per param group, and the sources inside it.

`SGD(model.parameters())` is one group read from `model.parameters()`; `SGD([w, b])` one group of
listed tensors; `SGD([{'params': a}, {'params': b}])` two groups; `opt.add_param_group({...})` adds
one to that optimizer. `sources()` looks through `list(...)`, `itertools.chain(...)` and `[*a, *b]`
to the iterables that really feed a group (and, when asked, through filters and comprehensions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from optlint.static.groups import Construction, ParamGroup, added_groups, constructions
from optlint.static.model import Instance, Scope, SemanticModel

WHOLE, GROUP, ELEMENTS = "whole", "group", "elements"

_MATERIALIZE = {"list", "tuple"}


@dataclass
class Group:
    """One param group as the code writes it."""

    kind: str  # WHOLE: the optimizer's params argument; GROUP: a dict's 'params'; ELEMENTS: listed tensors
    scope: Scope
    site: cst.Call  # the optimizer call or the add_param_group call
    iterable: cst.BaseExpression | None = None  # WHOLE and GROUP: what torch iterates
    elements: list[cst.BaseExpression] = field(default_factory=list)  # ELEMENTS

    @property
    def expressions(self) -> list[cst.BaseExpression]:
        """The group's top-level expressions: its iterable, or its listed elements."""
        return [self.iterable] if self.iterable is not None else self.elements


@dataclass
class Optimizer:
    """A torch optimizer construction and every group it gets, `add_param_group` ones included."""

    construction: Construction
    groups: list[Group]


def optimizers(model: SemanticModel) -> list[Optimizer]:
    found = [Optimizer(c, _construction_groups(c)) for c in constructions(model)]
    by_instance = {id(o.construction.instance): o for o in found if o.construction.instance is not None}
    for site, instance, group in added_groups(model):
        owner = by_instance.get(id(instance)) if _built_once(instance) else None
        converted = _dict_group(group, site.scope, site.node)
        if owner is not None and converted is not None:
            owner.groups.append(converted)
    return found


def _built_once(instance: Instance) -> bool:
    """The optimizer's name or `self.x` is assigned once: `add_param_group` on it reaches this build."""
    binding = instance.assignment
    holders = binding.scope.attributes if instance.is_self_attribute else binding.scope.assignments
    return len(holders.get(binding.target, [])) == 1


def all_groups(model: SemanticModel) -> list[Group]:
    return [g for o in optimizers(model) for g in o.groups]


def _construction_groups(construction: Construction) -> list[Group]:
    scope, call = construction.scope, construction.call
    dicts = [g for g in construction.groups if g.is_dict]
    if dicts:
        return [converted for g in dicts if (converted := _dict_group(g, scope, call)) is not None]
    params = construction.params
    if params is None:
        return []
    listed = [g.node for g in construction.groups if g.node is not params]
    if not listed or _has_starred(params):
        return [Group(WHOLE, scope, call, iterable=params)]
    return [Group(ELEMENTS, scope, call, elements=listed)]


def _dict_group(group: ParamGroup, scope: Scope, call: cst.Call) -> Group | None:
    params = group.params
    if params is None:
        return None
    if isinstance(params, (cst.List, cst.Tuple)) and not _has_starred(params):
        return Group(ELEMENTS, scope, call, elements=[e.value for e in params.elements])
    return Group(GROUP, scope, call, iterable=params)


def _has_starred(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.List, cst.Tuple)) and any(isinstance(e, cst.StarredElement) for e in expr.elements)


def sources(model: SemanticModel, expr: cst.BaseExpression, scope: Scope, *, filters: bool) -> list[cst.BaseExpression]:
    """The iterables an expression draws its parameters from.

    `list(x)`, `tuple(x)`, `itertools.chain(a, b)`, `chain.from_iterable([a, b])` and `[*a, *b]`
    are looked through. With `filters`, so are `filter(f, x)` and `[p for n, p in x if ...]`: they
    draw from x and are empty when x is, which says when a result is empty or who reads x, never
    what the result holds.
    """
    inner = _inner_iterables(model, expr, scope, filters)
    if inner is None:
        return [expr]
    return [source for item in inner for source in sources(model, item, scope, filters=filters)]


def _inner_iterables(model, expr, scope, filters) -> list[cst.BaseExpression] | None:
    if isinstance(expr, (cst.List, cst.Tuple)) and expr.elements:
        if all(isinstance(e, cst.StarredElement) for e in expr.elements):
            return [e.value for e in expr.elements]
        return None
    if filters and isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
        return [expr.for_in.iter]
    if not isinstance(expr, cst.Call) or any(a.keyword is not None or a.star for a in expr.args):
        return None
    args = [a.value for a in expr.args]
    if builtin_name(model, expr.func, scope) in _MATERIALIZE and len(args) == 1:
        return args
    if filters and builtin_name(model, expr.func, scope) == "filter" and len(args) == 2:
        return args[1:]
    qualname = model.qualname(expr.func, scope)
    if qualname == "itertools.chain" and args:
        return args
    if qualname == "itertools.chain.from_iterable" and len(args) == 1 and isinstance(args[0], (cst.List, cst.Tuple)):
        if not _has_starred(args[0]):
            return [e.value for e in args[0].elements]
    return None


def builtin_name(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> str | None:
    """`list` for `list` when no import or binding of the file shadows the builtin."""
    if not isinstance(expr, cst.Name):
        return None
    if any(expr.value in s.bound or expr.value in s.imports for s in scope.lookup_chain()):
        return None
    return expr.value


def parameters_call(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The receiver of `x.parameters()` / `x.named_parameters()`, else None."""
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in ("parameters", "named_parameters")
    ):
        return expr.func.value
    return None
