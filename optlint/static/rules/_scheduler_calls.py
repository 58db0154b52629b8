"""Shared by OPT013-OPT015: method calls on a scheduler that the file provably builds.

A receiver counts only when every value assigned to it (ignoring `None` placeholders) builds a
scheduler: `sched = build(cfg)` anywhere beside `sched = StepLR(...)` makes its class unknown.
Conventional names (`scheduler`) never stand in here; RULES.md keeps them for the loop-order rules.
"""

from __future__ import annotations

from typing import Iterator

import libcst as cst
import libcst.matchers as m

from optlint.static.model import SCHEDULER, CallSite, Instance, SemanticModel, call_method, dotted


def scheduler_calls(model: SemanticModel, method: str) -> Iterator[tuple[CallSite, list[Instance]]]:
    """`x.<method>(...)` calls with every scheduler `x` may hold."""
    by_assignment = {instance.assignment: instance for instance in model.instances}
    for site in model.calls:
        found = call_method(site.node)
        if found is None or found[1] != method:
            continue
        builds = []
        for assignment in model.assignments_of(found[0], site.scope):
            if m.matches(assignment.value, m.Name("None")):
                continue
            instance = by_assignment.get(assignment)
            if instance is None or instance.kind != SCHEDULER:
                builds = []
                break
            builds.append(instance)
        if builds:
            yield site, builds


def type_dispatched(module: cst.Module, calls: list[cst.Call]) -> set[cst.Call]:
    """The calls that sit under `if isinstance(receiver, ...)` / `type(receiver)` (either branch):
    the code expects other scheduler classes there than the one this file builds."""
    if not calls:
        return set()
    visitor = _TypeDispatch(set(calls))
    module.visit(visitor)
    return visitor.found


class _TypeDispatch(cst.CSTVisitor):
    def __init__(self, targets: set[cst.Call]):
        self.targets = targets
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
            if any(receiver in _type_checked(test) for test in self.tests):
                self.found.add(node)


def _type_checked(test: cst.BaseExpression) -> set[str | None]:
    checks = m.findall(test, m.Call(func=m.Name("isinstance") | m.Name("type"), args=[m.AtLeastN(n=1)]))
    return {dotted(check.args[0].value) for check in checks}
