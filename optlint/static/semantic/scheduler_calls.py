"""Shared by OPT013-OPT015: method calls on a scheduler that the file provably builds.

A receiver counts only when every value assigned to it (ignoring `None` placeholders) builds a
scheduler: `sched = build(cfg)` anywhere beside `sched = StepLR(...)` makes its class unknown.
Conventional names (`scheduler`) never stand in here; RULES.md keeps them for the loop-order rules.
A build under the other value of a flag that guards the call does not count (semantic/flags.py).
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst

from optlint.static.semantic.expressions import call_method, dotted, is_none
from optlint.static.semantic.flags import reaching
from optlint.static.semantic.model import SCHEDULER, Instance, SemanticModel
from optlint.static.semantic.scopes import CallSite, Scope
from optlint.static.walk import calls_in, walk


def scheduler_calls(model: SemanticModel, method: str) -> Iterator[tuple[CallSite, list[Instance]]]:
    """`x.<method>(...)` calls with every scheduler `x` may hold."""
    for site in model.calls:
        found = call_method(site.node)
        if found is None or found[1] != method:
            continue
        builds = []
        for assignment in reaching(model, model.values_of(found[0], site.scope), site.node, site.scope):
            if is_none(assignment.value):
                continue
            instance = model.instance_at(assignment)
            if instance is None or instance.kind != SCHEDULER:
                builds = []
                break
            builds.append(instance)
        if builds:
            yield site, builds


def not_type_dispatched(model: SemanticModel, sites: list[CallSite]) -> list[CallSite]:
    """The sites that do not sit under `if isinstance(receiver, ...)` / `type(receiver)` (either
    branch): code that checks the type expects other scheduler classes than the one built here."""
    if not sites:
        return []
    checked = {(site.scope, _type_checked(model, site.node, site.scope)) for site in model.calls}
    suspects = [site for site in sites if (site.scope, dotted(site.node.func.value)) in checked]
    found: set[cst.Call] = set()
    for scope in {site.scope for site in suspects}:  # walk only the functions that check a type
        visitor = _TypeDispatch(model, scope, {site.node for site in suspects if site.scope is scope})
        walk(scope.node, visitor)
        found |= visitor.found
    return [site for site in sites if site.node not in found]


class _TypeDispatch(cst.CSTVisitor):
    def __init__(self, model: SemanticModel, scope: Scope, targets: set[cst.Call]):
        self.model, self.scope, self.targets = model, scope, targets
        self.tests: list[cst.BaseExpression] = []
        self.found: set[cst.Call] = set()

    def visit_If(self, node: cst.If) -> None:
        self.tests.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self.tests.pop()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self.tests.append(node.test)

    def leave_IfExp(self, original_node: cst.IfExp) -> None:
        self.tests.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if node in self.targets:
            receiver = dotted(node.func.value)
            checks = (check for test in self.tests for check in calls_in(test))
            if any(_type_checked(self.model, check, self.scope) == receiver for check in checks):
                self.found.add(node)


def _type_checked(model: SemanticModel, call: cst.Call, scope: Scope) -> str | None:
    """`s` for `isinstance(s, ...)` or `type(s)` (the builtins)."""
    if model.builtin_name(call.func, scope) in ("isinstance", "type") and call.args:
        return dotted(call.args[0].value)
    return None
