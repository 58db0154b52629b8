from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.flow import FlowWalker, Paths, State
from optlint.static.groups import as_group
from optlint.static.model import OPTIMIZER, Scope, SemanticModel, argument, call_method
from optlint.static.params import builtin_name, parameters_call, sources
from optlint.static.rule import Rule
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


class ReusedParameterGenerator(Rule):
    """A variable holding `model.parameters()` (a generator) used twice: the first use exhausts it,
    so the second optimizer or group gets no parameters."""

    code = "OPT009"

    VALID = (
        # Materialised once, used twice.
        Valid("""
            import torch
            params = list(model.parameters())
            print(sum(p.numel() for p in params))
            opt = torch.optim.SGD(params, lr=0.1)
        """),
        # Mutually exclusive branches: one use on each path.
        Valid("""
            import torch
            params = model.parameters()
            if cfg.sgd:
                opt = torch.optim.SGD(params, lr=0.1)
            else:
                opt = torch.optim.Adam(params, lr=1e-3)
        """),
        Valid("""
            import torch
            def build(model, name):
                params = model.parameters()
                if name == 'sgd':
                    return torch.optim.SGD(params, lr=0.1)
                return torch.optim.Adam(params)
        """),
        Valid("""
            import torch
            params = model.parameters()
            opt = torch.optim.SGD(params, lr=0.1) if cfg.sgd else torch.optim.Adam(params)
        """),
        # A rebinding in between gives a fresh generator.
        Valid("""
            import torch
            params = model.parameters()
            n = sum(p.numel() for p in params)
            params = model.parameters()
            opt = torch.optim.SGD(params, lr=0.1)
        """),
        # Bound inside the loop: fresh each iteration.
        Valid("""
            import torch
            for fold in range(5):
                params = model.parameters()
                opt = torch.optim.SGD(params, lr=0.1)
        """),
        # A loop left after its first iteration.
        Valid("""
            import torch
            params = model.parameters()
            for name in ('fused', 'plain'):
                try:
                    opt = torch.optim.AdamW(params, fused=name == 'fused')
                    break
                except RuntimeError:
                    continue
        """),
        # timm-style decay/no-decay split: one loop reads the generator once.
        Valid("""
            import torch
            decay, no_decay = [], []
            named = model.named_parameters()
            for name, p in named:
                if not p.requires_grad:
                    continue
                (no_decay if p.ndim <= 1 or name.endswith('.bias') else decay).append(p)
            opt = torch.optim.AdamW([{'params': no_decay, 'weight_decay': 0.0}, {'params': decay}])
        """),
        # HF `get_parameter_names` style, materialised once.
        Valid("""
            import torch
            named = list(model.named_parameters())
            decay_names = get_parameter_names(model, [LayerNorm])
            groups = [{'params': [p for n, p in named if n in decay_names], 'weight_decay': 0.01},
                      {'params': [p for n, p in named if n not in decay_names], 'weight_decay': 0.0}]
            opt = torch.optim.AdamW(groups, lr=5e-5)
        """),
        # The second read is a count, which feeds no group.
        Valid("""
            import torch
            named = model.named_parameters()
            trainable = [p for n, p in named if p.requires_grad]
            frozen = sum(p.numel() for n, p in named)
            opt = torch.optim.AdamW(trainable)
        """),
        # The first read only wraps the generator; the list comprehension reads it first.
        Valid("""
            import torch
            named = model.named_parameters()
            decay = (p for n, p in named if 'bias' not in n)
            no_decay = [p for n, p in named if 'bias' in n]
            opt = torch.optim.AdamW([{'params': no_decay, 'lr': 0.0}])
        """),
        # `any()` may stop at the first parameter: what follows is not known to be empty.
        Valid("""
            import torch
            params = model.parameters()
            if not any(p.requires_grad for p in params):
                raise ValueError('all frozen')
            opt = torch.optim.SGD([p for p in params if p.requires_grad], lr=0.1)
        """),
        # The empty list is filled afterwards.
        Valid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim > 1]
            no_decay = [p for n, p in named if p.ndim <= 1]
            no_decay.extend(model.norm.parameters())
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """),
        # The first read runs only if a nested function is called.
        Valid("""
            import torch
            named = model.named_parameters()
            def log_names():
                print([n for n, _ in named])
            opt = torch.optim.AdamW([p for n, p in named if p.requires_grad])
        """),
    )
    INVALID = (
        # Two optimizers.
        Invalid("""
            import torch
            params = model.parameters()
            opt_a = torch.optim.SGD(params, lr=0.1)
            opt_b = torch.optim.Adam(params, lr=1e-3)
        """, at="4:26"),
        # A count before the optimizer.
        Invalid("""
            import torch
            params = model.parameters()
            print(f'{sum(p.numel() for p in params)} parameters')
            opt = torch.optim.AdamW(params, lr=1e-3)
        """, at="4:25"),
        # Two groups of one optimizer.
        Invalid("""
            import torch
            named = model.named_parameters()
            opt = torch.optim.SGD([{'params': [p for n, p in named if 'bias' in n], 'weight_decay': 0.0},
                                   {'params': [p for n, p in named if 'bias' not in n]}], lr=0.1)
        """, at="4:50"),
        # A loop around the optimizer, the generator bound outside it.
        Invalid("""
            import torch
            params = model.parameters()
            for fold in range(5):
                opt = torch.optim.SGD(params, lr=0.1)
        """, at="4:27"),
        # A for-loop over it, then a group.
        Invalid("""
            import torch
            def setup(model):
                params = model.parameters()
                for p in params:
                    p.requires_grad_(True)
                return torch.optim.SGD([{'params': params, 'lr': 0.1}])
        """, at="6:40"),
        # A decay/no-decay split from one `named_parameters()`: the second comprehension is empty.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if not n.endswith('bias')]
            no_decay = [p for n, p in named if n.endswith('bias')]
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """, at="4:27"),
        # The same split through a list of groups.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim >= 2]
            no_decay = [p for n, p in named if p.ndim < 2]
            groups = [{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}]
            opt = torch.optim.AdamW(groups)
        """, at="4:27"),
        # HF `get_parameter_names` style, the generator hoisted into a name.
        Invalid("""
            import torch
            def create_optimizer(model, decay_names):
                named = model.named_parameters()
                decayed = [p for n, p in named if n in decay_names and p.requires_grad]
                undecayed = [p for n, p in named if n not in decay_names and p.requires_grad]
                return torch.optim.AdamW([{'params': decayed, 'weight_decay': 0.01},
                                          {'params': undecayed, 'weight_decay': 0.0}], lr=5e-5)
        """, at="5:32"),
        # Filtering by requires_grad after a parameter count.
        Invalid("""
            import torch
            params = model.parameters()
            print(sum(p.numel() for p in params))
            trainable = list(filter(lambda p: p.requires_grad, params))
            opt = torch.optim.Adam(trainable, lr=1e-3)
        """, at="4:52"),
        # timm-style loop filling `no_decay` after a comprehension read the generator.
        Invalid("""
            import torch
            named = model.named_parameters()
            decay = [p for n, p in named if p.ndim > 1]
            no_decay = []
            for n, p in named:
                if p.ndim <= 1:
                    no_decay.append(p)
            opt = torch.optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """, at="5:13"),
        # A head group added later (gradual unfreezing).
        Invalid("""
            import torch
            named = model.named_parameters()
            body = [p for n, p in named if not n.startswith('head')]
            head = [p for n, p in named if n.startswith('head')]
            opt = torch.optim.SGD(body, lr=0.01)
            opt.add_param_group({'params': head, 'lr': 0.1})
        """, at="4:23"),
    )

    def check(self, ctx) -> None:
        for scope in ctx.model.scopes:
            statements = _statements(scope)
            names = _iterator_names(ctx.model, scope)
            if statements and names:
                _Uses(ctx, scope, names).block(statements, {})


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
    if builtin_name(model, value.func, scope) in _ONE_SHOT_BUILTINS:
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
        if site.scope is scope and builtin_name(model, site.node.func, scope) in _SHORT_CIRCUITS:
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

    def __init__(self, ctx, scope: Scope, names: set[str]):
        self.ctx, self.model, self.scope, self.names = ctx, ctx.model, scope, names
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
        if builtin_name(self.model, call.func, self.scope) in _READERS:
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
        group = as_group(node) if isinstance(node, (cst.Dict, cst.Call)) else None
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
            params = argument(call, 0, "params")
            return self._fed(sources(self.model, params, self.scope, filters=True), OPTIMIZER_USE) if params else []
        starred = self._tracked([a.value for a in call.args if a.star], OTHER_USE)
        if builtin_name(self.model, call.func, self.scope) in _CONSUMERS:
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
            self._report(name, held, kind)
        elif carrier is not None and not held.lazily:
            state[carrier.holder] = _Empty(carrier.holder, carrier.value, name, held)
        return state

    def _use_empty(self, name: cst.Name, held: _Empty, kind: str, state: State) -> State:
        if held.read is None:
            return state
        if kind != OTHER_USE and id(name) not in self.shared:
            self._report_empty(held, kind)
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

    def _report(self, name: cst.Name, iterator: _Iterator, kind: str) -> None:
        what, hint = _described(self.ctx, name, iterator)
        consequence = _consequence(kind)
        if iterator.used_by is name:
            message = f"{what} bound outside this loop: the first iteration exhausts it; from the second on, "
            message += f"{consequence}."
        else:
            message = f"{what} already exhausted by an earlier use: {consequence}."
        self.ctx.report(name, message, hint=hint)

    def _report_empty(self, held: _Empty, kind: str) -> None:
        what, hint = _described(self.ctx, held.read, held.iterator)
        consequence = f"`{held.holder}` is empty: {_consequence(kind, held.holder)}"
        if held.by_loop:
            message = f"{what} already exhausted: this loop never runs, so {consequence}."
        elif held.iterator.used_by is held.read:
            message = f"{what} bound outside this loop: from the second iteration on, {consequence}."
        else:
            message = f"{what} already exhausted by an earlier use, so {consequence}."
        self.ctx.report(held.read, message, hint=hint)


def _described(ctx, name: cst.Name, iterator: _Iterator) -> tuple[str, str]:
    """What the name holds, and the hint to materialise it."""
    source = ctx.module.code_for_node(iterator.source)
    short = len(source) <= 40
    what = f"`{name.value}` holds `{source}`, an iterator" if short else f"`{name.value}` is an iterator"
    rebuilt = f"call `{source}` again" if short else "rebuild it"
    return what, f"Bind `{name.value} = list(...)` once and reuse the list, or {rebuilt} at each use."


def _consequence(kind: str, holder: str | None = None) -> str:
    if kind == OPTIMIZER_USE:
        return "torch raises ValueError (optimizer got an empty parameter list)"
    if holder is not None:
        return f"the param group of `{holder}` is silently empty"
    return "this group is silently empty"


def _names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names(e.value)]
    return []
