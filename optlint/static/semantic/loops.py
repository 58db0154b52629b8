"""Step-order analysis: the optimizer and scheduler steps a loop body runs, in order.

A loop's body is flattened into `StepEvent`s in textual order, descending into `if`/`try`/`with`,
nested loops (depth + 1) and calls of same-file helper functions and methods (inlined, so a helper
that runs `optimizer.step()` counts as an optimizer step where it is called).

Each helper is summarised once: its steps, each kept at its first place (a step that comes again
at the same depth and guard adds nothing the rules ask about), are what every call of it inlines,
deeper by the loops around the call. A file of helpers that each call the one before twice costs
what its text costs, not 2**n. A recursive helper is inlined once, not forever: a call back into a
helper being summarised adds nothing, and helpers of one cycle are summarised from the first one
reached (see `_Walker.summary`).

An optimizer step is `opt.step()`, `scaler.step(opt)` (any `x.step(opt)` / `x.optimizer_step(opt)`
given an optimizer), or a configured step name. A scheduler step is `.step()` on a scheduler
instance, or on a conventionally named receiver (`scheduler`, `lr_scheduler`, ...) that is not
disqualified: diffusion-style `noise_scheduler.step(out, t, x)` takes positional arguments an LR
scheduler never takes, and a name built by a call that receives no optimizer is something else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import libcst as cst

from optlint.static.semantic.expressions import argument, call_method, dotted, summarised_argument
from optlint.static.semantic.model import OPTIMIZER, SCHEDULER, Instance, SemanticModel, compare, conventional_kind
from optlint.static.semantic.scopes import Scope, parameter_names
from optlint.static.walk import calls_in

Loop = cst.For | cst.While


@dataclass
class StepEvent:
    kind: str  # OPTIMIZER or SCHEDULER
    call: cst.Call
    receiver: cst.BaseExpression  # the optimizer (for `scaler.step(opt)`, the argument) or the scheduler
    instance: Instance | None  # None when only the name says what it is
    depth: int  # loops between the analysed loop's body and this step
    skipped_on_first_iteration: bool  # under `if epoch > 0:` and the like
    statement: cst.SimpleStatementLine | None  # the statement, when the step is all it does
    next_statement: cst.BaseStatement | None  # the statement after it in the same block
    origin: str | None = None  # `engine.py:41` for a step another module of the project runs; `call` calls it
    origin_has_arguments: bool = False  # whether that step is given arguments (`scheduler.step(loss)`)
    private_to: cst.CSTNode | None = None  # the function whose own local the receiver is (see `_owner`)

    def label(self, module: cst.Module) -> str:
        return module.code_for_node(self.receiver)

    @property
    def has_arguments(self) -> bool:
        return self.origin_has_arguments if self.origin is not None else bool(self.call.args)

    def origin_note(self) -> str:
        """What a message adds when the step is in another file."""
        return f" (the {self.kind} steps in `{self.origin}`, called from here)" if self.origin else ""


def loop_events(model: SemanticModel, loop: Loop, scope: Scope, settings: dict | None = None) -> list[StepEvent]:
    """The steps one loop's body runs, in order (computed once per loop and file)."""

    def compute() -> list[StepEvent]:
        walker = _walker(model, settings or {}, _first_iteration_names(loop), _first_values(model, loop, scope))
        return _first_of_each(walker.block(_body(loop), scope, depth=0, guarded=False))

    return model.memoized(("loop-events", loop), compute)


def function_events(model: SemanticModel, function: cst.FunctionDef | cst.Lambda,
                    settings: dict | None = None) -> list[StepEvent]:
    """The steps a call of a same-file function or lambda runs, at depth 0 and unguarded (a framework
    calls it: an ignite handler, an engine's update function)."""
    walker = _walker(model, settings or {}, frozenset(), frozenset())
    if isinstance(function, cst.Lambda):
        return _first_of_each(walker.expression(function.body, model.scopes_by_node[function], 0, False))
    return walker.summary(function)


def optimizer_matches(scheduler: StepEvent, optimizer: StepEvent) -> bool:
    """Whether this optimizer step is the one the scheduler is bound to (unknown binds match all)."""
    bound = scheduler.instance.optimizer if scheduler.instance is not None else None
    owners = scheduler.private_to, optimizer.private_to
    if None not in owners and owners[0] is not owners[1]:
        return False  # the locals of two functions: each call of each steps objects of its own
    if bound is None or optimizer.instance is None:
        return True
    return optimizer.instance.call is bound.call


def _owner(model: SemanticModel, receiver: cst.BaseExpression, scope: Scope) -> cst.CSTNode | None:
    """The function whose own local variable holds the receiver (`lr_scheduler = build(...)` there, not
    a parameter, a global or a closure's): what it steps exists only in that function's call."""
    head = receiver
    while isinstance(head, (cst.Attribute, cst.Subscript)):
        head = head.value
    if not isinstance(head, cst.Name) or head.value in model.declared_global:
        return None
    binding = model.binding_scope(head.value, scope)
    if binding is None or binding.kind != "function" or head.value in parameter_names(binding.node):
        return None
    return binding.node


def _first_iteration_names(loop: Loop) -> frozenset[str]:
    if isinstance(loop, cst.For):
        return frozenset(n.value for n in _names_in(loop.target))
    return frozenset()


def _first_values(model: SemanticModel, loop: Loop, scope: Scope) -> frozenset[tuple[str, float]]:
    """The loop variables whose first value is known: `for epoch in range(START, n)` (START a literal or a
    module constant), `for i, x in enumerate(xs)` (0, or its `start`)."""
    if not (isinstance(loop, cst.For) and isinstance(loop.iter, cst.Call)):
        return frozenset()
    call, target = loop.iter, loop.target
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    if model.is_builtin(call.func, "range", scope) and isinstance(target, cst.Name) and positional:
        first = model.constant(positional[0], scope) if len(positional) > 1 else 0
        name = target.value
    elif (model.is_builtin(call.func, "enumerate", scope) and isinstance(target, cst.Tuple)
          and isinstance(target.elements[0].value, cst.Name)):
        start = argument(call, 1, "start")
        first = 0 if start is None else model.constant(start, scope)
        name = target.elements[0].value.value
    else:
        return frozenset()
    return frozenset({(name, first)}) if isinstance(first, (int, float)) and not isinstance(first, bool) else frozenset()


def _names_in(expr: cst.BaseExpression) -> Iterator[cst.Name]:
    if isinstance(expr, cst.Name):
        yield expr
    elif isinstance(expr, (cst.Tuple, cst.List)):
        for element in expr.elements:
            yield from _names_in(element.value)


def _walker(model: SemanticModel, settings: dict, loop_names: frozenset[str],
            first_values: frozenset[tuple[str, float]]) -> _Walker:
    """One walker per loop variables and settings, so that its helper summaries are shared."""
    step_names = frozenset(settings.get("optimizer_step_names", ()))
    scheduler_names = frozenset(settings.get("scheduler_names", ()))
    key = ("step-walker", loop_names, first_values, step_names, scheduler_names)
    return model.memoized(key, lambda: _Walker(model, step_names, scheduler_names, loop_names, dict(first_values)))


def helper_steps(model: SemanticModel, helper: cst.FunctionDef, settings: dict) -> list[StepEvent]:
    """The steps a call of a same-file function runs (what project/summary.py keeps of a module)."""
    return _walker(model, settings, frozenset(), frozenset()).summary(helper)


def _first_of_each(events) -> list[StepEvent]:
    """The events in order, each kept where it first happens (same step, instance, depth and guard)."""
    first: dict[tuple, StepEvent] = {}
    for event in events:
        instance = event.instance.call if event.instance is not None else None
        first.setdefault((event.call, event.depth, event.skipped_on_first_iteration, instance, event.origin), event)
    return list(first.values())


class _Walker:
    def __init__(self, model: SemanticModel, step_names: frozenset[str], scheduler_names: frozenset[str],
                 loop_names: frozenset[str], first_values: dict[str, float]):
        self.model = model
        self.first_values = first_values  # the loop variables' values on the first iteration, where known
        self.step_names = step_names
        self.scheduler_names = scheduler_names
        self.loop_names = loop_names
        self.summaries: dict[cst.FunctionDef, list[StepEvent]] = {}  # final: the same wherever called
        self.stack: list[cst.FunctionDef] = []  # helpers being summarised, outermost first
        self.lows: list[int] = []  # for each: the lowest stack position it has called back into
        self.unfinished: dict[cst.FunctionDef, int] = {}  # summarised inside a cycle not yet closed

    def block(self, statements, scope: Scope, depth: int, guarded: bool) -> Iterator[StepEvent]:
        statements = list(statements)
        for index, statement in enumerate(statements):
            following = statements[index + 1] if index + 1 < len(statements) else None
            yield from self.statement(statement, following, scope, depth, guarded)

    def statement(self, node, following, scope: Scope, depth: int, guarded: bool) -> Iterator[StepEvent]:
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for call in calls_in(node):
                whole = node if _is_bare_call(node, call) else None
                yield from self.call(call, scope, depth, guarded, whole, following)
        elif isinstance(node, cst.If):
            yield from self.expression(node.test, scope, depth, guarded)
            skips_first = guarded or self._skips_first_iteration(node.test, scope)
            yield from self.block(_body(node), scope, depth, skips_first)
            if node.orelse is not None:
                orelse = node.orelse
                yield from (self.statement(orelse, None, scope, depth, guarded) if isinstance(orelse, cst.If)
                            else self.block(_body(orelse), scope, depth, guarded))
        elif isinstance(node, (cst.For, cst.While)):
            yield from self.expression(node.iter if isinstance(node, cst.For) else node.test, scope, depth, guarded)
            yield from self.block(_body(node), scope, depth + 1, guarded)
        elif isinstance(node, cst.With):
            for item in node.items:
                yield from self.expression(item.item, scope, depth, guarded)
            yield from self.block(_body(node), scope, depth, guarded)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            yield from self.block(_body(node), scope, depth, guarded)
            for handler in node.handlers:
                yield from self.block(_body(handler), scope, depth, guarded)
            for part in (node.orelse, node.finalbody):
                if part is not None:
                    yield from self.block(_body(part), scope, depth, guarded)
        elif isinstance(node, cst.Match):
            for case in node.cases:
                yield from self.block(_body(case), scope, depth, guarded)
        # Function and class definitions run nothing where they stand.

    def expression(self, expr, scope, depth, guarded) -> Iterator[StepEvent]:
        for call in calls_in(expr):
            yield from self.call(call, scope, depth, guarded, None, None)

    def call(self, call: cst.Call, scope: Scope, depth: int, guarded: bool, statement, following) -> Iterator[StepEvent]:
        event = self.classify(call, scope)
        if event is not None:
            kind, receiver, instance = event
            for each in self._each_element(receiver, scope, instance):
                yield StepEvent(kind, call, receiver, each, depth, guarded, statement, following,
                                private_to=_owner(self.model, receiver, scope))
            return
        helper = self.model.function_called(call, scope)
        if helper is not None:
            for event in self.summary(helper):
                yield replace(event, depth=event.depth + depth,
                              skipped_on_first_iteration=event.skipped_on_first_iteration or guarded)
        else:
            yield from imported_steps(self.model, call, scope, depth, guarded)

    def summary(self, helper: cst.FunctionDef) -> list[StepEvent]:
        """The steps a call of `helper` runs, at depth 0 and unguarded.

        A call back into a helper being summarised adds nothing; the summaries made meanwhile lack
        that helper's steps, so they are kept only until the cycle's first helper is done, then made
        again wherever they are reached next (Tarjan's low link says which). Each helper is walked
        once, plus once per cycle it is part of, never once per path."""
        if helper in self.summaries:
            return self.summaries[helper]
        reached = self.stack.index(helper) if helper in self.stack else self.unfinished.get(helper)
        if reached is not None:
            self._reach(reached)
            return []
        position = len(self.stack)
        self.stack.append(helper)
        self.lows.append(position)
        events = _first_of_each(self.block(_body(helper), self.model.scope_of_function[helper], 0, False))
        self.stack.pop()
        low = self.lows.pop()
        if low < position:
            self.unfinished[helper] = low
            self._reach(low)
            return events
        self.summaries[helper] = events
        self.unfinished = {h: at for h, at in self.unfinished.items() if at < position}
        return events

    def _reach(self, position: int) -> None:
        """The helper being summarised calls back into the one at `position` on the stack."""
        if self.lows:
            self.lows[-1] = min(self.lows[-1], position)

    def _each_element(self, receiver: cst.BaseExpression, scope: Scope, instance: Instance | None) -> list:
        """`for opt in (opt_g, opt_d): opt.step()` steps each of them; any other receiver is one instance."""
        if instance is None or not self.model.is_loop_element(receiver, scope):
            return [instance]
        held = self.model.instances_held(receiver, scope)
        return held if held and all(each.kind == instance.kind for each in held) else [instance]

    def classify(self, call: cst.Call, scope: Scope) -> tuple[str, cst.BaseExpression, Instance | None] | None:
        if self.step_names and dotted(call.func) in self.step_names:
            return (OPTIMIZER, call.func, None)
        method = call_method(call)
        if method is None or not (method[1] == "step" or method[1].endswith("optimizer_step")):
            return None
        receiver = method[0]
        positional = [a.value for a in call.args if a.keyword is None]
        instance = self.model.instance_of(receiver, scope)
        if instance is not None and method[1] == "step":
            return (instance.kind, receiver, instance)
        exposed = self.model.imported(receiver, scope) if method[1] == "step" else None
        if exposed is not None and exposed[0] == "object":  # `from .state import optimizer`
            return (exposed[1][0], receiver, None)
        # `scaler.step(optimizer)`, `xm.optimizer_step(optimizer)`
        if positional:
            given = self._optimizer(positional[0], scope)
            if given is not None:
                return given
        if method[1] != "step":
            return None
        kind = SCHEDULER if dotted(receiver) in self.scheduler_names else conventional_kind(receiver)
        if kind == OPTIMIZER:
            return (OPTIMIZER, receiver, None)
        if kind == SCHEDULER and len(positional) <= 1 and self._may_be_lr_scheduler(receiver, scope):
            return (SCHEDULER, receiver, None)
        return None

    def _optimizer(self, expr, scope) -> tuple[str, cst.BaseExpression, Instance | None] | None:
        instance = self.model.instance_of(expr, scope)
        if instance is not None:
            return (OPTIMIZER, expr, instance) if instance.kind == OPTIMIZER else None
        if conventional_kind(expr) == OPTIMIZER:
            return (OPTIMIZER, expr, None)
        return None

    def _may_be_lr_scheduler(self, receiver: cst.BaseExpression, scope: Scope) -> bool:
        """A conventionally named scheduler, unless what it was built from says otherwise."""
        if receiver_takes_model_outputs(self.model, receiver):
            return False
        name = dotted(receiver)
        for assignment in self.model.values_of(receiver, scope):
            value = assignment.value
            if not isinstance(value, cst.Call) or any(dotted(a.value) == name for a in value.args):
                continue  # not a build, or a re-wrap: `scheduler = accelerator.prepare(scheduler)`
            if not any(self._optimizer(a.value, assignment.resolution_scope) for a in value.args):
                return False  # built without an optimizer: DDPMScheduler(...), a sampler, ...
        return True

    def _skips_first_iteration(self, test: cst.BaseExpression, scope: Scope) -> bool:
        """`if epoch:`, `if epoch > 0:`, `if epoch != start:`, `if epoch >= 1:`: the loop's own variable
        compared so that the first iteration may skip the step (then torch sees no early step). When the
        first value and the bound are both known (a literal, a module constant), the test is evaluated."""
        if isinstance(test, cst.Name):
            first = self.first_values.get(test.value)
            return test.value in self.loop_names and (first is None or not first)
        if isinstance(test, cst.BooleanOperation):
            return self._skips_first_iteration(test.left, scope) or self._skips_first_iteration(test.right, scope)
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return False
        if not (isinstance(test.left, cst.Name) and test.left.value in self.loop_names):
            return False
        target = test.comparisons[0]
        if not isinstance(target.operator, (cst.GreaterThan, cst.NotEqual, cst.GreaterThanEqual)):
            return False
        bound = self.model.constant(target.comparator, scope)
        passes = compare(self.first_values.get(test.left.value), target.operator, bound)
        if passes is not None:
            return not passes
        return not (isinstance(target.operator, cst.GreaterThanEqual) and bound == 0)


def receiver_takes_model_outputs(model: SemanticModel, receiver: cst.BaseExpression) -> bool:
    """Whether the file anywhere calls `<receiver>.step(a, b, ...)`: a diffusion sampler, not an LR scheduler."""
    return dotted(receiver) in model.memoized("multi-argument-steps", lambda: _multi_argument_steps(model))


def _multi_argument_steps(model: SemanticModel) -> set[str | None]:
    found = set()
    for site in model.calls:
        method = call_method(site.node)
        if method and method[1] == "step" and sum(1 for a in site.node.args if a.keyword is None) >= 2:
            found.add(dotted(method[0]))
    return found


def _is_bare_call(statement, call: cst.Call) -> bool:
    """`optimizer.step()` alone on its line: the statement can be moved without changing anything else."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and statement.body[0].value is call
    )


def _body(node) -> tuple:
    """A compound statement's statements; a one-line suite (`if x: a(); b()`) is one statement."""
    body = node.body
    return tuple(body.body) if isinstance(body, cst.IndentedBlock) else (body,)


def imported_steps(model: SemanticModel, call: cst.Call, scope: Scope, depth: int, guarded: bool) -> Iterator[StepEvent]:
    """The steps a project function (`train_one_epoch(model, loader, optimizer)`) or a method of a
    project class (`trainer.run_epoch()` on `trainer = Trainer(model, optimizer)`) runs on what this
    call, or the constructor call (`init:` targets), gives it; the receiver is the expression given here."""
    found = model.imported(call.func, scope)
    constructor = None
    if found is not None and found[0] == "function":
        callee = found[1]
    else:
        constructor = _project_constructor(model, call, scope)
        if constructor is None:
            return
        found, constructor_call, constructor_scope, method = constructor
        callee = found[1]["methods"].get(method)
        if callee is None:
            return
    for target, kind, line, step_depth, step_guarded, has_arguments in callee["steps"]:
        is_stored, _, name = target.rpartition(":")
        if is_stored:
            receiver, receiver_scope = summarised_argument(constructor_call, found[1], name), constructor_scope
        else:
            receiver, receiver_scope = summarised_argument(call, callee, name), scope
        instance = model.instance_of(receiver, receiver_scope) if receiver is not None else None
        if receiver is None or (instance is not None and instance.kind != kind):
            continue
        yield StepEvent(kind, call, receiver, instance, depth + step_depth, guarded or step_guarded, None, None,
                        f"{found[2]}:{line}", has_arguments, _owner(model, receiver, receiver_scope))


def _project_constructor(model: SemanticModel, call: cst.Call, scope: Scope):
    """For `obj.method(...)` where the one value of `obj` is `ProjectClass(...)`: (the class's lookup,
    the constructor call, the scope its arguments resolve in, the method's name)."""
    method = call_method(call)
    if method is None:
        return None
    values = model.values_of(method[0], scope)
    if len(values) != 1 or not isinstance(values[0].value, cst.Call):
        return None
    constructor, constructor_scope = values[0].value, values[0].resolution_scope
    found = model.imported(constructor.func, constructor_scope)
    if found is None or found[0] != "class":
        return None
    return found, constructor, constructor_scope, method[1]
