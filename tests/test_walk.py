"""`walk` must see what libcst's own traversal sees: the same code nodes, in the same order."""

from pathlib import Path

import libcst as cst
import pytest

from optlint.static.walk import TRIVIA, walk

ROOT = Path(__file__).resolve().parent.parent
# Every kind of statement and expression, with children whose source order differs from the order
# libcst declares its fields in (decorators, `a if b else c`, posonly parameters, ...).
EVERY_SYNTAX = '''
from __future__ import annotations
import os.path as p, sys
from .pkg import (a, b as c)
from x import *

@decorate(1)
@other.attr
async def f(x, /, y: int = 1, *args, z=2, **kw) -> list[int]:
    global g
    async with ctx() as (m, n), other():
        async for i in aiter():
            yield (await i)
    return [k for k in range(3) if k] + [*args]

class C(Base, metaclass=Meta):
    attr: int = 0
    def m(self):
        nonlocal_value = lambda q, r=1: q if r else -q
        self.x = {k: v for k, v in kw.items()} | {1, 2} | {**d}
        del self.y[0:1:2], z
        assert self.x, "message"
        raise ValueError("no") from None

for i, (j, k) in enumerate(pairs):
    if (n := len(i)) > 1 and not j or k is None:
        continue
    elif i in j:
        break
    else:
        pass
else:
    x = y = z = 1
    x += 1
while True:
    try:
        print(f"{x!r:>{width}} {y=}", *args, sep="", **kw)
    except (ValueError, TypeError) as error:
        pass
    finally:
        opt.step()
    try:
        pass
    except* OSError:
        pass
match command:
    case Point(x=0, y=y) | [1, 2, *rest] | {"k": v, **others}:
        pass
    case str() as s if s:
        pass
type Alias[T: int] = list[T]
print(b"bytes" b"concat", "text" f"{x}", 1.5j, ..., ~x, x @ y, x if y else z)
'''


def _recorder_class():
    """A visitor that records every visit and leave, under libcst's traversal and under `walk`."""

    def hooks(name):
        def visit(self, node):
            self.events.append(("visit", name, id(node)))

        def leave(self, node):
            self.events.append(("leave", name, id(node)))

        return {f"visit_{name}": visit, f"leave_{name}": leave}

    names = {cls.__name__ for cls in _subclasses(cst.CSTNode)}
    methods = {k: v for name in names for k, v in hooks(name).items()}
    return type("Recorder", (cst.CSTVisitor,), {"__init__": lambda self: setattr(self, "events", []), **methods})


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


Recorder = _recorder_class()
SOURCES = [EVERY_SYNTAX] + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures").rglob("*.py"))]
SOURCES += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "optlint").rglob("*.py"))]


@pytest.mark.parametrize("source", SOURCES, ids=range(len(SOURCES)))
def test_walk_sees_the_code_nodes_libcst_sees_in_the_same_order(source):
    module = cst.parse_module(source)
    by_libcst, by_walk = Recorder(), Recorder()
    module.visit(by_libcst)
    walk(module, by_walk)
    trivia = {cls.__name__ for cls in _subclasses(cst.CSTNode) if issubclass(cls, tuple(TRIVIA))}
    expected = [event for event in by_libcst.events if event[1] not in trivia]
    assert by_walk.events == expected


def test_a_visit_that_returns_false_skips_the_children():
    class NoFunctionBodies(cst.CSTVisitor):
        def __init__(self):
            self.calls = []

        def visit_FunctionDef(self, node):
            return False

        def visit_Call(self, node):
            self.calls.append(cst.Module([]).code_for_node(node.func))

    visitor = NoFunctionBodies()
    walk(cst.parse_module("def f():\n    inner()\nouter()\n"), visitor)
    assert visitor.calls == ["outer"]


def test_a_visitor_class_made_per_call_does_not_outlive_its_walks():
    """A long-lived process (the language server) lints the same file thousands of times: a visitor
    class defined inside a function must go with its call, not pile up in walk's tables."""
    import gc
    import weakref

    def count_names(tree) -> tuple[int, weakref.ref]:
        class Names(cst.CSTVisitor):
            seen = 0

            def visit_Name(self, node):
                type(self).seen += 1

        walk(tree, Names())
        return Names.seen, weakref.ref(Names)

    seen, alive = count_names(cst.parse_module("a = b + c\n"))
    gc.collect()
    assert seen == 3 and alive() is None
