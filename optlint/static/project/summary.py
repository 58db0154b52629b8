"""One module's summary: what the rules of an importing file need to know about it, as plain JSON.

    {"functions": {name: {"positional": [...], "keyword": [...], "steps": [step, ...], "returns": value,
                          "restores": [[parameter, line], ...], "saves": [...]}},  # where not empty (outline.py)
     "classes": {name: {"positional": [...], "keyword": [...], "methods": {name: {"positional", "keyword", "steps"}},
                        "scheduler": [torch class, [method, ...]]}},  # "scheduler": only for a subclass of one
     "objects": {name: value}}

A value is [kind, class or None, bound], `bound` being the parameter a returned scheduler's optimizer
came in by (None when unknown). A step is [target, kind, line, depth, guarded, has_arguments]:
`target` is the parameter stepped, or `init:<param>` for a method stepping what the constructor
stored from that parameter (`self.optim = optimizer`). The steps are loops.py's helper summaries,
kept when they step a parameter; a summary is made from its module alone, never from the modules
that module imports, so import cycles cost nothing and a summary depends on one file's text.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from optlint.static.semantic.model import SCHEDULER, SemanticModel
from optlint.static.semantic.scopes import Scope
from optlint.static.walk import returns_in

KINDS = ("optimizer", "scheduler")


def summarise(model: SemanticModel, settings: dict) -> dict:
    from optlint.static.semantic.loops import helper_steps

    module_scope = model.module_scope
    pending: list[tuple[list, cst.Call]] = []  # steps whose line is filled in once positions are known

    def steps_of(function: cst.FunctionDef, parameters: dict, owner: dict[str, str]) -> list:
        found = []
        for event in helper_steps(model, function, settings):
            target = _target(event.receiver, parameters, owner)
            if target is not None:
                step = [target, event.kind, 0, event.depth, event.skipped_on_first_iteration, bool(event.call.args)]
                found.append(step)
                pending.append((step, event.call))
        return found

    functions = {}
    for name, node in module_scope.functions.items():
        parameters = _parameters(node)
        functions[name] = {**parameters, "steps": steps_of(node, parameters, {}), "returns": _returns(model, node)}
    classes = {}
    for name, (node, scope) in model.classes.items():
        class_scope = model.scopes_by_node.get(node)
        if scope is not module_scope or class_scope is None:
            continue
        init = class_scope.functions.get("__init__")
        owner = _stored_parameters(class_scope, init) if init is not None else {}
        methods = {}
        for method, function in class_scope.functions.items():
            parameters = _parameters(function, skip_self=True)
            methods[method] = {**parameters, "steps": steps_of(function, parameters, owner)}
        classes[name] = {**(_parameters(init, skip_self=True) if init else {"positional": [], "keyword": []}),
                         "methods": {m: v for m, v in methods.items() if v["steps"] and m != "__init__"}}
        subclass = model.scheduler_subclass(cst.Name(name), module_scope)
        if subclass is not None:  # the methods its classes define: torch's run for the others
            classes[name]["scheduler"] = [subclass.torch_class, sorted(subclass.defines)]
    objects = {name: _value(model.instance_of(cst.Name(name), module_scope), None)
               for name in module_scope.assignments}
    if pending:
        positions = MetadataWrapper(model.module, unsafe_skip_copy=True).resolve(PositionProvider)
        for step, call in pending:
            step[2] = positions[call].start.line
    return {"functions": functions, "classes": classes,
            "objects": {name: value for name, value in objects.items() if value is not None}}


def _parameters(function: cst.FunctionDef, skip_self: bool = False) -> dict:
    """The names a call may give by position, and by keyword (a method's `self` in neither)."""
    params = function.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    keyword = [p.name.value for p in (*params.params, *params.kwonly_params)]
    if skip_self and positional:
        first = positional.pop(0)
        keyword = [k for k in keyword if k != first]
    return {"positional": positional, "keyword": keyword}


def _target(receiver: cst.BaseExpression, parameters: dict, owner: dict[str, str]) -> str | None:
    """The parameter (or the constructor's parameter, `init:x`) a step's receiver is."""
    if isinstance(receiver, cst.Name) and receiver.value in {*parameters["positional"], *parameters["keyword"]}:
        return receiver.value
    if (isinstance(receiver, cst.Attribute) and isinstance(receiver.value, cst.Name)
            and receiver.value.value == "self" and receiver.attr.value in owner):
        return f"init:{owner[receiver.attr.value]}"
    return None


def _stored_parameters(class_scope: Scope, init: cst.FunctionDef) -> dict[str, str]:
    """`self.x = param` in the constructor, the only assignment of `self.x`: attribute -> parameter."""
    names = set(_parameters(init, skip_self=True)["keyword"])
    stored = {}
    for attribute, assignments in class_scope.attributes.items():
        if len(assignments) != 1:
            continue
        value = assignments[0].value
        if isinstance(value, cst.Name) and value.value in names and assignments[0].resolution_scope.node is init:
            stored[attribute] = value.value
    return stored


def _returns(model: SemanticModel, function: cst.FunctionDef) -> list | None:
    """What every `return` of the function gives, when all agree on one optimizer or scheduler."""
    scope = model.scope_of_function.get(function)
    if scope is None:
        return None
    values = [_returned(model, node.value, scope, function) for node in returns_in(function)]
    if not values or any(v is None for v in values) or any(v != values[0] for v in values):
        return None
    return values[0]


def _returned(model: SemanticModel, expr, scope: Scope, function: cst.FunctionDef) -> list | None:
    if expr is None:
        return None
    if isinstance(expr, cst.Call):
        resolved = model.torch_class(expr.func, scope)
        if resolved is None:
            return None
        kind, cls = resolved
        bound = model.scheduler_optimizer(expr, scope) if kind == SCHEDULER else None
        first = _first_argument_parameter(expr, function) if kind == SCHEDULER else None
        return [kind, cls, first if bound is None else None]
    instance = model.instance_of(expr, scope)
    return _value(instance, function)


def _first_argument_parameter(call: cst.Call, function: cst.FunctionDef) -> str | None:
    from optlint.static.semantic.expressions import argument

    expr = argument(call, 0, "optimizer")
    if isinstance(expr, cst.Name) and expr.value in _parameters(function)["keyword"]:  # `def f(opt)`: by name too
        return expr.value
    return None


def _value(instance, function) -> list | None:
    if instance is None:
        return None
    bound = None
    if instance.kind == SCHEDULER and function is not None:
        bound = _first_argument_parameter(instance.call, function)
    return [instance.kind, instance.cls, bound]


def is_summary(data) -> bool:
    """A summary read back from the cache has the shape `summarise` gives (else it is recomputed)."""
    if not (isinstance(data, dict) and all(isinstance(data.get(k), dict) for k in ("functions", "classes", "objects"))):
        return False
    try:
        for entry in data["functions"].values():
            _check_callable(entry)
            if entry["returns"] is not None:
                _check_value(entry["returns"])
            for parameter, line in (*entry.get("restores", ()), *entry.get("saves", ())):
                if not (isinstance(parameter, str) and type(line) is int):
                    raise ValueError("state parameter")
        for entry in data["classes"].values():
            _check_callable({**entry, "steps": []})
            for method in entry["methods"].values():
                _check_callable(method)
            if "scheduler" in entry:
                _check_subclass(entry["scheduler"])
        for value in data["objects"].values():
            _check_value(value)
    except (TypeError, KeyError, ValueError, AttributeError):
        return False
    return True


def _check_callable(entry: dict) -> None:
    if not all(isinstance(n, str) for n in (*entry["positional"], *entry["keyword"])):
        raise ValueError("parameter")
    _check_steps(entry["steps"])


def _check_steps(steps: list) -> None:
    for target, kind, line, depth, guarded, has_arguments in steps:
        if not (isinstance(target, str) and kind in KINDS and type(line) is int and type(depth) is int
                and isinstance(guarded, bool) and isinstance(has_arguments, bool)):
            raise ValueError("step")


def _check_value(value: list) -> None:
    kind, cls, bound = value
    if kind not in KINDS or not (cls is None or isinstance(cls, str)) or not (bound is None or isinstance(bound, str)):
        raise ValueError("value")


def _check_subclass(subclass: list) -> None:
    torch_class, defines = subclass
    if not (isinstance(torch_class, str) and isinstance(defines, list) and all(isinstance(m, str) for m in defines)):
        raise ValueError("scheduler subclass")
