"""Values that reach a name from elsewhere in the file: parameters, returns, containers.

`SemanticModel.values_of` asks `Values` what a name holds beyond its own assignments:
- a function's parameter holds what every call site of the file passes for it, when they all pass
  the same optimizer or scheduler (a function that escapes, is decorated, or is never called here
  gets no binding: some caller we cannot see may pass anything);
- `opt = build(...)` holds what the same-file function `build` returns (`return AdamW(...)`,
  `return opt, sched` unpacked at the caller, `return {"optimizer": opt}` read with a constant key);
- list, tuple and dict literals (and `.append`) of optimizers hold their elements: `opts[0]`,
  `self.optimizers["g"]`, `for opt in opts:`.

Only optimizer and scheduler instances travel this way, and only when every path agrees: anything
unknown on the way gives no binding. Every summary (a function's returns, a parameter's binding, a
name's values) is computed once per file and memoized; a question met again while it is being
answered (recursion, a cycle of helpers) answers "unknown", so cost stays linear in the file.
"""

from __future__ import annotations

import libcst as cst

from optlint.static.semantic.expressions import call_method, dotted, is_none
from optlint.static.semantic.scopes import EACH, Assignment, CallSite, Scope, parameter_names

Entry = tuple[object, cst.BaseExpression, Scope]  # (key: index, string or None when unknown, value, its scope)
_MUTATORS = frozenset({"extend", "insert", "update", "setdefault", "pop", "remove", "clear", "popitem", "__setitem__"})
_UNKNOWN = object()  # marks a question being answered: met again, it answers "unknown"
_MAX_DEPTH = 40  # questions nested deeper than this (helpers returning helpers' results...) answer "unknown"


class Values:
    """The answers for one `SemanticModel` (which owns it: the model imports this module, not the reverse)."""

    def __init__(self, model):
        self.model = model
        self._memo: dict = {}
        self._depth = 0  # questions being answered, one inside the other

    def _once(self, key, compute):
        found = self._memo.get(key)
        if found is _UNKNOWN:
            return None
        if key not in self._memo:
            if self._depth >= _MAX_DEPTH:
                return None  # a chain this long is answered "unknown", not by exhausting the stack
            self._memo[key] = _UNKNOWN
            self._depth += 1
            try:
                self._memo[key] = compute()
            finally:
                self._depth -= 1
        return self._memo[key]

    # -- what a name holds ------------------------------------------------------------------------
    def name_values(self, binding: Scope, name: str) -> list[Assignment]:
        """A name's own assignments, each replaced by the instances it provably holds when it holds
        one through a call, an alias or a container; plus the elements it was unpacked from and, for
        a parameter, what every call site passes."""
        return self._once(("name", binding, name), lambda: self._name_values(binding, name)) or []

    def _name_values(self, binding: Scope, name: str) -> list[Assignment]:
        found: list[Assignment] = []
        for assignment in binding.assignments.get(name, []):
            found += self._expanded(assignment)
        for assignment in binding.unpacked.get(name, []):
            found += self.element_instances(assignment) or []
        if not found and binding.kind == "function" and isinstance(binding.node, cst.FunctionDef):
            found = self.parameter_binding(binding, name) or []
        return found

    def attribute_values(self, owner: Scope, name: str) -> list[Assignment]:
        return self._once(("attribute", owner, name),
                          lambda: [v for a in owner.attributes.get(name, []) for v in self._expanded(a)]) or []

    def _expanded(self, assignment: Assignment) -> list[Assignment]:
        if self.model.instance_at(assignment) is not None or not _forwards(assignment.value):
            return [assignment]
        return self.instances(assignment.value, assignment.resolution_scope) or [assignment]

    # -- what an expression evaluates to -------------------------------------------------------------
    def instances(self, expr: cst.BaseExpression, scope: Scope) -> list[Assignment] | None:
        """The assignments of the optimizers and schedulers `expr` may be (None: not only those, or unknown)."""
        if isinstance(expr, cst.Call):
            return self._call_instances(expr, scope)
        if isinstance(expr, cst.Subscript):
            entries = self._lookup(expr, scope)
            return self._all_instances(entries) if entries is not None else None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            values = [a for a in self.model.values_of(expr, scope) if not is_none(a.value)]
            if values and all(self.model.instance_at(a) is not None for a in values):
                return values
        return None

    def _call_instances(self, call: cst.Call, scope: Scope) -> list[Assignment] | None:
        built = self.model.built_instance(call, scope)
        if built is not None:
            return [built.assignment]
        function = self.model.function_called(call, scope)
        return self.returned_instances(function) if function is not None else None

    def returned_instances(self, function: cst.FunctionDef) -> list[Assignment] | None:
        """The optimizers and schedulers a same-file function returns, when it returns nothing else."""
        def compute():
            returned = self.returned(function)
            return self._all_instances([(None, value, s) for value, s in returned]) if returned else None
        return self._once(("returns", function), compute)

    def _all_instances(self, entries: list[Entry]) -> list[Assignment] | None:
        found: list[Assignment] = []
        for _, value, scope in entries:
            if is_none(value):
                continue
            held = self.instances(value, scope)
            if held is None:
                return None
            found += held
        return found or None

    def returned(self, function: cst.FunctionDef) -> list[tuple[cst.BaseExpression, Scope]] | None:
        """The expressions a same-file function returns, in its scope (None: a generator, or decorated)."""
        scope = self.model.scope_of_function.get(function)
        if scope is None or scope.is_generator or function.decorators or not scope.returns:
            return None
        return [(r.value, scope) for r in scope.returns if r.value is not None]

    # -- containers ------------------------------------------------------------------------------
    def element_instances(self, assignment: Assignment) -> list[Assignment] | None:
        """What `a, b = value` binds to element i, or `for x in value` to each element."""
        entries = self.entries(assignment.value, assignment.resolution_scope)
        if entries is None:
            return None
        if assignment.element != EACH:
            if any(key is None for key, _, _ in entries):
                return None  # appended: positions unknown
            entries = [e for e in entries if e[0] == assignment.element]
        return self._all_instances(entries) if entries else None

    def entries(self, expr: cst.BaseExpression, scope: Scope) -> list[Entry] | None:
        """The elements of a list, tuple or dict `expr` is, with their keys (None when it may hold others)."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            if any(isinstance(e, cst.StarredElement) for e in expr.elements):
                return None
            return [(index, e.value, scope) for index, e in enumerate(expr.elements)]
        if isinstance(expr, cst.Dict):
            keys = [_constant_key(e.key) if isinstance(e, cst.DictElement) else None for e in expr.elements]
            if None in keys:
                return None
            return [(key, e.value, scope) for key, e in zip(keys, expr.elements)]
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "values" \
                and not expr.args:
            found = self.entries(expr.func.value, scope)
            return [(None, value, s) for _, value, s in found] if found is not None else None
        if isinstance(expr, cst.Call):
            function = self.model.function_called(expr, scope)
            return self._once(("returned-entries", function), lambda: self._returned_entries(function)) if function else None
        if isinstance(expr, (cst.Name, cst.Attribute)):
            return self._once(("entries", self._holder(expr, scope)), lambda: self._held_entries(expr, scope))
        return None

    def _returned_entries(self, function: cst.FunctionDef) -> list[Entry] | None:
        """The elements of the one container a function returns (`return opt, sched`)."""
        returned = self.returned(function)
        return self.entries(*returned[0]) if returned and len(returned) == 1 else None

    def _holder(self, expr, scope):
        """What identifies the variable `expr` names: its binding scope (or class) and its name."""
        if isinstance(expr, cst.Name):
            return self.model.binding_scope(expr.value, scope), expr.value
        owner = self.model.attribute_owner(expr, scope)
        return (owner, f"self.{expr.attr.value}") if owner is not None else (None, id(expr))

    def _held_entries(self, expr, scope) -> list[Entry] | None:
        binding, label = self._holder(expr, scope)
        if binding is None:
            return None
        if isinstance(expr, cst.Name):
            assignments = binding.assignments.get(expr.value, [])
            if binding.unpacked.get(expr.value) or (binding.kind == "function" and not assignments):
                return None  # a parameter or a loop variable: the container is elsewhere
        else:
            assignments = binding.attributes.get(expr.attr.value, [])
        if len(assignments) != 1:
            return None
        found = self.entries(assignments[0].value, assignments[0].resolution_scope)
        if found is None:
            return None
        added = self._appended(binding, label)
        return found + added if added is not None else None

    def _appended(self, binding: Scope, label: str) -> list[Entry] | None:
        """`x.append(v)` on the container: more elements at unknown positions (None: changed otherwise)."""
        found: list[Entry] = []
        for site in self.model.memoized("container-changes", lambda: _container_changes(self.model)).get(label, []):
            if self._holder(call_method(site.node)[0], site.scope)[0] is not binding:
                continue
            method = call_method(site.node)[1]
            if method != "append" or len(site.node.args) != 1:
                return None
            found.append((None, site.node.args[0].value, site.scope))
        if any(isinstance(store, cst.Subscript) and dotted(store.value) == label for store in self.model.attribute_stores):
            return None  # `x[k] = v`
        return found

    def _lookup(self, expr: cst.Subscript, scope: Scope) -> list[Entry] | None:
        """`x[0]`, `x["g"]`: the entries with that constant key."""
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return None
        key = _constant_key(expr.slice[0].slice.value)
        entries = self.entries(expr.value, scope) if key is not None else None
        if entries is None or any(k is None for k, _, _ in entries):
            return None
        return [e for e in entries if e[0] == key] or None

    # -- parameters ------------------------------------------------------------------------------
    def parameter_binding(self, function_scope: Scope, name: str) -> list[Assignment] | None:
        """The one optimizer or scheduler every call site passes for a parameter."""
        per_site = self.parameter_instances(function_scope, name)
        if not per_site or any(len(held) != 1 for held in per_site):
            return None
        if len({id(held[0]) for held in per_site}) != 1:
            return None
        return per_site[0]

    def parameter_instances(self, function_scope: Scope, name: str) -> list[list[Assignment]] | None:
        """For each call site of the function, the instances it passes for parameter `name`; None
        when the function may be called from where we cannot see or a site passes something else."""
        return self._once(("parameter", function_scope, name), lambda: self._parameter_instances(function_scope, name))

    def _parameter_instances(self, function_scope: Scope, name: str) -> list[list[Assignment]] | None:
        function = function_scope.node
        if function.decorators or function_scope.assignments.get(name) or function_scope.unpacked.get(name):
            return None
        sites = self.model.call_sites_of(function)
        if not sites or name not in parameter_names(function):
            return None
        if self.model.name_counts.get(function.name.value, 0) != len(sites) + 1:
            return None  # referenced other than by the calls we see: a callback, another def, `obj.name`
        found = []
        for site in sites:
            given = argument_for(function, site.node, name)
            if given is None:
                return None
            value, is_default = given
            if self._passes_itself_on(value, site.scope, function_scope, name):
                continue  # `def walk(opt): ... walk(opt)`: the recursion adds no other value
            held = self.instances(value, function_scope.parent if is_default else site.scope)
            if held is None:
                return None
            found.append(held)
        return found or None

    def _passes_itself_on(self, value, scope: Scope, function_scope: Scope, name: str) -> bool:
        return isinstance(value, cst.Name) and value.value == name and self.model.binding_scope(name, scope) is function_scope


def argument_for(function: cst.FunctionDef, call: cst.Call, name: str) -> tuple[cst.BaseExpression, bool] | None:
    """What a call passes for parameter `name`, and whether it is the default (which resolves where the
    def stands); None when unknown (`*args` given, or neither given nor defaulted)."""
    params = function.params
    positional = [p.name.value for p in (*params.posonly_params, *params.params)]
    if isinstance(call.func, cst.Attribute) and positional[:1] == ["self"]:
        positional = positional[1:]
    if any(arg.star for arg in call.args):
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value, False
    given = [arg.value for arg in call.args if arg.keyword is None]
    if name in positional and positional.index(name) < len(given):
        return given[positional.index(name)], False
    param = next((p for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.name.value == name), None)
    if param is None or param.default is None:
        return None
    return param.default, True


def _forwards(value: cst.BaseExpression) -> bool:
    """Values that may stand for an instance made elsewhere: a call, an alias, an element."""
    return isinstance(value, (cst.Call, cst.Name, cst.Attribute, cst.Subscript))


def _constant_key(expr: cst.BaseExpression | None) -> int | str | None:
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value)
    if isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        return expr.evaluated_value
    return None


def _container_changes(model) -> dict[str, list[CallSite]]:
    """Calls that add to or change a container, by the receiver as written (`opts`, `self.opts`)."""
    found: dict[str, list[CallSite]] = {}
    for site in model.calls:
        method = call_method(site.node)
        if method is not None and (method[1] == "append" or method[1] in _MUTATORS):
            label = dotted(method[0])
            if label is not None:
                found.setdefault(label, []).append(site)
    return found
