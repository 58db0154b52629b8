"""The one param-group model: which optimizer is built where, and with which groups.

As written (`ParamGroup`): `SGD(params)`, `SGD([{...}, {...}])`, `groups = [...];
groups.append({...}); AdamW(groups)` and `opt.add_param_group({...})` all become `ParamGroup`s,
with their keys. As parameter sources (`Group`, one per group an `Optimizer` gets,
`add_param_group` ones included): `SGD(model.parameters())` is one group read from
`model.parameters()`; `SGD([w, b])` one group of listed tensors; `SGD([{'params': a}, {'params':
b}])` two groups. `sources()` looks through `list(...)`, `itertools.chain(...)` and `[*a, *b]` to
the iterables that really feed a group (and, when asked, through filters and comprehensions).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from optlint.static.semantic.expressions import call_method
from optlint.static.semantic.model import OPTIMIZER, Instance, SemanticModel
from optlint.static.semantic.scopes import CallSite, Scope

WHOLE, GROUP, ELEMENTS = "whole", "group", "elements"

_MATERIALIZE = {"list", "tuple"}


@dataclass
class GroupKey:
    name: str
    node: cst.BaseExpression  # the key's string literal, or the keyword's Name for dict(...)
    value: cst.BaseExpression


@dataclass
class ParamGroup:
    """One element of the params: a dict group, or a bare tensor-ish element / the whole iterable."""

    node: cst.BaseExpression
    is_dict: bool
    keys: list[GroupKey] = field(default_factory=list)
    has_unpacking: bool = False  # `{**base, ...}`: other keys may exist

    @property
    def params(self) -> cst.BaseExpression | None:
        if not self.is_dict:
            return self.node
        return next((k.value for k in self.keys if k.name == "params"), None)

    def value(self, key: str) -> cst.BaseExpression | None:
        return next((k.value for k in self.keys if k.name == key), None)


@dataclass
class Construction:
    """A call of a torch optimizer class."""

    site: CallSite
    cls: str
    params: cst.BaseExpression | None
    groups: list[ParamGroup]
    complete: bool  # False when some groups could not be seen (a starred element, an unknown list)
    instance: Instance | None = None

    @property
    def call(self) -> cst.Call:
        return self.site.node

    @property
    def scope(self) -> Scope:
        return self.site.scope


def constructions(model: SemanticModel) -> list[Construction]:
    """Every call of a torch optimizer class in the file."""
    return model.memoized("constructions", lambda: list(_constructions(model)))


def _constructions(model: SemanticModel) -> Iterator[Construction]:
    by_call = {i.call: i for i in model.instances_of_kind(OPTIMIZER)}
    for site in model.calls:
        resolved = model.torch_class(site.node.func, site.scope)
        if resolved is None or resolved[0] != OPTIMIZER:
            continue
        params = model.torch_argument(site.node, OPTIMIZER, resolved[1], "params")
        groups, complete = groups_of(model, params, site.scope) if params is not None else ([], False)
        yield Construction(site, resolved[1], params, groups, complete, by_call.get(site.node))


def add_param_group_calls(model: SemanticModel) -> Iterator[tuple[CallSite, Instance]]:
    """`opt.add_param_group(...)` on a known optimizer instance, whatever it is given."""
    for site in model.calls:
        method = call_method(site.node)
        if method is None or method[1] != "add_param_group":
            continue
        instance = model.instance_of(method[0], site.scope)
        if instance is not None and instance.kind == OPTIMIZER:
            yield site, instance


def added_groups(model: SemanticModel) -> Iterator[tuple[CallSite, Instance, ParamGroup]]:
    """`opt.add_param_group({...})` on a known optimizer instance."""
    for site, instance in add_param_group_calls(model):
        group = as_group(model, site.node.args[0].value, site.scope) if site.node.args else None
        if group is not None:
            yield site, instance, group


def dict_groups(model: SemanticModel) -> Iterator[tuple[str, ParamGroup]]:
    """(optimizer class, group) for dict groups in constructions and in `opt.add_param_group({...})`."""
    for construction in constructions(model):
        for group in construction.groups:
            if group.is_dict:
                yield construction.cls, group
    for _, instance, group in added_groups(model):
        if instance.cls is not None:
            yield instance.cls, group


def groups_of(model: SemanticModel, params: cst.BaseExpression, scope: Scope) -> tuple[list[ParamGroup], bool]:
    elements = _elements(model, params, scope)
    if elements is None:
        return [ParamGroup(params, is_dict=False)], True
    groups, complete = [], True
    for element in elements:
        if element is None:
            complete = False
            continue
        groups.append(as_group(model, element, scope) or ParamGroup(element, is_dict=False))
    return groups, complete


def _elements(model, params, scope) -> list[cst.BaseExpression | None] | None:
    """The list's elements (None for one we cannot see), or None when params is not a list."""
    if isinstance(params, (cst.List, cst.Tuple)):
        return [None if isinstance(e, cst.StarredElement) else e.value for e in params.elements]
    if isinstance(params, cst.ListComp):
        return [params.elt] if as_group(model, params.elt, scope) is not None else None
    if isinstance(params, cst.Name):
        assignments = model.values_of(params, scope)
        if len(assignments) == 1 and isinstance(assignments[0].value, (cst.List, cst.Tuple, cst.ListComp)):
            elements = _elements(model, assignments[0].value, scope)
            if elements is not None:
                return elements + _appended(model, params.value, assignments[0].resolution_scope)
    return None


def _appended(model: SemanticModel, name: str, scope: Scope) -> list[cst.BaseExpression | None]:
    """Elements added by `name.append(x)` / `name.extend([...])` / `name += [...]` in the same scope."""
    added: list[cst.BaseExpression | None] = []
    for site in model.calls:
        method = call_method(site.node)
        if site.scope is not scope or method is None or not isinstance(method[0], cst.Name):
            continue
        if method[0].value != name or not site.node.args:
            continue
        value = site.node.args[0].value
        if method[1] == "append":
            added.append(value)
        elif method[1] == "extend":
            added.extend(
                [None if isinstance(e, cst.StarredElement) else e.value for e in value.elements]
                if isinstance(value, (cst.List, cst.Tuple))
                else [None]
            )
    return added


def as_group(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> ParamGroup | None:
    """A dict literal or a call of the builtin `dict(...)` as a param group."""
    if isinstance(expr, cst.Dict):
        group = ParamGroup(expr, is_dict=True)
        for element in expr.elements:
            if isinstance(element, cst.StarredDictElement):
                group.has_unpacking = True
                continue
            key = string_value(element.key)
            if key is None:
                group.has_unpacking = True  # a computed key: other keys may exist
                continue
            group.keys.append(GroupKey(key, element.key, element.value))
        return group
    if isinstance(expr, cst.Call) and model.is_builtin(expr.func, "dict", scope):
        group = ParamGroup(expr, is_dict=True)
        for arg in expr.args:
            if arg.keyword is None:
                group.has_unpacking = True
                continue
            group.keys.append(GroupKey(arg.keyword.value, arg.keyword, arg.value))
        return group
    return None


def string_value(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.SimpleString):
        try:
            value = ast.literal_eval(expr.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


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
    if model.builtin_name(expr.func, scope) in _MATERIALIZE and len(args) == 1:
        return args
    if filters and model.builtin_name(expr.func, scope) == "filter" and len(args) == 2:
        return args[1:]
    qualname = model.qualname(expr.func, scope)
    if qualname == "itertools.chain" and args:
        return args
    if qualname == "itertools.chain.from_iterable" and len(args) == 1 and isinstance(args[0], (cst.List, cst.Tuple)):
        if not _has_starred(args[0]):
            return [e.value for e in args[0].elements]
    return None


def parameters_call(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The receiver of `x.parameters()` / `x.named_parameters()`, else None."""
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in ("parameters", "named_parameters")
    ):
        return expr.func.value
    return None
