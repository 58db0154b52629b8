"""What a file does with an optimizer's and a scheduler's state (the questions of OPT003's writes, OPT019,
OPT020 and OPT023): param groups written by hand, scheduler steps and restores, checkpoints.

Every answer is conservative: an expression counts only when it provably is what the question asks
(a param group of a resolved torch optimizer, a step of a resolved scheduler instance).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from optlint.static.semantic.groups import string_value
from optlint.static.semantic.loops import loop_events
from optlint.static.semantic.expressions import call_method, dotted
from optlint.static.semantic.model import OPTIMIZER, SCHEDULER, Instance, SemanticModel
from optlint.static.semantic.scopes import CallSite, Scope
from optlint.static.semantic.values import argument_for
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
    if "param_groups" not in model.name_counts:  # every write is into `opt.param_groups`
        return []
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
        assignments = self.model.values_of(expr, self.scopes[-1])
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
        instance = self.model.instance_of(expr.value, self.scopes[-1]) or _same_class_everywhere(
            self.model.parameter_instances(expr.value, self.scopes[-1])
        )
        return instance if instance is not None and instance.kind == OPTIMIZER else None


def _same_class_everywhere(instances: list[Instance] | None) -> Instance | None:
    """A parameter given optimizers of one class at every call site (`adjust_learning_rate(optimizer, epoch)`
    called for two of them): its param groups take that class's keys."""
    if not instances or len({(i.kind, i.cls) for i in instances}) != 1:
        return None
    return instances[0]


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
    assignments = _reaching(model.values_of(saved, save.scope), save.order)
    if not assignments or not all(isinstance(a.value, cst.Dict) for a in assignments):
        return None
    literals = [_dict_values(a.value) for a in assignments]
    if None in literals:
        return None
    contents = [value for values in literals for value in values]
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


def _reaching(assignments: list, order: int) -> list:
    """The assignments written before `order`, from the last one that is not a dict literal on
    (`checkpoint = torch.load(...)` on resume, then `checkpoint = {...}` each epoch)."""
    before = [a for a in assignments if a.order < order]
    last_other = max((i for i, a in enumerate(before) if not isinstance(a.value, cst.Dict)), default=-1)
    return before[last_other + 1:] or before[-1:]


def _dict_values(node: cst.Dict) -> list[cst.BaseExpression] | None:
    """The values of a dict literal; None with a `**spread`, which may hold anything."""
    if any(isinstance(element, cst.StarredDictElement) for element in node.elements):
        return None
    return [element.value for element in node.elements]


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
    held = model.instances_held(expr, scope) if isinstance(expr, (cst.Name, cst.Attribute)) else []
    return any(found.call is instance.call for found in held)


def scheduler_steps(model: SemanticModel, scheduler: Instance) -> list[cst.Call]:
    """The `.step(...)` calls on `scheduler`, also in same-file helpers it is handed to."""
    return [call for method, call in scheduler_uses(model, scheduler) or () if method == "step"]


def scheduler_uses(model: SemanticModel, scheduler: Instance) -> list[tuple[str, cst.Call]] | None:
    """The methods called on `scheduler`, with their calls, following it into the same-file helpers
    it is handed to (`train(model, loader, optimizer, scheduler)`); None when any other call (a
    framework, a helper that hands it on or keeps it) receives it."""
    return model.memoized(("scheduler-uses", scheduler.call), lambda: _uses(model, scheduler))


def _uses(model: SemanticModel, scheduler: Instance) -> list[tuple[str, cst.Call]] | None:
    found = []
    for site in model.calls:
        method = call_method(site.node)
        if method is not None and holds(model, method[0], site.scope, scheduler):
            found.append((method[1], site.node))
            continue
        for position, arg in enumerate(site.node.args):
            if not _given(model, arg.value, site.scope, scheduler):
                continue
            uses = _parameter_uses(model, site, position)
            if uses is None:
                return None
            found += uses
    return found


def _parameter_uses(model: SemanticModel, site: CallSite, position: int) -> list[tuple[str, cst.Call]] | None:
    """The methods a same-file helper calls on the parameter that receives argument `position`."""
    helper = model.function_called(site.node, site.scope)
    if helper is None:
        return None
    arg = site.node.args[position]
    names = [p.name.value for p in (*helper.params.posonly_params, *helper.params.params, *helper.params.kwonly_params)]
    name = next((n for n in names if (given := argument_for(helper, site.node, n)) and given[0] is arg.value), None)
    if name is None:
        return None
    visitor = _ParameterUses(name)
    walk(helper.body, visitor)
    return None if visitor.other else visitor.methods


class _ParameterUses(cst.CSTVisitor):
    def __init__(self, name: str):
        self.name = name
        self.methods: list[tuple[str, cst.Call]] = []
        self.other = False
        self.skip: set[int] = set()  # the names already accounted for

    def visit_Call(self, node: cst.Call) -> None:
        method = call_method(node)
        if method is not None and isinstance(method[0], cst.Name) and method[0].value == self.name:
            self.methods.append((method[1], node))
            self.skip.add(id(method[0]))
        for arg in node.args:
            if arg.keyword is not None:
                self.skip.add(id(arg.keyword))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.skip.add(id(node.attr))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self.skip:
            self.other = True


def scheduler_is_restored(model: SemanticModel, scheduler: Instance) -> bool:
    """Whether the file may save or restore the schedule by other means than the optimizer's state:
    the scheduler's own `state_dict`/`load_state_dict`, `last_epoch=` (or `.last_epoch = ...`), a step
    given the epoch, a loop that steps it alone (fast-forward), a rebuild in a loop, a framework's
    `save_state`, or a call other than a same-file helper that only steps it."""
    if any(arg.keyword is not None and arg.keyword.value == "last_epoch" for arg in scheduler.call.args):
        return True
    if any(site.node is scheduler.call and site.loop_depth > 0 for site in model.calls):
        return True
    if any(call_method(site.node) and call_method(site.node)[1] in ("save_state", "load_state") for site in model.calls):
        return True
    uses = scheduler_uses(model, scheduler)
    if uses is None or any(m in ("state_dict", "load_state_dict") or (m == "step" and c.args) for m, c in uses):
        return True
    return _last_epoch_set(model, scheduler) or _fast_forwarded(model, scheduler)


def _last_epoch_set(model: SemanticModel, scheduler: Instance) -> bool:
    """`scheduler.last_epoch = start_epoch - 1`: the position restored by hand (yolov5)."""
    label = f"self.{scheduler.assignment.target}" if scheduler.is_self_attribute else scheduler.assignment.target
    return any(isinstance(store, cst.Attribute) and dotted(store) == f"{label}.last_epoch"
               for store in model.attribute_stores)


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
