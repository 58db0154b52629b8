from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import libcst as cst

from optlint.findings import Severity
from optlint.static.flow import FlowWalker, State
from optlint.static.groups import as_group
from optlint.static.model import OPTIMIZER, Scope, SemanticModel, argument
from optlint.static.params import builtin_name, parameters_call, sources
from optlint.static.rule import Rule

OPTIMIZER_USE, GROUP_USE, OTHER_USE = "optimizer", "group", "other"

# Builtins that run through an iterable they are given (or wrap it in an iterator that will).
_CONSUMERS = {"list", "tuple", "set", "frozenset", "sorted", "sum", "min", "max", "any", "all", "dict",
              "enumerate", "zip", "map", "filter"}
_ONE_SHOT_BUILTINS = {"filter", "map"}


@dataclass(frozen=True)
class _Iterator:
    source: cst.BaseExpression  # `model.parameters()`
    used_by: cst.CSTNode | None = None  # the first use, which exhausted it


class ReusedParameterGenerator(Rule):
    """A variable holding `model.parameters()` (a generator) used twice: the first use exhausts it,
    so the second optimizer or group gets no parameters."""

    code = "OPT009"
    name = "reused-parameter-generator"
    severity = Severity.ERROR
    summary = "A parameter generator is consumed twice; the second optimizer or group gets nothing."

    VALID = (
        # Materialised once, used twice.
        "import torch\nparams = list(model.parameters())\nprint(sum(p.numel() for p in params))\n"
        "opt = torch.optim.SGD(params, lr=0.1)",
        # Mutually exclusive branches: one use on each path.
        "import torch\nparams = model.parameters()\nif cfg.sgd:\n    opt = torch.optim.SGD(params, lr=0.1)\n"
        "else:\n    opt = torch.optim.Adam(params, lr=1e-3)",
        "import torch\ndef build(model, name):\n    params = model.parameters()\n    if name == 'sgd':\n"
        "        return torch.optim.SGD(params, lr=0.1)\n    return torch.optim.Adam(params)",
        "import torch\nparams = model.parameters()\n"
        "opt = torch.optim.SGD(params, lr=0.1) if cfg.sgd else torch.optim.Adam(params)",
        # A rebinding in between gives a fresh generator.
        "import torch\nparams = model.parameters()\nn = sum(p.numel() for p in params)\n"
        "params = model.parameters()\nopt = torch.optim.SGD(params, lr=0.1)",
        # Bound inside the loop: fresh each iteration.
        "import torch\nfor fold in range(5):\n    params = model.parameters()\n"
        "    opt = torch.optim.SGD(params, lr=0.1)",
        # A loop left after its first iteration.
        "import torch\nparams = model.parameters()\nfor name in ('fused', 'plain'):\n    try:\n"
        "        opt = torch.optim.AdamW(params, fused=name == 'fused')\n        break\n"
        "    except RuntimeError:\n        continue",
    )
    INVALID = (
        # Two optimizers.
        "import torch\nparams = model.parameters()\nopt_a = torch.optim.SGD(params, lr=0.1)\n"
        "opt_b = torch.optim.Adam(params, lr=1e-3)",
        # A count before the optimizer.
        "import torch\nparams = model.parameters()\nprint(f'{sum(p.numel() for p in params)} parameters')\n"
        "opt = torch.optim.AdamW(params, lr=1e-3)",
        # Two groups of one optimizer.
        "import torch\nnamed = model.named_parameters()\n"
        "opt = torch.optim.SGD([{'params': [p for n, p in named if 'bias' in n], 'weight_decay': 0.0},\n"
        "                       {'params': [p for n, p in named if 'bias' not in n]}], lr=0.1)",
        # A loop around the optimizer, the generator bound outside it.
        "import torch\nparams = model.parameters()\nfor fold in range(5):\n"
        "    opt = torch.optim.SGD(params, lr=0.1)",
        # A for-loop over it, then a group.
        "import torch\ndef setup(model):\n    params = model.parameters()\n    for p in params:\n"
        "        p.requires_grad_(True)\n    return torch.optim.SGD([{'params': params, 'lr': 0.1}])",
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


class _Uses(FlowWalker):
    """Follows each tracked name along the paths of one scope; reports a use after exhaustion."""

    def __init__(self, ctx, scope: Scope, names: set[str]):
        self.ctx, self.model, self.scope, self.names = ctx, ctx.model, scope, names

    def merge(self, states: Sequence[State]) -> State:
        """Exhausted where the paths meet only when exhausted on every one of them: a use after
        `if verbose: print(sum(...))` is not reported (the condition may be false)."""
        merged: State = {}
        for name in set(states[0]).intersection(*states[1:]):
            values = [s[name] for s in states]
            used = [v for v in values if v.used_by is not None]
            merged[name] = used[0] if len(used) == len(values) else next(v for v in values if v.used_by is None)
        return merged

    def bind(self, target, value, state: State) -> State:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                state = self.bind(element.value, None, state)
        elif isinstance(target, cst.Name) and target.value in self.names:
            if value is not None and _is_one_shot(self.model, value, self.scope):
                state[target.value] = _Iterator(value)
            else:
                state.pop(target.value, None)
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
        return state

    def _shadows(self, node: cst.CSTNode) -> bool:
        """A comprehension whose own variable reuses a tracked name: its uses are not ours."""
        if not isinstance(node, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
            return False
        loop, targets = node.for_in, set()
        while loop is not None:
            targets |= {n.value for n in _names(loop.target)}
            loop = loop.inner_for_in
        return bool(targets & self.names)

    def _uses(self, node: cst.CSTNode) -> list[tuple[cst.Name, str]]:
        """The tracked names this node reads through, and how."""
        group = as_group(node) if isinstance(node, (cst.Dict, cst.Call)) else None
        if group is not None and group.params is not None:
            return self._tracked(sources(self.model, group.params, self.scope, filters=True), GROUP_USE)
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
            return self._tracked(sources(self.model, params, self.scope, filters=True), OPTIMIZER_USE) if params else []
        starred = self._tracked([a.value for a in call.args if a.star], OTHER_USE)
        if builtin_name(self.model, call.func, self.scope) in _CONSUMERS:
            return starred + self._tracked([a.value for a in call.args if a.keyword is None], OTHER_USE)
        qualname = self.model.qualname(call.func, self.scope) or ""
        if qualname.startswith(("torch.", "itertools.")):
            return starred + self._tracked([a.value for a in call.args], OTHER_USE)
        return starred

    def _tracked(self, exprs: list[cst.BaseExpression], kind: str) -> list[tuple[cst.Name, str]]:
        return [(e, kind) for e in exprs if isinstance(e, cst.Name) and e.value in self.names]

    def _use(self, name: cst.Name, kind: str, state: State) -> State:
        iterator = state.get(name.value)
        if iterator is None:
            return state
        if iterator.used_by is None:
            state[name.value] = replace(iterator, used_by=name)
        elif kind != OTHER_USE:
            self._report(name, iterator, kind)
        return state

    def iterate(self, iterable: cst.BaseExpression, state: State) -> State:
        state = self.expression(iterable, state)
        for name, kind in self._tracked([iterable], OTHER_USE):
            state = self._use(name, kind, state)
        return state

    def _report(self, name: cst.Name, iterator: _Iterator, kind: str) -> None:
        source = self.ctx.module.code_for_node(iterator.source)
        short = len(source) <= 40
        what = f"`{name.value}` holds `{source}`, an iterator" if short else f"`{name.value}` is an iterator"
        if kind == OPTIMIZER_USE:
            consequence = "torch raises ValueError (optimizer got an empty parameter list)"
        else:
            consequence = "this group is silently empty"
        if iterator.used_by is name:
            message = f"{what} bound outside this loop: the first iteration exhausts it; from the second on, "
            message += f"{consequence}."
        else:
            message = f"{what} already exhausted by an earlier use: {consequence}."
        rebuilt = f"call `{source}` again" if short else "rebuild it"
        hint = f"Bind `{name.value} = list(...)` once and reuse the list, or {rebuilt} at each use."
        self.ctx.report(name, message, hint=hint)


def _names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names(e.value)]
    return []
