"""Whether one statement runs before another: textual order in one function, and the order of
methods for the `self.x` attributes that connect them."""

from __future__ import annotations

import libcst as cst

from optlint.static.semantic.model import SemanticModel
from optlint.static.semantic.scopes import Assignment, CallSite, Scope


def runs_before(model: SemanticModel, assignment: Assignment, site: CallSite) -> bool:
    """Same function: textual order. `self.` attributes across methods: the call runs in another method."""
    assigned_in = _method_of(assignment.resolution_scope)
    called_in = _method_of(site.scope)
    if assigned_in is called_in:
        return assignment.order < site.order
    if assignment.scope.kind != "class" or called_in is None or called_in.node.name.value == "__init__":
        return False
    # A method the assigning method calls before it assigns runs first.
    return not any(
        call.scope is assigned_in
        and call.order < assignment.order
        and model.function_called(call.node, call.scope) is called_in.node
        for call in model.calls
    )


def _method_of(scope: Scope | None) -> Scope | None:
    """The `def` a scope belongs to: a lambda runs its body where it is called, later."""
    while scope is not None and not isinstance(scope.node, cst.FunctionDef):
        scope = scope.parent
    return scope
