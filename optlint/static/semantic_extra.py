"""Model questions of the second-wave rules (OPT003 writes, OPT019, OPT020, OPT023), to be folded
into the semantic package: param groups written by hand, scheduler steps and restores, checkpoints.

Every answer is conservative: an expression counts only when it provably is what the question asks
(a param group of a resolved torch optimizer, a step of a resolved scheduler instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import libcst as cst

from optlint.static.groups import string_value
from optlint.static.model import OPTIMIZER, SCHEDULER, Instance, Scope, SemanticModel, call_method, dotted
from optlint.static.walk import walk


@dataclass(frozen=True)
class GroupKeyWrite:
    """`g["key"] = ...`, `g.update(key=...)` or `g.update({"key": ...})` on a param group of `optimizer`."""

    optimizer: Instance
    key: str
    node: cst.SimpleString | cst.Name  # the key as written


def param_group_writes(model: SemanticModel) -> list[GroupKeyWrite]:
    """Every key written into a param group of a resolved torch optimizer, after it was built."""
    return model.memoized("param-group-writes", lambda: _collect_writes(model))


def _collect_writes(model: SemanticModel) -> list[GroupKeyWrite]:
    visitor = _GroupWrites(model)
    walk(model.module, visitor)
    return visitor.found


class _GroupWrites(cst.CSTVisitor):
    """Tracks the scope and the `for g in opt.param_groups:` loops around each write."""

    def __init__(self, model: SemanticModel):
        self.model = model
        self.scopes: list[Scope] = [model.module_scope]
        self.loop_groups: list[tuple[str, Instance | None]] = []  # loop variable -> the optimizer
        self.found: list[GroupKeyWrite] = []

    def _enter(self, node) -> None:
        self.scopes.append(self.model.scopes_by_node.get(node, self.scopes[-1]))

    def _leave(self, node) -> None:
        self.scopes.pop()

    visit_FunctionDef = visit_ClassDef = visit_Lambda = _enter
    leave_FunctionDef = leave_ClassDef = leave_Lambda = _leave

    def visit_For(self, node: cst.For) -> None:
        target, iterable = node.target, node.iter
        if isinstance(iterable, cst.Call) and dotted(iterable.func) == "enumerate" and iterable.args:
            iterable = iterable.args[0].value
            target = target.elements[1].value if isinstance(target, cst.Tuple) and len(target.elements) == 2 else None
        name = target.value if isinstance(target, cst.Name) else ""
        self.loop_groups.append((name, self._groups_owner(iterable)))

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_groups.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._subscript_write(target.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._subscript_write(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        method = call_method(node)
        if method is None or method[1] != "update":
            return
        owner = self.group_owner(method[0])
        if owner is None:
            return
        for arg in node.args:
            if arg.keyword is not None:
                self._add(owner, arg.keyword.value, arg.keyword)
            elif isinstance(arg.value, cst.Dict) and not arg.star:
                for element in arg.value.elements:
                    if isinstance(element, cst.DictElement):
                        self._string_key(owner, element.key)

    def _subscript_write(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            owner = self.group_owner(target.value)
            index = target.slice[0].slice
            if owner is not None and isinstance(index, cst.Index):
                self._string_key(owner, index.value)

    def _string_key(self, owner: Instance, key: cst.BaseExpression) -> None:
        if isinstance(key, cst.SimpleString) and string_value(key) is not None:
            self._add(owner, string_value(key), key)

    def _add(self, owner: Instance, key: str, node) -> None:
        if owner.cls is not None:
            self.found.append(GroupKeyWrite(owner, key, node))

    def group_owner(self, expr: cst.BaseExpression) -> Instance | None:
        """The optimizer whose param group `expr` is: `opt.param_groups[i]`, the variable of a loop
        over `opt.param_groups`, or a name only ever assigned `opt.param_groups[i]`."""
        if isinstance(expr, cst.Subscript):
            return self._groups_owner(expr.value)
        if not isinstance(expr, cst.Name):
            return None
        assignments = self.model.assignments_of(expr, self.scopes[-1])
        for name, owner in reversed(self.loop_groups):
            if name == expr.value:
                return owner if not assignments else None
        owners = [self._groups_owner(a.value.value) if isinstance(a.value, cst.Subscript) else None
                  for a in assignments]
        if not owners or None in owners or len({owner.call for owner in owners}) != 1:
            return None
        return owners[0]

    def _groups_owner(self, expr: cst.BaseExpression) -> Instance | None:
        """The optimizer for `opt.param_groups`."""
        if not (isinstance(expr, cst.Attribute) and expr.attr.value == "param_groups"):
            return None
        instance = self.model.instance_of(expr.value, self.scopes[-1])
        return instance if instance is not None and instance.kind == OPTIMIZER else None


def guards_of(loop: cst.For | cst.While) -> dict[cst.Call, tuple[cst.BaseExpression, ...]]:
    """Each call written in the loop's body, with the tests of the `if`s (either branch) around it
    inside the loop. Calls in nested functions and lambdas are left out: they run elsewhere."""
    visitor = _Guards()
    for statement in loop.body.body if isinstance(loop.body, cst.IndentedBlock) else (loop.body,):
        walk(statement, visitor)
    return visitor.found


class _Guards(cst.CSTVisitor):
    def __init__(self):
        self.tests: list[cst.BaseExpression] = []
        self.found: dict[cst.Call, tuple[cst.BaseExpression, ...]] = {}

    def visit_If(self, node: cst.If) -> None:
        self.tests.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self.tests.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self.found[node] = tuple(self.tests)

    def visit_FunctionDef(self, node) -> bool:
        return False

    visit_Lambda = visit_ClassDef = visit_FunctionDef
