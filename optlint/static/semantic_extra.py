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
from optlint.static.loops import loop_events
from optlint.static.model import OPTIMIZER, SCHEDULER, CallSite, Instance, Scope, SemanticModel, call_method, dotted
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


# -- checkpoints and scheduler state (OPT023) --------------------------------------------------------
def checkpoint_contents(model: SemanticModel, save: CallSite) -> list[cst.BaseExpression] | None:
    """What the object `torch.save` is given holds: the values of a dict literal, or of the dict a
    name is bound to plus the items stored into it (`ckpt["k"] = v`, `ckpt.update(...)`) in that
    scope. None when the object may hold more than the file shows (another call receives it)."""
    saved = save.node.args[0].value
    if isinstance(saved, cst.Dict):
        return _dict_values(saved)
    if not isinstance(saved, cst.Name):
        return None
    assignments = model.assignments_of(saved, save.scope)
    if not assignments or not all(isinstance(a.value, cst.Dict) for a in assignments):
        return None
    contents = [value for a in assignments for value in _dict_values(a.value) or [a.value]]
    for site in model.calls:
        if site.scope is not save.scope or site.node is save.node:
            continue
        method = call_method(site.node)
        if method is not None and dotted(method[0]) == saved.value and method[1] == "update":
            contents += [arg.value for arg in site.node.args]
        elif any(dotted(arg.value) == saved.value for arg in site.node.args):
            return None
    stores = _SubscriptStores(saved.value)
    walk(save.scope.node, stores)
    return contents + stores.values


def _dict_values(node: cst.Dict) -> list[cst.BaseExpression]:
    return [element.value for element in node.elements]  # `**extra` is a StarredDictElement: its value too


class _SubscriptStores(cst.CSTVisitor):
    """The values of `name[...] = value` statements."""

    def __init__(self, name: str):
        self.name = name
        self.values: list[cst.BaseExpression] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and dotted(target.target.value) == self.name:
                self.values.append(node.value)


def in_lightning_module(model: SemanticModel, scope: Scope) -> bool:
    """Whether code in `scope` belongs to a LightningModule, whose schedulers Lightning checkpoints."""
    owner = scope if scope.kind == "class" else scope.enclosing_class
    seen: set[str] = set()
    while owner is not None and isinstance(owner.node, cst.ClassDef) and owner.node.name.value not in seen:
        seen.add(owner.node.name.value)
        bases = [model.qualname(b.value, owner.parent) or dotted(b.value) or "" for b in owner.node.bases]
        if any(base.endswith("LightningModule") for base in bases):
            return True
        owner = next((model.class_scope(b) for b in bases if model.class_scope(b) is not None), None)
    return False


def holds(model: SemanticModel, expr: cst.BaseExpression, scope: Scope, instance: Instance) -> bool:
    """Whether `expr` (a name or `self.x`) holds `instance`."""
    found = model.instance_of(expr, scope) if isinstance(expr, (cst.Name, cst.Attribute)) else None
    return found is not None and found.call is instance.call


def scheduler_steps(model: SemanticModel, scheduler: Instance) -> list[CallSite]:
    """The `.step(...)` calls on a receiver that holds `scheduler`."""
    return [site for site in model.calls if _method_on(model, site, scheduler) == "step"]


def _method_on(model: SemanticModel, site: CallSite, instance: Instance) -> str | None:
    method = call_method(site.node)
    return method[1] if method is not None and holds(model, method[0], site.scope, instance) else None


def scheduler_is_restored(model: SemanticModel, scheduler: Instance) -> bool:
    """Whether the file may save or restore the schedule by other means than the optimizer's state:
    the scheduler's own `state_dict`/`load_state_dict`, `last_epoch=`, a step given the epoch, a loop
    that steps it alone (fast-forward), a rebuild in a loop, or a call (a framework, a helper) given it."""
    if any(arg.keyword is not None and arg.keyword.value == "last_epoch" for arg in scheduler.call.args):
        return True
    if any(site.node is scheduler.call and site.loop_depth > 0 for site in model.calls):
        return True
    for site in model.calls:
        method = _method_on(model, site, scheduler)
        if method in ("state_dict", "load_state_dict") or (method == "step" and site.node.args):
            return True
        if call_method(site.node) is not None and call_method(site.node)[1] in ("save_state", "load_state"):
            return True
        if any(_given(model, arg.value, site.scope, scheduler) for arg in site.node.args):
            return True
    return _fast_forwarded(model, scheduler)


def _given(model: SemanticModel, expr: cst.BaseExpression, scope: Scope, instance: Instance) -> bool:
    """`f(sched)`, `f((opt, sched))`, `f([sched])`, `f(optimizers=(opt, sched))`."""
    if isinstance(expr, (cst.Tuple, cst.List)):
        return any(_given(model, element.value, scope, instance) for element in expr.elements)
    return holds(model, expr, scope, instance)


def _fast_forwarded(model: SemanticModel, scheduler: Instance) -> bool:
    for loop, scope in model.loops:
        events = loop_events(model, loop, scope)
        steps_it = any(e.kind == SCHEDULER and e.instance is not None and e.instance.call is scheduler.call
                       for e in events)
        if steps_it and not any(e.kind == OPTIMIZER for e in events):
            return True
    return False


def mentions(model: SemanticModel, exprs: list[cst.BaseExpression], scope: Scope, instance: Instance) -> bool:
    """Whether any name or `self.x` inside `exprs` holds `instance`."""
    finder = _Holders()
    for expr in exprs:
        walk(expr, finder)
    return any(holds(model, node, scope, instance) for node in finder.found)


class _Holders(cst.CSTVisitor):
    def __init__(self):
        self.found: list[cst.BaseExpression] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.found.append(node)
