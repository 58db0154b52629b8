from __future__ import annotations

from typing import Sequence

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.semantic import (
    OPTIMIZER, SCHEDULER, argument, call_method, calls_in, dotted, FlowWalker, number_literal, Scope, State, walk
)
from optlint.static.rule import Rule

# The classes whose constructor, given `last_epoch >= 0`, reads `initial_lr` from every group
# (tests/test_torch_behaviour_wave2.py measures each on the installed torch).
RAISE_ON_FRESH_OPTIMIZER = frozenset({
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR", "LinearLR",
    "ConstantLR", "PolynomialLR", "OneCycleLR", "CyclicLR", "CosineAnnealingWarmRestarts",
})  # fmt: skip

PATHS = "paths"  # the state's one key: a frozenset of (names holding an int literal >= 0, fresh optimizers)
MAX_PATHS = 32  # past this, paths are merged into what they have in common (which reports less)


class LastEpochOnFreshOptimizer(Rule):
    """A scheduler built with `last_epoch=` 0 or more on an optimizer that holds no `initial_lr` yet.

    With `last_epoch >= 0` a scheduler resumes: it reads each group's `initial_lr`, which only an
    earlier scheduler or a loaded optimizer state puts there. On a fresh optimizer torch raises
    KeyError, so a script that passes `last_epoch=start_epoch` works when resumed and fails on a fresh run.
    """

    code = "OPT020"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            a = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=-1)
        """),
        # A value computed from the start epoch: unknown here.
        Valid("""
            import torch
            start = 0
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=start - 1)
        """),
        # The optimizer's state (which holds `initial_lr`) is loaded first, on every path.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            ckpt = torch.load(path)
            opt.load_state_dict(ckpt["optimizer"])
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 90, last_epoch=0)
        """),
        # An earlier scheduler on the same optimizer wrote `initial_lr` into its groups.
        Valid("""
            from torch.optim import SGD, lr_scheduler
            opt = SGD(m.parameters(), lr=0.1)
            warm = lr_scheduler.LinearLR(opt, 0.1, total_iters=5)
            main = lr_scheduler.StepLR(opt, 30, last_epoch=0)
        """),
        # The build runs only when the start epoch is checked: its value there is not known.
        Valid("""
            import torch
            start_epoch = 0
            if args.resume:
                start_epoch = load(args.resume)
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            if start_epoch > 0:
                sched = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=start_epoch)
        """),
        # A helper that receives the optimizer may load its state.
        Valid("""
            import torch
            start_epoch = 0
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            restore(opt, path)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=start_epoch)
        """),
        # `initial_lr` written by hand, as a warm-up wrapper does.
        Valid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            for g in opt.param_groups:
                g.setdefault("initial_lr", g["lr"])
            sched = torch.optim.lr_scheduler.LambdaLR(opt, f, last_epoch=0)
        """),
        # An optimizer from elsewhere (a parameter): its groups may hold `initial_lr`.
        Valid("""
            from torch.optim.lr_scheduler import StepLR
            def build(optimizer):
                return StepLR(optimizer, 30, last_epoch=0)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.SGD(m.parameters(), lr=0.1)
            sched = torch.optim.lr_scheduler.StepLR(opt, 30, last_epoch=0)
        """, at="3:50", message="KeyError"),
        # Resuming works; the fresh run (no checkpoint) raises.
        Invalid("""
            import torch
            from torch.optim.lr_scheduler import OneCycleLR
            def main(args):
                model = Net()
                optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
                start_epoch = 0
                if args.resume:
                    ckpt = torch.load(args.resume)
                    optimizer.load_state_dict(ckpt["optimizer"])
                    start_epoch = ckpt["epoch"]
                scheduler = OneCycleLR(optimizer, 1e-3, total_steps=n, last_epoch=start_epoch)
        """, at="11:60", message="`last_epoch=start_epoch`"),
        Invalid("""
            import torch
            class Trainer:
                def __init__(self, model):
                    self.optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
                    try:
                        self.optimizer.load_state_dict(torch.load("last.pt"))
                    except FileNotFoundError:
                        pass
                    self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, f, last_epoch=0)
        """, at="9:79"),
    )

    def check(self, ctx) -> None:
        if "last_epoch" not in ctx.source:  # only a `last_epoch=` keyword is ever reported
            return
        if "initial_lr" in ctx.source:  # written by hand somewhere: which groups hold it is unknown
            return
        declared = ctx.model.declared_global
        for scope in ctx.model.scopes:
            if scope.kind in ("module", "function") and not isinstance(scope.node, cst.Lambda):
                statements = scope.node.body if scope.kind == "module" else scope.node.body.body
                _Builds(ctx, scope, declared).block(statements, {PATHS: frozenset({(frozenset(), frozenset())})})

    @staticmethod
    def report(ctx, arg: cst.Arg, optimizer: str) -> None:
        given = ctx.module.code_for_node(arg.value)
        ctx.report(
            arg,
            f"`last_epoch={given}` resumes a schedule, but on a fresh run `{optimizer}`'s groups hold no"
            " `initial_lr`: torch raises KeyError \"param 'initial_lr' is not specified in param_groups[0]\".",
            hint="Build the scheduler with the default `last_epoch=-1` and restore it with"
            " `scheduler.load_state_dict(...)`, or load the optimizer's state before building it.",
        )


class _Builds(FlowWalker):
    """Follows, along each path of one scope, which plain names hold an int literal >= 0 and which
    optimizers were built there and not yet given `initial_lr` (no scheduler, no state loaded)."""

    def __init__(self, ctx, scope: Scope, declared: frozenset[str]):
        super().__init__()
        self.ctx, self.model, self.scope, self.declared = ctx, ctx.model, scope, declared

    def merge(self, states: Sequence[State]) -> State:
        paths = frozenset().union(*(s[PATHS] for s in states))
        if len(paths) > MAX_PATHS:
            literals = frozenset.intersection(*(p[0] for p in paths))
            fresh = frozenset.intersection(*(p[1] for p in paths))
            paths = frozenset({(literals, fresh)})
        return {PATHS: paths}

    def bind(self, target, value, state: State) -> State:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                state = self.bind(element.value, None, state)
            return state
        name = dotted(target)
        if name is None:
            return state
        literal = isinstance(target, cst.Name) and name not in self.declared and _non_negative_int(value)
        built = isinstance(value, cst.Call) and self._optimizer_class(value)
        return _each_path(state, lambda lits, fresh: (
            lits | {name} if literal else lits - {name},
            fresh | {name} if built else fresh - {name},
        ))

    def _If(self, node: cst.If, state: State) -> dict:
        """A test that reads a name (`if start_epoch > 0:`) makes its value on each branch unknown."""
        read = {n.value for n in _names(node.test)}
        return super()._If(node, _each_path(state, lambda lits, fresh: (lits - read, fresh)))

    def expression(self, node, state: State) -> State:
        for call in calls_in(node):
            state = self._call(call, state)
        return state

    def _call(self, call: cst.Call, state: State) -> State:
        built = self.model.torch_class(call.func, self.scope)
        if built is not None and built[0] == SCHEDULER:
            optimizer = dotted(argument(call, 0, "optimizer")) or ""
            self._check_build(call, built[1], optimizer, state)
            return _each_path(state, lambda lits, fresh: (lits, fresh - {optimizer}))
        if self.model.function_called(call, self.scope) is not None:
            return _each_path(state, lambda lits, fresh: (lits, frozenset()))  # a helper may load any of them
        given = {dotted(arg.value) for arg in call.args}
        method = call_method(call)
        if method is not None and method[1] == "load_state_dict":
            given.add(dotted(method[0]))
        return _each_path(state, lambda lits, fresh: (lits, fresh - given))

    def _check_build(self, call: cst.Call, cls: str, optimizer: str, state: State) -> None:
        arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "last_epoch"), None)
        if cls not in RAISE_ON_FRESH_OPTIMIZER or arg is None:
            return
        fresh_paths = [lits for lits, fresh in state[PATHS] if optimizer in fresh]
        value = arg.value
        if _non_negative_int(value) and fresh_paths or (
            isinstance(value, cst.Name) and any(value.value in lits for lits in fresh_paths)
        ):
            LastEpochOnFreshOptimizer.report(self.ctx, arg, optimizer)

    def _optimizer_class(self, call: cst.Call) -> bool:
        built = self.model.torch_class(call.func, self.scope)
        return built is not None and built[0] == OPTIMIZER


def _each_path(state: State, change) -> State:
    return {PATHS: frozenset(change(lits, fresh) for lits, fresh in state[PATHS])}


def _non_negative_int(expr) -> bool:
    return isinstance(expr, cst.Integer) and (number_literal(expr) or 0) >= 0


class _Names(cst.CSTVisitor):
    def __init__(self):
        self.found: list[cst.Name] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node)


def _names(expr: cst.CSTNode) -> list[cst.Name]:
    names = _Names()
    walk(expr, names)
    return names.found

