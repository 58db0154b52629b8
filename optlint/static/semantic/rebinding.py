"""An optimizer variable bound to a new optimizer after a scheduler was built on it (OPT018).

Order is only known within one function (the text runs top to bottom) and between `__init__` and a
method it never calls (`__init__` runs first). A rebinding in the other branch of an `if` than the
first build is no rebinding, and a scheduler variable assigned more than once may be rebuilt with
the optimizer, so neither counts.
"""

from __future__ import annotations

import libcst as cst

from optlint.static.semantic.expressions import call_method, dotted
from optlint.static.semantic.model import OPTIMIZER, Instance, SemanticModel
from optlint.static.semantic.scopes import Assignment, Scope
from optlint.static.walk import walk


def optimizer_rebindings(model: SemanticModel, scheduler: Instance, optimizer: cst.BaseExpression) -> list[Assignment]:
    """The new optimizers bound to the variable `optimizer` (a name or `self.x`) after `scheduler`
    was built on it, when the scheduler itself is never rebuilt."""
    built = scheduler.assignment
    if _assignment_count(built) != 1:
        return []
    builds = {i.assignment for i in model.instances_of_kind(OPTIMIZER)}
    function = built.resolution_scope
    found = []
    for assignment in model.values_of(optimizer, function):
        if assignment not in builds:
            continue
        if assignment.resolution_scope is function:
            if assignment.order > built.order and not _exclusive(function.node, built.statement, assignment.statement):
                found.append(assignment)
        elif _runs_after_init(model, function, assignment.resolution_scope):
            found.append(assignment)
    return found


def uses_after(model: SemanticModel, text: str, assignment: Assignment) -> bool:
    """Whether a call later in the assignment's function uses `text` (`sched.step()`, `train(opt, sched)`)."""
    for site in model.calls:
        if site.scope is not assignment.resolution_scope or site.order <= assignment.order:
            continue
        method = call_method(site.node)
        if method is not None and dotted(method[0]) == text or any(dotted(a.value) == text for a in site.node.args):
            return True
    return False


def _assignment_count(assignment: Assignment) -> int:
    table = assignment.scope.attributes if assignment.scope.kind == "class" else assignment.scope.assignments
    return len(table.get(assignment.target, ()))


def _runs_after_init(model: SemanticModel, init: Scope, method: Scope) -> bool:
    """`method` is another method of the class whose `__init__` is `init`, and `__init__` never calls it."""
    if not (isinstance(init.node, cst.FunctionDef) and init.node.name.value == "__init__"):
        return False
    if method.enclosing_class is not init.enclosing_class or not isinstance(method.node, cst.FunctionDef):
        return False
    return method.node not in _called_from(model, init)


def _called_from(model: SemanticModel, function: Scope) -> set[cst.FunctionDef]:
    """The same-file functions a function calls, directly or through each other."""
    seen: set[cst.FunctionDef] = set()
    pending = [function.node]
    while pending:
        node = pending.pop()
        for site in model.calls:
            if site.scope.node is not node:
                continue
            callee = model.function_called(site.node, site.scope)
            if callee is not None and callee not in seen:
                seen.add(callee)
                pending.append(callee)
    return seen


def _exclusive(root: cst.CSTNode, first: cst.CSTNode, second: cst.CSTNode) -> bool:
    """Whether the two statements sit in different branches of one `if` (or `try`/`except`)."""
    branches = _Branches()
    walk(root, branches)
    return any((first in a and second in b) or (first in b and second in a) for a, b in branches.pairs)


class _Branches(cst.CSTVisitor):
    def __init__(self):
        self.pairs: list[tuple[set[cst.CSTNode], set[cst.CSTNode]]] = []

    def visit_If(self, node: cst.If) -> None:
        if node.orelse is not None:
            self.pairs.append((_nodes(node.body), _nodes(node.orelse)))

    def visit_Try(self, node: cst.Try) -> None:
        for handler in node.handlers:
            self.pairs.append((_nodes(node.body), _nodes(handler)))


def _nodes(node: cst.CSTNode) -> set[cst.CSTNode]:
    found, pending = set(), [node]
    while pending:
        current = pending.pop()
        found.add(current)
        pending.extend(current.children)
    return found
