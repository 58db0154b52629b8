"""Access paths: what a group's parameters are, as paths from the scope that binds their root.

`model.fc.parameters()` is every parameter under ("model", "fc"); `model.fc.weight` and a name
bound only to lists are the same tensors wherever the same text appears. Two sources overlap when
they share a root and one path extends the other (or, for tensors, when they are the same text).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from optlint.static.semantic.groups import Group, parameters_call, sources
from optlint.static.semantic.model import SemanticModel
from optlint.static.semantic.modules import module_builds
from optlint.static.semantic.scopes import Scope

_LISTS = (cst.List, cst.Tuple, cst.ListComp)


@dataclass(frozen=True)
class ParameterSource:
    """What one group draws parameters from, as far as the file proves it."""

    node: cst.BaseExpression
    root: Scope  # where the path's first name is bound (the class for `self`)
    path: tuple[str, ...]  # ("model", "fc") for `model.fc.parameters()` / `model.fc.weight`
    tree: bool  # `X.parameters()`: every parameter under X
    text: str  # the expression, for "the same expression twice"

    def overlaps(self, other: ParameterSource) -> bool:
        if self.root is not other.root:
            return False
        if self.tree and other.tree:
            shorter = min(len(self.path), len(other.path))
            return self.path[:shorter] == other.path[:shorter]
        return self.text == other.text


def parameter_sources(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> list[ParameterSource]:
    """The access paths a group expression draws its parameters from, where the file proves them."""
    return [s for item in sources(model, expr, scope, filters=False) if (s := _source(model, item, scope))]


def _source(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> ParameterSource | None:
    receiver = parameters_call(expr)
    if receiver is not None:
        path, tree = access_path(receiver), not expr.args and not _overrides_parameters(model)
    elif _holds_same_tensors(model, expr, scope):
        path, tree = access_path(expr), False
    else:
        return None
    root = _root_scope(model, path[0], scope) if path else None
    if root is None:
        return None
    return ParameterSource(expr, root, path, tree, "".join(cst.Module([]).code_for_node(expr).split()))


def _overrides_parameters(model: SemanticModel) -> bool:
    """A class of this file defines its own `parameters()`: `x.parameters()` may not hold all of `x.y`'s."""
    own = ("parameters", "named_parameters")
    return any(name in s.functions for s in model.scopes if s.kind == "class" for name in own)


def access_path(expr: cst.BaseExpression) -> tuple[str, ...] | None:
    """`model.layers[0].fc` -> ("model", "layers", "0", "fc"): the names `named_parameters` uses."""
    if isinstance(expr, cst.Name):
        return (expr.value,)
    if isinstance(expr, cst.Attribute):
        head = access_path(expr.value)
        return head + (expr.attr.value,) if head else None
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        key, head = expr.slice[0].slice.value, access_path(expr.value)
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
        assignments = model.values_of(expr, scope)
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


def same_objects(model: SemanticModel, first: Group, second: Group, a: ParameterSource, b: ParameterSource) -> bool:
    """Within one call both groups see the same objects. Across calls (`add_param_group` later), only
    when the root is assigned once and no module between the two paths was replaced in between."""
    if first.site is second.site:
        return True
    outer, inner = sorted((a.path, b.path), key=len)
    if _assignment_count(model, inner, first.scope) > 1:
        return False
    replaced = model.memoized("replaced-paths", lambda: _replaced_paths(model))
    return not any(".".join(inner[:n]) in replaced for n in range(len(outer) + 1, len(inner) + 1))


def _assignment_count(model: SemanticModel, path: tuple[str, ...], scope: Scope) -> int:
    """How often the path's root is bound: the name, or for `self.x.y` the attribute `self.x`."""
    if path[0] != "self":
        return len(model.values_of(cst.Name(path[0]), scope))
    owner = scope.enclosing_class
    return len(owner.attributes.get(path[1], [])) if owner is not None and len(path) > 1 else 0


def _replaced_paths(model: SemanticModel) -> set[str]:
    """`model.fc` for `model.fc = ...` and `setattr(model, "fc", ...)`: what holds other modules after."""
    return {".".join(path) for store in model.attribute_stores if (path := access_path(store))}
