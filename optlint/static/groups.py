"""What an optimizer is built from: its construction calls and their param groups.

`SGD(params)`, `SGD([{...}, {...}])`, `groups = [...]; groups.append({...}); AdamW(groups)` and
`opt.add_param_group({...})` all become `ParamGroup`s that rules inspect.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from optlint.static.model import OPTIMIZER, CallSite, Instance, Scope, SemanticModel, argument, call_method


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
        params = argument(site.node, 0, "params")
        groups, complete = groups_of(model, params, site.scope) if params is not None else ([], False)
        yield Construction(site, resolved[1], params, groups, complete, by_call.get(site.node))


def added_groups(model: SemanticModel) -> Iterator[tuple[CallSite, Instance, ParamGroup]]:
    """`opt.add_param_group({...})` on a known optimizer instance."""
    for site in model.calls:
        method = call_method(site.node)
        if method is None or method[1] != "add_param_group" or not site.node.args:
            continue
        instance = model.instance_of(method[0], site.scope)
        if instance is None or instance.kind != OPTIMIZER:
            continue
        group = as_group(site.node.args[0].value)
        if group is not None:
            yield site, instance, group


def groups_of(model: SemanticModel, params: cst.BaseExpression, scope: Scope) -> tuple[list[ParamGroup], bool]:
    elements = _elements(model, params, scope)
    if elements is None:
        return [ParamGroup(params, is_dict=False)], True
    groups, complete = [], True
    for element in elements:
        if element is None:
            complete = False
            continue
        groups.append(as_group(element) or ParamGroup(element, is_dict=False))
    return groups, complete


def _elements(model, params, scope) -> list[cst.BaseExpression | None] | None:
    """The list's elements (None for one we cannot see), or None when params is not a list."""
    if isinstance(params, (cst.List, cst.Tuple)):
        return [None if isinstance(e, cst.StarredElement) else e.value for e in params.elements]
    if isinstance(params, cst.ListComp):
        return [params.elt] if as_group(params.elt) is not None else None
    if isinstance(params, cst.Name):
        assignments = model.assignments_of(params, scope)
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


def as_group(expr: cst.BaseExpression) -> ParamGroup | None:
    """A dict literal or `dict(...)` call as a param group."""
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
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "dict":
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
