"""Which uses of a one-shot iterator find it exhausted: `params = model.parameters()` read twice.

`exhausted_uses(model)` follows every name bound to `m.parameters()`, `m.named_parameters()` or an
iterator built on them (`filter`, `map`, a generator expression, `itertools.chain`) along the paths
of its scope (`flow.FlowWalker`), and answers each use by an optimizer or a param group that comes
after a use which ran through it, directly or through a list that the exhausted iterator left
empty (`no_decay = [p for n, p in named if ...]`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import libcst as cst

from optlint.static.semantic.expressions import call_method
from optlint.static.semantic.flow import FlowWalker, Paths, State
from optlint.static.semantic.groups import as_group, parameters_call, sources
from optlint.static.semantic.model import OPTIMIZER, SemanticModel
from optlint.static.semantic.scopes import Scope
from optlint.static.walk import calls_in

OPTIMIZER_USE, GROUP_USE, OTHER_USE = "optimizer", "group", "other"

# Builtins that run through an iterable they are given (or wrap it in an iterator that will).
_CONSUMERS = {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict",
              "enumerate", "zip", "map", "filter"}
_ONE_SHOT_BUILTINS = {"filter", "map"}
# Builtins that read a list they are given without adding to it.
_READERS = _CONSUMERS | {"len", "print", "iter", "isinstance", "repr", "str"}
_SHORT_CIRCUITS = {"any", "all", "next"}


@dataclass(frozen=True)
class _Iterator:
    source: cst.BaseExpression  # `model.parameters()`
    used_by: cst.CSTNode | None = None  # the first use, which exhausted it
    lazily: bool = False  # that use only wrapped it in another iterator bound to a name: nothing read yet


@dataclass(frozen=True)
class _Empty:
    """A name holding what an exhausted iterator gave: `no_decay = [p for n, p in named if ...]`."""

    holder: str  # `no_decay`
    value: cst.BaseExpression  # the value bound to it
    read: cst.Name | None = None  # the read of the exhausted iterator; None: a fresh `[]`, not our doing
    iterator: _Iterator | None = None
    by_loop: bool = False  # filled by a `for` loop over the exhausted iterator, which never runs


@dataclass(frozen=True)
class _Carrier:
    """`holder = value`, where value draws only from one read of a name (`[p for n, p in named]`)."""

    holder: str
    value: cst.BaseExpression


@dataclass(frozen=True)
class ExhaustedUse:
    """An optimizer or a param group fed by an iterator that an earlier use ran through."""

    read: cst.Name  # the read of the exhausted iterator (for `holder`: the read that left it empty)
    source: cst.BaseExpression  # what the iterator was built from: `model.parameters()`
    kind: str  # OPTIMIZER_USE or GROUP_USE
    in_loop: bool  # the one earlier use is this read itself, in an earlier iteration of a loop
    holder: str | None = None  # the use reads this list, left empty by `read`
    by_loop: bool = False  # `holder` is filled by a `for` loop over the exhausted iterator, which never runs


def exhausted_uses(model: SemanticModel) -> list[ExhaustedUse]:
    return model.memoized("exhausted-uses", lambda: _exhausted_uses(model))


def _exhausted_uses(model: SemanticModel) -> list[ExhaustedUse]:
    found: list[ExhaustedUse] = []
    for scope in model.scopes:
        statements = _statements(scope)
        names = _iterator_names(model, scope)
        if statements and names:
            _Uses(model, scope, names, found).block(statements, {})
    return found


def _statements(scope: Scope) -> Sequence[cst.CSTNode]:
    if isinstance(scope.node, cst.Module):
        return scope.node.body
    if isinstance(scope.node, cst.FunctionDef):
        return scope.node.body.body
    return ()


def _iterator_names(model: SemanticModel, scope: Scope) -> set[str]:
    return {
        name
        for name, assignments in scope.assignments.items()
        if any(_is_one_shot(model, a.value, scope) for a in assignments)
    }


def _is_one_shot(model: SemanticModel, value: cst.BaseExpression, scope: Scope) -> bool:
    """`m.parameters()`, `m.named_parameters()`, and the iterators built on them: exhausted once read."""
    if parameters_call(value) is not None or isinstance(value, cst.GeneratorExp):
        return True
    if not isinstance(value, cst.Call):
        return False
    if model.builtin_name(value.func, scope) in _ONE_SHOT_BUILTINS:
        return True
    return model.qualname(value.func, scope) in ("itertools.chain", "itertools.chain.from_iterable")


def _carriers(model: SemanticModel, scope: Scope) -> dict[int, _Carrier]:
    """Reads (by node id) whose whole result a name holds: `holder = [p for n, p in read if ...]`,
    `holder = list(filter(f, read))`. A read that an empty iterator leaves empty leaves the holder empty."""
    found = {}
    for holder, assignments in scope.assignments.items():
        for a in assignments:
            if isinstance(a.value, cst.Name) or getattr(a.statement, "value", None) is not a.value:
                continue
            drawn = sources(model, a.value, scope, filters=True)
            if len(drawn) == 1 and isinstance(drawn[0], cst.Name) and drawn[0] is not a.value:
                found[id(drawn[0])] = _Carrier(holder, a.value)
    return found


def _short_circuited_reads(model: SemanticModel, scope: Scope) -> set[int]:
    """Reads by `any(...)`, `all(...)`, `next(...)`, which may stop before the end."""
    found = set()
    for site in model.calls:
        if site.scope is scope and model.builtin_name(site.node.func, scope) in _SHORT_CIRCUITS:
            for arg in site.node.args:
                found.add(id(arg.value.for_in.iter if isinstance(arg.value, cst.GeneratorExp) else arg.value))
    return found


def _fresh_lists(scope: Scope) -> set[str]:
    """Names bound to `[]` somewhere in the scope: a loop may be all that fills them."""
    return {
        name
        for name, assignments in scope.assignments.items()
        if any(isinstance(a.value, cst.List) and not a.value.elements for a in assignments)
    }


class _Uses(FlowWalker):
    """Follows each tracked name along the paths of one scope; reports a use after exhaustion."""

    def __init__(self, model: SemanticModel, scope: Scope, names: set[str], found: list[ExhaustedUse]):
        super().__init__()
        self.model, self.scope, self.names, self.found = model, scope, names, found
        self.carriers = _carriers(self.model, scope)
        self.holders = {c.holder for c in self.carriers.values()} | _fresh_lists(scope)
        self.short_circuited = _short_circuited_reads(self.model, scope)
        self.shared: set[int] = set()  # reads that are one of several iterables a group draws from

    def merge(self, states: Sequence[State]) -> State:
        """Exhausted where the paths meet only when exhausted on every one of them: a use after
        `if verbose: print(sum(...))` is not reported (the condition may be false). A name is known
        empty there only when every path left it empty by the same read."""
        merged: State = {}
        for name in set(states[0]).intersection(*states[1:]):
            values = [s[name] for s in states]
            if any(isinstance(v, _Empty) for v in values):
                if all(isinstance(v, _Empty) and v.read is values[0].read for v in values):
                    merged[name] = values[0]
                continue
            used = [v for v in values if v.used_by is not None]
            merged[name] = used[0] if len(used) == len(values) else next(v for v in values if v.used_by is None)
        return merged

    def bind(self, target, value, state: State) -> State:
        if isinstance(target, (cst.Tuple, cst.List)):
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else ()
            pairs = zip(target.elements, values) if len(values) == len(target.elements) else ()
            for element, item in pairs or ((e, None) for e in target.elements):
                state = self.bind(element.value, item.value if item is not None else None, state)
        elif isinstance(target, cst.Subscript):
            state = self._release(target.value, state)
        elif isinstance(target, cst.Name) and target.value in self.names | self.holders:
            state = self._bind_name(target.value, value, state)
        if isinstance(value, cst.Name):
            state = self._release(value, state)  # an alias may fill it
        return state

    def _bind_name(self, name: str, value: cst.BaseExpression | None, state: State) -> State:
        held = state.get(name)
        if isinstance(held, _Empty) and held.value is value and value is not None:
            return state  # the read inside the value just left it empty
        if value is not None and _is_one_shot(self.model, value, self.scope) and name in self.names:
            state[name] = _Iterator(value)
        elif isinstance(value, cst.List) and not value.elements:
            state[name] = _Empty(name, value)
        else:
            state.pop(name, None)
        return state

    def _release(self, expr: cst.BaseExpression, state: State) -> State:
        """A list that something may have filled is no longer known to be empty."""
        if isinstance(expr, cst.Name) and isinstance(state.get(expr.value), _Empty):
            del state[expr.value]
        return state

    def expression(self, node: cst.CSTNode, state: State) -> State:
        return self._visit(node, state, set())

    def _visit(self, node: cst.CSTNode, state: State, claimed: set) -> State:
        if isinstance(node, (cst.Lambda, cst.FunctionDef, cst.ClassDef)) or self._shadows(node):
            return state
        if isinstance(node, cst.IfExp):
            state = self._visit(node.test, state, claimed)
            branches = [self._visit(branch, dict(state), claimed) for branch in (node.body, node.orelse)]
            return self.merge(branches)
        if isinstance(node, cst.BooleanOperation):
            state = self._visit(node.left, state, claimed)
            return self.merge([state, self._visit(node.right, dict(state), claimed)])
        for name, kind in self._uses(node):
            if id(name) not in claimed:
                claimed.add(id(name))
                state = self._use(name, kind, state)
        for child in node.children:
            state = self._visit(child, state, claimed)
        if isinstance(node, cst.Call):
            state = self._release_by_call(node, state)
        return state

    def _release_by_call(self, call: cst.Call, state: State) -> State:
        """`no_decay.append(p)` fills it; so may `add_norms(no_decay)`. Builtins and torch only read."""
        method = call_method(call)
        if method is not None:
            state = self._release(method[0], state)
        if self.model.builtin_name(call.func, self.scope) in _READERS:
            return state
        if (self.model.qualname(call.func, self.scope) or "").startswith(("torch.", "itertools.")):
            return state
        for arg in call.args:
            state = self._release(arg.value, state)
        return state

    def _shadows(self, node: cst.CSTNode) -> bool:
        """A comprehension whose own variable reuses a tracked name: its uses are not ours."""
        if not isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            return False
        loop, targets = node.for_in, set()
        while loop is not None:
            targets |= {n.value for n in _names(loop.target)}
            loop = loop.inner_for_in
        return bool(targets & (self.names | self.holders))

    def _uses(self, node: cst.CSTNode) -> list[tuple[cst.Name, str]]:
        """The tracked names this node reads through, and how."""
        group = as_group(self.model, node, self.scope) if isinstance(node, (cst.Dict, cst.Call)) else None
        if group is not None and group.params is not None:
            return self._fed(sources(self.model, group.params, self.scope, filters=True), GROUP_USE)
        if isinstance(node, cst.Call):
            return self._call_uses(node)
        if isinstance(node, cst.StarredElement):
            return self._tracked([node.value], OTHER_USE)
        if isinstance(node, cst.CompFor):
            return self._tracked([node.iter], OTHER_USE)
        return []

    def _call_uses(self, call: cst.Call) -> list[tuple[cst.Name, str]]:
        resolved = self.model.torch_class(call.func, self.scope)
        if resolved is not None and resolved[0] == OPTIMIZER:
            params = self.model.torch_argument(call, OPTIMIZER, resolved[1], "params")
            return self._fed(sources(self.model, params, self.scope, filters=True), OPTIMIZER_USE) if params else []
        starred = self._tracked([a.value for a in call.args if a.star], OTHER_USE)
        if self.model.builtin_name(call.func, self.scope) in _CONSUMERS:
            return starred + self._tracked([a.value for a in call.args if a.keyword is None], OTHER_USE)
        qualname = self.model.qualname(call.func, self.scope) or ""
        if qualname.startswith(("torch.", "itertools.")):
            return starred + self._tracked([a.value for a in call.args], OTHER_USE)
        return starred

    def _fed(self, drawn: list[cst.BaseExpression], kind: str) -> list[tuple[cst.Name, str]]:
        """What an optimizer or group draws from: a holder known empty empties it only when alone."""
        tracked = self._tracked(drawn, kind)
        if len(drawn) > 1:
            self.shared |= {id(name) for name, _ in tracked}
        return tracked

    def _tracked(self, exprs: list[cst.BaseExpression], kind: str) -> list[tuple[cst.Name, str]]:
        tracked = self.names | self.holders
        return [(e, kind) for e in exprs if isinstance(e, cst.Name) and e.value in tracked]

    def _use(self, name: cst.Name, kind: str, state: State) -> State:
        held = state.get(name.value)
        if isinstance(held, _Empty):
            return self._use_empty(name, held, kind, state)
        if held is None or id(name) in self.short_circuited:
            return state  # any()/all()/next() may stop early: not known to exhaust it
        carrier = self.carriers.get(id(name))
        if held.used_by is None:
            lazily = carrier is not None and _is_one_shot(self.model, carrier.value, self.scope)
            state[name.value] = replace(held, used_by=name, lazily=lazily)
        elif kind != OTHER_USE:
            self._exhausted(name, held, kind)
        elif carrier is not None and not held.lazily:
            state[carrier.holder] = _Empty(carrier.holder, carrier.value, name, held)
        return state

    def _use_empty(self, name: cst.Name, held: _Empty, kind: str, state: State) -> State:
        if held.read is None:
            return state
        if kind != OTHER_USE and id(name) not in self.shared:
            self._emptied(held, kind)
        carrier = self.carriers.get(id(name))
        if kind == OTHER_USE and carrier is not None:
            state[carrier.holder] = replace(held, holder=carrier.holder, value=carrier.value)
        return state

    def iterate(self, iterable: cst.BaseExpression, state: State) -> State:
        state = self.expression(iterable, state)
        for name, kind in self._tracked([iterable], OTHER_USE):
            state = self._use(name, kind, state)
        return state

    def _For(self, node: cst.For, state: State) -> Paths:
        """A loop over an exhausted iterator never runs its body: the lists it fills stay empty."""
        held = state.get(node.iter.value) if isinstance(node.iter, cst.Name) else None
        if not isinstance(held, _Iterator) or held.used_by is None or held.lazily:
            return super()._For(node, state)
        state = self.iterate(node.iter, state)
        for holder in {m[0].value for c in calls_in(node.body) if (m := call_method(c)) and isinstance(m[0], cst.Name)}:
            fresh = state.get(holder)
            if isinstance(fresh, _Empty) and fresh.read is None:
                state[holder] = replace(fresh, read=node.iter, iterator=held, by_loop=True)
        return self.body(node.orelse.body, state) if node.orelse is not None else Paths(state)

    def _exhausted(self, name: cst.Name, iterator: _Iterator, kind: str) -> None:
        self.found.append(ExhaustedUse(name, iterator.source, kind, in_loop=iterator.used_by is name))

    def _emptied(self, held: _Empty, kind: str) -> None:
        in_loop = held.iterator.used_by is held.read
        self.found.append(ExhaustedUse(held.read, held.iterator.source, kind, in_loop, held.holder, held.by_loop))


def _names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names(e.value)]
    return []
