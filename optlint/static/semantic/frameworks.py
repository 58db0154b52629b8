"""What the training frameworks do with the optimizers and schedulers a file hands them.

Each fact is proved on the installed package in tests/test_framework_behaviour.py, and only what the
code says for certain is modelled: a class with a base this file cannot see, a config built by a call,
a `**spread` in a dict, or an engine whose update function is not found gives nothing, so the rules
stay silent there.

- Lightning (`lightning_schedulers`): the schedulers `configure_optimizers` returns, in each of the
  return shapes Lightning 2.6 accepts, with their `interval` (default "epoch"), `frequency` (default 1)
  and `monitor`. In automatic optimization Lightning steps the optimizer every batch (every
  `accumulate_grad_batches`) and each scheduler per its interval, through `lr_scheduler_step` when the
  module defines it; it refuses a `ReduceLROnPlateau` without a monitor. With
  `automatic_optimization = False` the user steps them (`self.optimizers()`, `self.lr_schedulers()`).
- ignite (`ignite_runs`): the steps one epoch of an `Engine` runs, in order: `EPOCH_STARTED` handlers,
  then per iteration the `ITERATION_STARTED` handlers, the update function (`Engine(update)`, a same-file
  factory that returns one, or ignite's `create_supervised_trainer`, which steps its optimizer), the
  `ITERATION_COMPLETED` handlers, and last the `EPOCH_COMPLETED` handlers.
- accelerate (`accelerate_prepared`, `is_accelerate_prepared`): `a, b = accelerator.prepare(a, b)` gives
  back each object as its own kind, an optimizer or scheduler wrapped around the same one
  (`AcceleratedScheduler` skips its step while gradients accumulate).
- HF Trainer and Lightning (`framework_interval`): a scheduler handed to `Trainer(optimizers=(opt,
  sched))` is stepped by the Trainer once per training step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import libcst as cst

from optlint.static.semantic.expressions import argument, call_method, dotted, number_literal, terminal_name
from optlint.static.semantic.loops import Loop, StepEvent, function_events, loop_events
from optlint.static.semantic.model import OPTIMIZER, SCHEDULER, Instance, SemanticModel
from optlint.static.semantic.scopes import Scope
from optlint.static.walk import returns_in, walk

LIGHTNING_DEFAULT_INTERVAL, LIGHTNING_DEFAULT_FREQUENCY = "epoch", 1
STEP, EPOCH = "step", "epoch"


# -- every loop the file runs, and every ignite engine ------------------------------------------------
def step_sequences(model: SemanticModel, settings: dict | None = None) -> Iterator[tuple[Loop | None, Scope, list[StepEvent]]]:
    """The steps each loop of the file runs in order, then those of each ignite engine's epoch (no
    loop node: the engine's `run` is the loop). Depth 0 is once per iteration (epoch), 1 per batch."""
    for loop, scope in model.loops:
        yield loop, scope, loop_events(model, loop, scope, settings)
    for run in ignite_runs(model, settings):
        yield None, run.scope, run.events


# -- Lightning ------------------------------------------------------------------------------------------
@dataclass(eq=False)
class LightningScheduler:
    """One scheduler that a LightningModule's `configure_optimizers` returns."""

    module_class: cst.ClassDef
    method: cst.FunctionDef  # its `configure_optimizers`
    scope: Scope  # the method's scope, where `scheduler` resolves
    scheduler: cst.BaseExpression  # the scheduler as returned
    instance: Instance | None  # the torch scheduler it provably is
    config: cst.BaseExpression  # where it is configured: its `{"scheduler": ...}` dict, else `scheduler`
    options: dict[str, cst.BaseExpression]  # the config dict's other keys: interval, frequency, monitor, ...
    monitor: cst.BaseExpression | None  # from the config dict, or the single dict's top-level "monitor"
    automatic: bool  # Lightning steps it (automatic optimization); False: the user does
    hook: cst.FunctionDef | None  # the module's `lr_scheduler_step`, through which Lightning steps it

    @property
    def interval(self) -> str | None:
        """"step" or "epoch"; None when written as something this file does not spell out."""
        written = self.options.get("interval")
        if written is None:
            return LIGHTNING_DEFAULT_INTERVAL
        value = _string(written)
        return value if value in (STEP, EPOCH) else None

    @property
    def interval_written(self) -> bool:
        return "interval" in self.options

    @property
    def frequency(self) -> int | None:
        written = self.options.get("frequency")
        if written is None:
            return LIGHTNING_DEFAULT_FREQUENCY
        value = number_literal(written)
        return int(value) if value is not None and value == int(value) else None


def lightning_schedulers(model: SemanticModel) -> list[LightningScheduler]:
    """Every scheduler the LightningModules of this file return from `configure_optimizers`."""
    return model.memoized("lightning-schedulers", lambda: list(_lightning_schedulers(model)))


def _lightning_schedulers(model: SemanticModel) -> Iterator[LightningScheduler]:
    for name, (node, _) in model.classes.items():
        chain = _lightning_chain(model, name)
        class_scope = model.class_scope(name)
        method = class_scope.functions.get("configure_optimizers") if chain and class_scope else None
        if method is None:
            continue
        automatic = _automatic_optimization(model, chain)
        if automatic is None:
            continue
        hook = next((c.functions["lr_scheduler_step"] for c in chain if "lr_scheduler_step" in c.functions), None)
        scope = model.scope_of_function[method]
        for returned in _returned_values(method):
            for scheduler, config, options, monitor in _returned_schedulers(model, _literal(model, returned, scope), scope):
                yield LightningScheduler(node, method, scope, scheduler, _scheduler_instance(model, scheduler, scope),
                                         config, options, monitor, automatic, hook)


def _lightning_chain(model: SemanticModel, name: str) -> list[Scope] | None:
    """The class scopes from `name` up to a LightningModule base, when every base is one of this file's
    classes, a LightningModule or `object`; None for any other base (it may configure anything)."""

    def lightning_module(base: cst.BaseExpression, scope: Scope) -> bool | None:
        qualname = model.qualname(base, scope) or ""
        return True if qualname.startswith(("lightning.", "pytorch_lightning.")) and qualname.endswith(
            ".LightningModule") else None

    found = model.class_chain(name, lightning_module)
    return found[0] if found is not None and found[1] else None


def _automatic_optimization(model: SemanticModel, chain: list[Scope]) -> bool | None:
    """True unless some class of the chain sets `self.automatic_optimization`: False for a literal False,
    None (unknown) for anything else, a property or a class attribute."""
    automatic = True
    for scope in chain:
        if "automatic_optimization" in scope.functions or "automatic_optimization" in scope.bound:
            return None
        for assignment in scope.attributes.get("automatic_optimization", []):
            value = assignment.value
            if not (isinstance(value, cst.Name) and value.value in ("True", "False")):
                return None
            automatic = automatic and value.value == "True"
    return automatic


def _returned_values(method: cst.FunctionDef) -> list[cst.BaseExpression]:
    """What the method's own `return` statements give (not those of functions nested in it)."""
    return [node.value for node in returns_in(method) if node.value is not None]


def _literal(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression:
    """A name bound once to a dict, list or tuple literal (`config = {...}; return config`) as that literal."""
    if isinstance(expr, cst.Name):
        values = model.values_of(expr, scope)
        if len(values) == 1 and isinstance(values[0].value, (cst.Dict, cst.List, cst.Tuple)):
            return values[0].value
    return expr


def _returned_schedulers(model: SemanticModel, value: cst.BaseExpression, scope: Scope):
    """(scheduler, config, options, monitor) for each scheduler in one returned value, read the way
    Lightning's `_configure_optimizers` reads it; nothing for a shape it would not take as written."""
    entries = _dict_entries(model, value, scope)
    if entries is not None:  # {"optimizer": opt, "lr_scheduler": sched or {...}, "monitor": ...}
        if "lr_scheduler" in entries:
            yield from _configured(model, entries["lr_scheduler"], scope, entries.get("monitor"))
        return
    elements = _elements(model, value, scope)
    if elements is None:
        return
    if len(elements) == 2 and isinstance(_literal(model, elements[0], scope), cst.List):  # [optimizers], schedulers
        second = _literal(model, elements[1], scope)
        if isinstance(second, cst.List):
            for scheduler in second.elements:
                yield from _configured(model, scheduler.value, scope, None)
        elif not isinstance(second, cst.Tuple):  # one scheduler (Lightning takes a tuple for one, and fails)
            yield from _configured(model, elements[1], scope, None)
        return
    dicts = [_dict_entries(model, element, scope) for element in elements]
    if elements and all(entries is not None for entries in dicts):  # ({"optimizer": ..., "lr_scheduler": ...}, ...)
        for entries in dicts:
            if "lr_scheduler" in entries:
                yield from _configured(model, entries["lr_scheduler"], scope, None)  # a top-level monitor is not read


def _configured(model: SemanticModel, expr: cst.BaseExpression, scope: Scope, monitor: cst.BaseExpression | None):
    """A bare scheduler, or a `{"scheduler": ..., "interval": ...}` config dict."""
    options = _dict_entries(model, expr, scope)
    if options is None:
        if not _is_dict(model, _literal(model, expr, scope), scope):  # a dict with `**spread`: any key may be there
            yield expr, expr, {}, monitor
    elif "scheduler" in options:
        config = _literal(model, expr, scope)
        scheduler = options.pop("scheduler")
        yield scheduler, config, options, options.get("monitor")


def _dict_entries(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> dict[str, cst.BaseExpression] | None:
    """The entries of a dict literal (or `dict(k=v)`) whose keys are all string literals."""
    expr = _literal(model, expr, scope)
    if not _is_dict(model, expr, scope):
        return None
    if isinstance(expr, cst.Call):
        if all(arg.keyword is not None for arg in expr.args):
            return {arg.keyword.value: arg.value for arg in expr.args}
        return None
    entries = {}
    for element in expr.elements:
        key = _string(element.key) if isinstance(element, cst.DictElement) else None
        if key is None:
            return None  # `**spread` or a computed key: any key may be there
        entries[key] = element.value
    return entries


def _is_dict(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    return isinstance(expr, cst.Dict) or isinstance(expr, cst.Call) and model.is_builtin(expr.func, "dict", scope)


def _elements(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> list[cst.BaseExpression] | None:
    expr = _literal(model, expr, scope)
    if isinstance(expr, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in expr.elements):
        return [element.value for element in expr.elements]
    return None


def _string(expr: cst.BaseExpression | None) -> str | None:
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _scheduler_instance(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> Instance | None:
    """The torch scheduler a returned expression is: a name or `self.x` that holds one, or a build in place."""
    if isinstance(expr, cst.Call):
        return next((b for b in model.scheduler_builds() if b.call is expr), None)
    instance = model.instance_of(expr, scope)
    return instance if instance is not None and instance.kind == SCHEDULER else None


# -- HF Trainer ------------------------------------------------------------------------------------------
def trainer_schedulers(model: SemanticModel) -> list[tuple[cst.Call, cst.BaseExpression, Scope]]:
    """(the `Trainer(...)` call, the scheduler, its scope) for `transformers.Trainer(optimizers=(opt, sched))`
    and the library's other trainers: the Trainer steps that scheduler after every optimizer step."""
    found = []
    for site in model.calls:
        qualname = model.qualname(site.node.func, site.scope) or ""
        given = argument(site.node, None, "optimizers")
        if not (qualname.startswith("transformers.") and qualname.endswith("Trainer")) or given is None:
            continue
        pair = _elements(model, given, site.scope)
        if pair is not None and len(pair) == 2:
            found.append((site.node, pair[1], site.scope))
    return found


def framework_interval(model: SemanticModel, instance: Instance) -> str | None:
    """How often a framework this file hands `instance` to steps it: "step" (the HF Trainer, Lightning's
    `"interval": "step"`) or "epoch" (Lightning's default); None when no framework provably steps it."""
    for _, scheduler, scope in trainer_schedulers(model):
        if _scheduler_instance(model, scheduler, scope) is instance:
            return STEP
    for returned in lightning_schedulers(model):
        if returned.automatic and returned.instance is instance:
            return returned.interval
    return None


# -- accelerate ------------------------------------------------------------------------------------------
@dataclass(eq=False)
class Prepared:
    """One object given back by `accelerator.prepare(...)`: bound to `target` in `scope`."""

    target: str  # a plain name, or the attribute of `self.x`
    scope: Scope  # where the target lives (the class scope for `self.x`)
    argument: cst.BaseExpression  # what was passed at its position
    instance: Instance | None  # the optimizer or scheduler passed, wrapped now (same kind, same class)
    call: cst.Call


def accelerate_prepared(model: SemanticModel) -> list[Prepared]:
    """Each name bound by `x, y = accelerator.prepare(x, y)` (or one name to one object)."""
    return model.memoized("accelerate-prepared", lambda: list(_accelerate_prepared(model)))


def _accelerate_prepared(model: SemanticModel) -> Iterator[Prepared]:
    sites = {site.node: site for site in model.calls if _is_accelerate_prepare(model, site.node, site.scope)}
    if not sites:
        return

    class Assignments(cst.CSTVisitor):
        def __init__(self):
            self.found: list[tuple[cst.BaseExpression, cst.Call]] = []

        def visit_Assign(self, node: cst.Assign) -> None:
            if isinstance(node.value, cst.Call) and node.value in sites and len(node.targets) == 1:
                self.found.append((node.targets[0].target, node.value))

    visitor = Assignments()
    walk(model.module, visitor)
    for target, call in visitor.found:
        site = sites[call]
        elements = target.elements if isinstance(target, (cst.Tuple, cst.List)) else ()
        targets = [e.value for e in elements] if elements else [target]
        passed = [a for a in call.args if a.keyword is None]
        starred = any(isinstance(e, cst.StarredElement) for e in elements) or any(a.star for a in passed)
        if starred or len(passed) != len(targets):
            continue
        for name, arg in zip(targets, passed):
            owner = _target_scope(model, name, site.scope)
            if owner is not None:
                instance = model.instance_of(arg.value, site.scope) if isinstance(arg.value, (cst.Name, cst.Attribute)) else None
                yield Prepared(terminal_name(name), owner, arg.value, instance, call)


def _is_accelerate_prepare(model: SemanticModel, call: cst.Call, scope: Scope) -> bool:
    """`accelerator.prepare(...)` on an `accelerate.Accelerator` (or a receiver its name says is one)."""
    method = call_method(call)
    if method is None or method[1] != "prepare":
        return False
    receiver = method[0]
    for assignment in model.values_of(receiver, scope):
        value = assignment.value
        if isinstance(value, cst.Call) and model.qualname(value.func, assignment.resolution_scope) == "accelerate.Accelerator":
            return True
    return "accelerator" in (terminal_name(receiver) or "").lower()


def _target_scope(model: SemanticModel, target: cst.BaseExpression, scope: Scope) -> Scope | None:
    if isinstance(target, cst.Name):
        return scope
    return model.attribute_owner(target, scope)


def is_accelerate_prepared(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> bool:
    """Whether a name or `self.x` is bound (somewhere in the scope that binds it) by `accelerator.prepare`:
    then its `.step()` is accelerate's, which skips while gradients accumulate."""
    if isinstance(expr, cst.Name):
        owner = model.binding_scope(expr.value, scope)
    else:
        owner = model.attribute_owner(expr, scope)
    name = terminal_name(expr)
    return owner is not None and any(p.scope is owner and p.target == name for p in accelerate_prepared(model))


# -- ignite ----------------------------------------------------------------------------------------------
IGNITE_EVENTS = ("ignite.engine.Events", "ignite.engine.events.Events")
ENGINES = ("ignite.engine.Engine", "ignite.engine.engine.Engine")
SUPERVISED_TRAINERS = ("ignite.engine.create_supervised_trainer",)
# Where each event's handlers run in an epoch: depth 0 once per epoch, 1 once per iteration; the update
# function runs between the iteration's STARTED and COMPLETED handlers.
_BEFORE_UPDATE = (("EPOCH_STARTED", 0), ("ITERATION_STARTED", 1))
_AFTER_UPDATE = (("ITERATION_COMPLETED", 1), ("EPOCH_COMPLETED", 0))


@dataclass(eq=False)
class IgniteRun:
    """One ignite engine with an update function this file defines or ignite provides."""

    engine: cst.BaseExpression
    scope: Scope  # where the engine's name is bound
    events: list[StepEvent]  # what one epoch runs, in order


@dataclass(eq=False)
class _Handler:
    event: str  # "EPOCH_STARTED", ...
    function: cst.FunctionDef | cst.Lambda
    first_time: bool  # it runs on the first epoch (or iteration): no `every=2`, `once=3`, filter


def ignite_runs(model: SemanticModel, settings: dict | None = None) -> list[IgniteRun]:
    settings = settings or {}
    key = ("ignite-runs", *(frozenset(settings.get(name, ())) for name in ("optimizer_step_names", "scheduler_names")))
    return model.memoized(key, lambda: list(_ignite_runs(model, settings)))


def _ignite_runs(model: SemanticModel, settings: dict) -> Iterator[IgniteRun]:
    handlers: dict[tuple[int, str], tuple[cst.BaseExpression, Scope, list[_Handler]]] = {}
    for engine, scope, handler in _registrations(model):
        name = dotted(engine)
        owner = model.binding_scope(name, scope) if isinstance(engine, cst.Name) else None
        if owner is not None:
            handlers.setdefault((id(owner), name), (engine, owner, []))[2].append(handler)
    for engine, owner, registered in handlers.values():
        update = _update_events(model, engine, owner, settings)
        if update is None:
            continue
        events = [*_handler_events(model, registered, _BEFORE_UPDATE, settings), *update,
                  *_handler_events(model, registered, _AFTER_UPDATE, settings)]
        yield IgniteRun(engine, owner, events)


def _handler_events(model: SemanticModel, registered: list[_Handler], order, settings) -> Iterator[StepEvent]:
    for event, depth in order:
        for handler in registered:
            if handler.event == event:
                for step in function_events(model, handler.function, settings):
                    yield replace(step, depth=step.depth + depth,
                                  skipped_on_first_iteration=step.skipped_on_first_iteration or not handler.first_time)


def _registrations(model: SemanticModel) -> Iterator[tuple[cst.BaseExpression, Scope, _Handler]]:
    """`@engine.on(Events.X)` over a function, and `engine.add_event_handler(Events.X, handler, ...)`."""
    for scope in model.scopes:
        for function in scope.functions.values():
            for decorator in function.decorators:
                if isinstance(decorator.decorator, cst.Call):
                    yield from _registration(model, decorator.decorator, "on", scope, function)
    for site in model.calls:
        if (call_method(site.node) or (None, ""))[1] != "add_event_handler":
            continue
        handler = argument(site.node, 1, "handler")
        function = _function(model, handler, site.scope) if handler is not None else None
        if function is not None:
            yield from _registration(model, site.node, "add_event_handler", site.scope, function)


def _registration(model: SemanticModel, call: cst.Call, method_name: str, scope: Scope, function):
    method = call_method(call)
    event = argument(call, 0, "event_name")
    if method is None or method[1] != method_name or event is None:
        return
    resolved = _event(model, event, scope)
    if resolved is not None:
        yield method[0], scope, _Handler(resolved[0], function, resolved[1])


def _event(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> tuple[str, bool] | None:
    """("EPOCH_STARTED", runs the first time) for `Events.EPOCH_STARTED` or `Events.EPOCH_STARTED(every=n)`."""
    filtered = isinstance(expr, cst.Call)
    named = expr.func if filtered else expr
    qualname = model.qualname(named, scope) or ""
    owner, _, event = qualname.rpartition(".")
    if owner not in IGNITE_EVENTS:
        return None
    if not filtered:
        return event, True
    first = [arg for arg in expr.args if arg.keyword is not None and arg.keyword.value in ("every", "once")]
    runs_first = len(first) == len(expr.args) == 1 and number_literal(first[0].value) == 1
    return event, runs_first


def _function(model: SemanticModel, expr: cst.BaseExpression, scope: Scope) -> cst.FunctionDef | cst.Lambda | None:
    """The same-file function or lambda an expression names."""
    if isinstance(expr, cst.Lambda):
        return expr
    if isinstance(expr, cst.Name):
        for candidate in scope.lookup_chain():
            if expr.value in candidate.functions:
                return candidate.functions[expr.value] if len(candidate.assignments.get(expr.value, [])) == 0 else None
            if expr.value in candidate.bound or expr.value in candidate.imports:
                return None
        return None
    owner = model.attribute_owner(expr, scope)
    return owner.functions.get(expr.attr.value) if owner is not None else None


def _update_events(model: SemanticModel, engine: cst.BaseExpression, scope: Scope, settings) -> list[StepEvent] | None:
    """The steps one iteration's update runs (depth 1), when the engine is built by one call this file shows."""
    values = model.values_of(engine, scope)
    if len(values) != 1 or not isinstance(values[0].value, cst.Call):
        return None
    return _engine_update(model, values[0].value, values[0].resolution_scope, settings, seen=set())


def _engine_update(model: SemanticModel, call: cst.Call, scope: Scope, settings, seen: set) -> list[StepEvent] | None:
    qualname = model.qualname(call.func, scope) or ""
    if qualname in ENGINES:
        update = argument(call, 0, "process_function")
        function = _function(model, update, scope) if update is not None else None
        if function is None:
            return None
        return [replace(step, depth=step.depth + 1) for step in function_events(model, function, settings)]
    if qualname in SUPERVISED_TRAINERS:
        optimizer = argument(call, 1, "optimizer")
        if optimizer is None:
            return None
        instance = model.instance_of(optimizer, scope) if isinstance(optimizer, (cst.Name, cst.Attribute)) else None
        return [StepEvent(OPTIMIZER, call, optimizer, instance if instance and instance.kind == OPTIMIZER else None,
                          1, False, None, None)]
    factory = model.function_called(call, scope)
    if factory is None or factory in seen:
        return None
    seen.add(factory)
    returned = _returned_values(factory)
    factory_scope = model.scope_of_function[factory]
    built = [_engine_update(model, r, factory_scope, settings, seen) if isinstance(r, cst.Call) else None for r in returned]
    if len(built) != 1 or built[0] is None:
        return None  # several returns (or none): which engine comes back is not certain
    return built[0]
