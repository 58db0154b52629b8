"""Values followed through parameters, returns and containers cost what the file's text costs: deep
chains of helpers, thousands of call sites and call graphs full of cycles finish in well under the
bound, never exhaust the stack (a file optlint skips as "too deeply nested"), and stay precise: a
short chain is still followed, a disagreeing call site still unbinds. `HYPOTHESIS_PROFILE=fuzz`
runs many more examples.
"""

from __future__ import annotations

from hypothesis import given, strategies as st

from optlint.static.engine import lint_source
from tests.adversarial.test_exponential_shapes import FEW, finishes_within

BOUND_S = 10  # the inputs below take well under a second each
HEADER = "import torch\nfrom torch.optim.lr_scheduler import StepLR\n"


def lint(source: str) -> list:
    with finishes_within(BOUND_S):
        return lint_source(source, "x.py")


def get_lr_rows(findings) -> list[int]:
    return [f.row for f in findings if f.code == "OPT014"]


def parameter_chain(depth: int, calls_each: int) -> str:
    """h0 logs `sched.get_lr()`; each h<i> hands its scheduler to h<i-1> `calls_each` times; the
    module builds the scheduler and calls the last helper."""
    lines = [HEADER, "def h0(sched):\n    print(sched.get_lr())\n"]
    for i in range(1, depth + 1):
        lines.append(f"def h{i}(sched):\n" + f"    h{i - 1}(sched)\n" * calls_each)
    lines.append(f"opt = torch.optim.SGD(params, lr=0.1)\nh{depth}(StepLR(opt, 10))\n")
    return "".join(lines)


def return_chain(depth: int) -> str:
    """r0 builds the scheduler; each r<i> returns r<i-1>(); the module logs what the last returns."""
    lines = [HEADER, "def r0(opt):\n    return StepLR(opt, 10)\n"]
    for i in range(1, depth + 1):
        lines.append(f"def r{i}(opt):\n    return r{i - 1}(opt)\n")
    lines.append(f"sched = r{depth}(torch.optim.SGD(params, lr=0.1))\nprint(sched.get_lr())\n")
    return "".join(lines)


@given(depth=st.integers(1, 6), calls_each=st.integers(1, 3))
@FEW
def test_a_short_chain_of_helpers_is_followed(depth, calls_each):
    assert get_lr_rows(lint(parameter_chain(depth, calls_each))) == [4]
    source = return_chain(depth)
    assert get_lr_rows(lint(source)) == [source.count("\n")]


@given(depth=st.integers(50, 400), calls_each=st.integers(1, 3))
@FEW
def test_a_deep_chain_finishes_and_is_linted(depth, calls_each):
    for source in (parameter_chain(depth, calls_each), return_chain(depth)):
        findings = lint(source)  # not skipped as too deeply nested: that would raise in lint_source
        assert set(get_lr_rows(findings)) <= {4, source.count("\n")}  # found, or given up: never elsewhere


def test_thousands_of_agreeing_call_sites_bind_and_one_other_unbinds():
    calls = "for i in range(3):\n" + "    train_epoch(sched)\n" * 2000
    base = HEADER + "def train_epoch(s):\n    print(s.get_lr())\nsched = StepLR(torch.optim.SGD(p, lr=0.1), 10)\n" + calls
    assert get_lr_rows(lint(base)) == [4]
    assert get_lr_rows(lint(base + "train_epoch(other)\n")) == []


@given(edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=40))
@FEW
def test_call_graphs_with_cycles_terminate(edges):
    """Helpers calling each other in any graph (recursion, mutual cycles) with the optimizer and
    returning each other's results: each question is answered once, a cycle answers "unknown"."""
    bodies = {i: [] for i in range(12)}
    for caller, callee in edges:
        bodies[caller].append(f"    f{callee}(opt, sched)\n")
    lines = [HEADER]
    for i, body in bodies.items():
        back = f"    return f{(i + 1) % 12}(opt, sched)\n" if i % 3 == 0 else "    return sched\n"
        lines.append(f"def f{i}(opt, sched):\n" + "".join(body) + "    opt.step()\n    sched.step()\n" + back)
    lines.append("o = torch.optim.SGD(p, lr=0.1)\ns = f0(o, StepLR(o, 10))\nprint(s.get_lr())\n")
    lint("".join(lines))
