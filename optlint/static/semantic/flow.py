"""Walk a block of statements in execution order, carrying a small state along each path.

`FlowWalker` forks the state at `if`/`match`/`try`, merges it where the paths meet, drops it after
`return`/`raise`, and runs a loop body twice, so that what the first iteration leaves behind is
what the second sees. A loop reached again with a state it was walked with before is not walked
again, and past a few different states it is walked with what they have in common: without that,
k nested loops would walk the innermost body 2**k times. Subclasses say what an expression does to the state (`expression`) and what
an assignment does (`bind`). Nested functions and classes are not entered: they run elsewhere.

The state is a dict (name -> hashable value); `merge` combines the states of paths that meet.
Subclasses report as they walk; a loop walked once with a state reports what it would report again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import libcst as cst

State = dict

# Different states a loop is walked with before they are merged into one (see `_loop`).
EXACT_ENTRIES = 8


@dataclass
class Paths:
    """Where the paths through a block go: on past its end, out of a loop, back to its top."""

    end: State | None  # None: no path falls through (return, raise, ...)
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)

    def absorb(self, other: Paths) -> None:
        self.breaks += other.breaks
        self.continues += other.continues


class FlowWalker:
    def __init__(self):
        self._loops: dict[cst.CSTNode, dict[frozenset, Paths]] = {}  # loop -> state on entry -> its paths

    def expression(self, node: cst.CSTNode, state: State) -> State:
        """The state after evaluating `node` (an expression or a simple statement's parts)."""
        raise NotImplementedError

    def bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None, state: State) -> State:
        """The state after `target = value` (value None: bound by a loop, `with`, augmented assignment)."""
        raise NotImplementedError

    def merge(self, states: Sequence[State]) -> State:
        raise NotImplementedError

    def iterate(self, iterable: cst.BaseExpression, state: State) -> State:
        """The state after a `for` loop starts running through `iterable` (by default: evaluating it)."""
        return self.expression(iterable, state)

    def join(self, states: Sequence[State | None]) -> State | None:
        live = [s for s in states if s is not None]
        return self.merge(live) if live else None

    # -- statements ----------------------------------------------------------------------------
    def block(self, statements: Sequence[cst.CSTNode], state: State | None) -> Paths:
        paths = Paths(state)
        for statement in statements:
            if paths.end is None:
                break
            step = self.statement(statement, paths.end)
            paths.end = step.end
            paths.absorb(step)
        return paths

    def statement(self, node: cst.CSTNode, state: State) -> Paths:
        if isinstance(node, cst.SimpleStatementLine):
            return self.block(node.body, state)
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is not None:
            return handler(node, state)
        return Paths(self.expression(node, state))

    def body(self, suite: cst.BaseSuite, state: State | None) -> Paths:
        return self.block(suite.body, state)

    def _Return(self, node: cst.Return, state: State) -> Paths:
        if node.value is not None:
            self.expression(node.value, state)
        return Paths(None)

    def _Raise(self, node: cst.Raise, state: State) -> Paths:
        if node.exc is not None:
            self.expression(node.exc, state)
        return Paths(None)

    def _Break(self, node: cst.Break, state: State) -> Paths:
        return Paths(None, breaks=[state])

    def _Continue(self, node: cst.Continue, state: State) -> Paths:
        return Paths(None, continues=[state])

    def _Assign(self, node: cst.Assign, state: State) -> Paths:
        state = self.expression(node.value, state)
        for target in node.targets:
            state = self.bind(target.target, node.value, state)
        return Paths(state)

    def _AnnAssign(self, node: cst.AnnAssign, state: State) -> Paths:
        if node.value is None:
            return Paths(state)
        return Paths(self.bind(node.target, node.value, self.expression(node.value, state)))

    def _AugAssign(self, node: cst.AugAssign, state: State) -> Paths:
        return Paths(self.bind(node.target, None, self.expression(node.value, state)))

    def _FunctionDef(self, node: cst.FunctionDef, state: State) -> Paths:
        return Paths(self.bind(node.name, None, state))

    def _ClassDef(self, node: cst.ClassDef, state: State) -> Paths:
        return Paths(self.bind(node.name, None, state))

    def _If(self, node: cst.If, state: State) -> Paths:
        state = self.expression(node.test, state)
        taken = self.body(node.body, dict(state))
        if node.orelse is None:
            other = Paths(state)
        elif isinstance(node.orelse, cst.If):
            other = self._If(node.orelse, dict(state))
        else:
            other = self.body(node.orelse.body, dict(state))
        paths = Paths(self.join([taken.end, other.end]))
        paths.absorb(taken)
        paths.absorb(other)
        return paths

    def _Match(self, node: cst.Match, state: State) -> Paths:
        state = self.expression(node.subject, state)
        cases = [self.body(case.body, dict(state)) for case in node.cases]
        paths = Paths(self.join([state, *[c.end for c in cases]]))
        for case in cases:
            paths.absorb(case)
        return paths

    def _With(self, node: cst.With, state: State) -> Paths:
        for item in node.items:
            state = self.expression(item.item, state)
            if item.asname is not None:
                state = self.bind(item.asname.name, None, state)
        return self.body(node.body, state)

    def _Try(self, node: cst.Try | cst.TryStar, state: State) -> Paths:
        # A handler runs when the body raised, possibly before any of it ran: it starts from the
        # state before the body (the paths are alternatives, as with if/else).
        body = self.body(node.body, dict(state))
        if node.orelse is not None:
            orelse = self.body(node.orelse.body, body.end)
            orelse.absorb(body)
            body = orelse
        handlers = [self.body(h.body, dict(state)) for h in node.handlers]
        paths = Paths(self.join([body.end, *[h.end for h in handlers]]))
        for part in (body, *handlers):
            paths.absorb(part)
        if node.finalbody is not None and paths.end is not None:
            after = self.body(node.finalbody.body, paths.end)
            paths.end = after.end
            paths.absorb(after)
        return paths

    _TryStar = _Try

    def _For(self, node: cst.For, state: State) -> Paths:
        return self._loop(node, self.iterate(node.iter, state), target=node.target)

    def _While(self, node: cst.While, state: State) -> Paths:
        return self._loop(node, self.expression(node.test, state), target=None)

    def _loop(self, node: cst.For | cst.While, state: State, target) -> Paths:
        walked = self._loops.setdefault(node, {})
        key = frozenset(state.items())
        if key not in walked and len(walked) >= EXACT_ENTRIES:
            # Loops in loops can bring ever more states: walk with what they all have in common,
            # which reports less, never more, and stops changing after a few rounds.
            state = self.merge([*map(dict, walked), state])
            key = frozenset(state.items())
        if key not in walked:
            walked[key] = self._iterate_twice(node, state, target)
        paths = walked[key]
        copied = [dict(s) for s in paths.breaks], [dict(s) for s in paths.continues]
        return Paths(dict(paths.end) if paths.end is not None else None, *copied)  # callers change states in place

    def _iterate_twice(self, node: cst.For | cst.While, state: State, target) -> Paths:
        """Two iterations: the second starts from what the first leaves at its end or `continue`."""
        entry, exits, breaks = state, [state], []
        for _ in range(2):
            top = self.bind(target, None, dict(entry)) if target is not None else dict(entry)
            iteration = self.body(node.body, top)
            back = self.join([iteration.end, *iteration.continues])
            breaks += iteration.breaks
            if back is None:
                break
            exits.append(back)
            entry = back
        done: Paths = Paths(self.merge(exits))
        if node.orelse is not None:
            done = self.body(node.orelse.body, done.end)  # its break/continue belong to an outer loop
        return Paths(self.join([done.end, *breaks]), done.breaks, done.continues)
