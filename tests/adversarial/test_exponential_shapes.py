"""No input makes optlint hang: shapes that cost 2**n on a path-by-path analysis or a backtracking
regex finish in well under a second.

Each case is sized so that an exponential analysis would need hours (2**30 paths, a 13-star glob on
a 64-character name), while the bound is seconds: a failure is never a slow machine. The bound is
an alarm, so an exponential run fails the test instead of hanging it. Generated cases also check
that the findings are still there: being fast must not come from giving up.
`HYPOTHESIS_PROFILE=fuzz` runs many more examples.
"""

from __future__ import annotations

import os
import re
import signal
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.config import PathPatterns
from optlint.globs import Globs
from optlint.static.engine import lint_source

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
FEW = settings(FUZZ, max_examples=max(FUZZ.max_examples // 12, 8))  # each example lints a whole file
BOUND_S = 10  # generous: the inputs below take under a second, and hours if exponential

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # `[[` in a generated glob: re's "nested set?"


@contextmanager
def finishes_within(seconds: float):
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: exponential?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def lint(source: str) -> list:
    with finishes_within(BOUND_S):
        return lint_source(source, "x.py")


def codes_at(findings, code: str) -> list[int]:
    return [f.row for f in findings if f.code == code]


# -- same-file helpers -----------------------------------------------------------------------------
def helper_chain(count: int, calls_each: int, extra_calls: list[tuple[int, int]] = ()) -> str:
    """h0 steps the optimizer; each h<i> calls h<i-1> `calls_each` times (plus `extra_calls`,
    (caller, callee) pairs that may point up the chain: recursion); the loop steps its scheduler
    before calling the last helper."""
    calls = {i: [i - 1] * calls_each for i in range(1, count)}
    for caller, callee in extra_calls:
        calls.setdefault(caller, []).append(callee)
    lines = ["def h0(opt):", "    opt.step()", *(f"    h{c}(opt)" for c in calls.get(0, ()))]
    for i in range(1, count):
        lines += [f"def h{i}(opt):", *(f"    h{c}(opt)" for c in calls[i])]
    lines += ["for x in loader:", "    scheduler.step()", f"    h{count - 1}(optimizer)"]
    return "\n".join(lines) + "\n"


def test_helpers_that_each_call_the_one_before_twice_are_summarised_once():
    source = helper_chain(30, 2)  # 1.3 KB; inlined path by path: 2**29 optimizer steps
    assert codes_at(lint(source), "OPT011") == [source.splitlines().index("    scheduler.step()") + 1]


def test_mutually_recursive_helpers_terminate_and_keep_their_steps():
    source = (
        "def ping(opt, n):\n    pong(opt, n - 1)\n"
        "def pong(opt, n):\n    opt.step()\n    ping(opt, n - 1)\n"
        "for x in loader:\n    scheduler.step()\n    ping(optimizer, 3)\n"
        "for x in loader:\n    scheduler.step()\n    pong(optimizer, 3)\n"
    )
    assert codes_at(lint(source), "OPT011") == [7, 10]


@FEW
@given(
    count=st.integers(20, 40),
    calls_each=st.integers(2, 3),
    extra=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=12),
)
def test_any_graph_of_helpers_is_analysed_in_bounded_time(count, calls_each, extra):
    extra_calls = [(a % count, b % count) for a, b in extra]
    source = helper_chain(count, calls_each, extra_calls)
    assert len(codes_at(lint(source), "OPT011")) == 1


# -- nested loops and blocks -----------------------------------------------------------------------
OPENERS = ("for a{i} in range(2):", "while keep_going({i}):", "if flag{i}:", "with ctx{i}:", "try:")


def nested(openers: list[str], carriers: list[bool], innermost: str) -> str:
    """One block per opener, each inside the one before; a carrier level first fills
    `decay<i>` from `named<i>`, which differs between a loop's first and second iteration."""
    lines = ["import torch", "params = model.parameters()"]
    lines += [f"named{i} = model.named_parameters()" for i in range(len(openers))]
    for i, (opener, carrier) in enumerate(zip(openers, carriers)):
        indent = "    " * i
        if carrier:
            lines.append(f"{indent}decay{i} = [p for n, p in named{i}]")
        lines.append(indent + opener.format(i=i))
    lines.append("    " * len(openers) + innermost)
    for i in reversed(range(len(openers))):
        if openers[i] == "try:":
            lines += ["    " * i + "except ValueError:", "    " * i + "    pass"]
    return "\n".join(lines) + "\n"


def test_thirty_nested_loops_are_not_walked_path_by_path():
    source = nested([OPENERS[0]] * 30, [False] * 30, "opt = torch.optim.SGD(params, lr=0.1)")
    assert codes_at(lint(source), "OPT009") == [len(source.splitlines())]


def test_loops_whose_iterations_leave_different_states_stay_bounded():
    # Each level's second iteration knows one more list is empty: 2**depth states reach the innermost loop.
    source = nested([OPENERS[0]] * 30, [True] * 30, "opt = torch.optim.SGD(params, lr=0.1)")
    assert codes_at(lint(source), "OPT009") == [len(source.splitlines())]


@FEW
@given(st.lists(st.tuples(st.sampled_from(OPENERS), st.booleans()), min_size=20, max_size=32))
def test_any_nesting_of_blocks_with_generator_reuse_is_analysed_in_bounded_time(levels):
    openers = [OPENERS[0], *(opener for opener, _ in levels)]  # at least one loop
    carriers = [False, *(carrier for _, carrier in levels)]
    source = nested(openers, carriers, "opt = torch.optim.SGD(params, lr=0.1)")
    # Reported when every path through the innermost loop's body uses `params`: only `with` lies between.
    innermost_loop = max(i for i, opener in enumerate(openers) if opener in OPENERS[:2])
    reported = all(opener == "with ctx{i}:" for opener in openers[innermost_loop + 1:])
    innermost = len(source.splitlines()) - 2 * openers.count("try:")
    assert codes_at(lint(source), "OPT009") == ([innermost] if reported else [])


@FEW
@given(st.lists(st.sampled_from(OPENERS), min_size=20, max_size=32))
def test_deeply_nested_steps_in_helpers_are_analysed_in_bounded_time(openers):
    body = nested(openers, [False] * len(openers), "h(optimizer)").replace("import torch\n", "")
    indented = "\n".join("    " + line for line in body.splitlines())
    source = f"def h(opt):\n    opt.step()\n    opt.step()\ndef train():\n{indented}\n    scheduler.step()\n"
    source += "for x in loader:\n    scheduler.step()\n    train()\n"
    assert codes_at(lint(source), "OPT011") == [len(source.splitlines()) - 1]


# -- globs ------------------------------------------------------------------------------------------
def test_a_glob_with_many_stars_does_not_backtrack(tmp_path):
    patterns = PathPatterns(["*a*a*a*a*a*a*a*a*a*a*a*a*b", "deep/**/*a*a*a*a*a*a*a*a*a*a*a*a*b"], tmp_path)
    name = "a" * 61 + ".py"
    with finishes_within(BOUND_S):
        assert not patterns.matches(str(tmp_path / name))
        assert not patterns.matches(str(tmp_path / "deep" / ("a" * 30) / name))
        assert patterns.matches(str(tmp_path / (name + "b")))


def reference_regex(pattern: str) -> str:
    """The documented meaning as a regex (backtracking, so only for short inputs)."""
    translate = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    out = []
    for token in re.split(r"(\*\*/|\*\*|\*|\?|\[!?[^\]]+\])", pattern):
        if token in translate:
            out.append(translate[token])
        elif token.startswith("[") and token.endswith("]") and len(token) > 2:
            out.append("[^" + token[2:] if token.startswith("[!") else token)
        else:
            out.append(re.escape(token))
    return "".join(out)


GLOB_PIECES = st.sampled_from(["a", "b", ".", "/", "*", "**", "**/", "?", "[ab]", "[!a]", "["])


@FUZZ
@given(st.lists(st.lists(GLOB_PIECES, max_size=6).map("".join), min_size=1, max_size=3),
       st.text("ab/.[", max_size=10))
def test_globs_mean_what_the_documented_translation_means(patterns, text):
    expected = re.fullmatch("|".join(f"(?:{reference_regex(p)})" for p in patterns if p) or r"(?!)", text)
    assert Globs(patterns).fullmatch(text) == bool(expected)


@FUZZ
@given(stars=st.integers(10, 30), separator=st.sampled_from(["a", "ab", "?", "[ab]", "/"]),
       length=st.integers(64, 400), last=st.sampled_from(["b", "/", "**"]))
def test_long_star_patterns_against_long_names_finish_quickly(stars, separator, length, last):
    pattern = "*" + f"{separator}*" * stars + last
    with finishes_within(BOUND_S):
        matched = Globs([pattern]).fullmatch("a" * length)
    assert matched == (last == "**" and separator in ("a", "?", "[ab]"))


@FUZZ
@given(stars=st.integers(5, 20), segments=st.integers(8, 40))
def test_many_double_stars_against_deep_paths_finish_quickly(stars, segments):
    path = "/".join(["a" * 12] * segments)
    with finishes_within(BOUND_S):
        assert not Globs(["**/*a" * stars + "b"]).fullmatch(path)
        assert Globs(["**/*a" * min(stars, segments)]).fullmatch(path)
