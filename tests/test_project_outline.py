"""A module without seeds is outlined from CPython's tree: the outline must be the summary libcst gives."""

from __future__ import annotations

import ast
import textwrap
import warnings
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from optlint import facts
from optlint.static.project.outline import has_seed, outline, state_parameters
from optlint.static.project.summary import summarise
from optlint.static.semantic.model import SemanticModel

ROOT = Path(__file__).resolve().parent.parent
# hypothesmith compiles what it generates: Python's warnings about that code are noise here.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")
TORCH = facts.load(None)
CLASSES = frozenset((*TORCH.optimizers, *TORCH.schedulers))
PYTHON_FILES = sorted(p for folder in ("fixtures", "rules", "optlint", "tests", "benchmarks")
                      for p in (ROOT / folder).rglob("*.py"))


def full_summary(source: str, configured: dict | None = None) -> dict:
    return summarise(SemanticModel(cst.parse_module(source), TORCH), configured or {})


def tree_of(source: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def tells_more_than_signatures(summary: dict) -> bool:
    return bool(summary["objects"]
                or any(f["steps"] or f["returns"] is not None for f in summary["functions"].values())
                or any(c["methods"] or "scheduler" in c for c in summary["classes"].values()))


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_project_file_is_outlined_as_summarised_or_has_a_seed(path):
    source = path.read_text(encoding="utf-8")
    try:
        tree = tree_of(source)
    except SyntaxError:
        pytest.skip("not Python")
    summary = full_summary(source)
    if has_seed(tree, CLASSES, ()):
        return
    assert not tells_more_than_signatures(summary)
    assert outline(tree) == summary


# What CPython's tree and libcst's scopes could read differently: where a definition stands, and
# which of two of a name wins.
SIGNATURES = '''
import torch

def plain(a, b=1, *args, c, d=2, **kwargs): ...
async def coroutine(x, /, y, *, z): ...
def posonly(a, b, /): ...

def twice(first): ...
def twice(second, third): ...

if torch.cuda.is_available():
    def branch(gpu): ...
else:
    def branch(cpu, fallback): ...

try:
    from fast import helper
except ImportError:
    def helper(slow): ...
finally:
    def cleanup(at_exit): ...

for _ in range(1):
    def in_loop(i): ...
else:
    def after_loop(j): ...

while False:
    def in_while(w): ...

with open(__file__) as handle:
    def in_with(h): ...

match torch.__version__:
    case "2":
        def in_case(c): ...
    case _:
        class InCase:
            def __init__(self, v): ...

class Model(torch.nn.Module):
    """Trains with AdamW: `opt.step()` after `loss.backward()`."""
    if torch.cuda.is_available():
        def __init__(self, cuda, *, flag=False): ...
    else:
        def __init__(self, cpu): ...

class Hidden:
    def forward(self, x):
        class Hidden:  # a nested class of the same name: the file's names reach the last one
            pass
        return x

class Shadowed:
    def __init__(self, kept): ...

def make():
    class Shadowed:  # nested in a function: not the module's
        pass
    return Shadowed

class NoInit:
    x = 1

class StaticInit:
    @staticmethod
    def __init__(): ...

lambda_value = lambda q: q
'''


def test_signatures_wherever_defined_are_outlined_as_summarised():
    tree = tree_of(SIGNATURES)
    assert not has_seed(tree, CLASSES, ())
    assert outline(tree) == full_summary(SIGNATURES)


@given(hypothesmith.from_grammar())
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_pythons_are_outlined_as_summarised(source):
    try:
        tree = tree_of(source)
        summary = full_summary(source)
    except (SyntaxError, ValueError, cst.ParserSyntaxError, RecursionError):
        return
    if not has_seed(tree, CLASSES, ()):
        assert outline(tree) == summary


@pytest.mark.parametrize("source, configured", [
    ("from torch.optim import AdamW\ndef build(m):\n    return AdamW(m.parameters())\n", {}),
    ("from torch.optim import AdamW as A\ndef build(m):\n    return A(m.parameters())\n", {}),
    ("import torch\ndef build(m):\n    return torch.optim.SGD(m.parameters(), lr=0.1)\n", {}),
    ("from torch.optim import lr_scheduler as ls\ndef build(o):\n    return ls.StepLR(o, 3)\n", {}),
    ("import torch\nOPT = torch.optim.Adam(torch.nn.Linear(1, 1).parameters())\n", {}),
    ("def train(opt):\n    opt.step()\n", {}),
    ("def train(optimizer):\n    xm.optimizer_step(optimizer)\n", {}),
    ("def train(optimizer, scaler):\n    scaler.step(optimizer)\n", {}),
    ("class Loop:\n    def __init__(self, optimizer):\n        self.optimizer = optimizer\n"
     "    def run(self):\n        self.optimizer.step()\n", {}),
    ("from torch.optim.lr_scheduler import LambdaLR\nclass Warmup(LambdaLR):\n    pass\n", {}),
    ("import torch\nclass Base(torch.optim.lr_scheduler.StepLR):\n    pass\nclass Warmup(Base):\n    pass\n", {}),
])
def test_each_seed_is_seen_where_the_summary_says_more(source, configured):
    assert tells_more_than_signatures(full_summary(source, configured))
    assert has_seed(tree_of(source), CLASSES, tuple(configured.get("optimizer_step_names", ())))


def test_a_configured_step_name_is_a_seed():
    source = "def train(engine):\n    engine.advance(1)\n"
    assert not has_seed(tree_of(source), CLASSES, ())
    assert has_seed(tree_of(source), CLASSES, ("engine.advance",))


def test_torch_names_in_strings_and_comments_seed_nothing():
    source = textwrap.dedent('''
        """Build AdamW(model.parameters()) and call optimizer.step() each batch."""
        # scheduler.step() after optimizer.step()
        HELP = "torch.optim.SGD(params, lr=0.1)"
        def describe(): return "opt.step()"
    ''')
    assert not has_seed(tree_of(source), CLASSES, ())


def test_state_parameters_are_those_a_function_loads_a_state_into_or_saves_the_state_of():
    source = textwrap.dedent("""
        def load(model, optimizer, path, scaler):
            state = torch.load(path)
            model.load_state_dict(state["model"])
            if "optimizer" in state:
                optimizer.load_state_dict(state["optimizer"])
            optimizer.load_state_dict(state["again"])
            scaler = GradScaler()
            scaler.load_state_dict(state["scaler"])  # a new object, not the one given
            def later(ema):
                ema.load_state_dict(state["ema"])  # runs elsewhere, if ever
        def load(model, optimizer):
            optimizer.load_state_dict(torch.load("last.pt"))  # the definition the module keeps
        def save(model, optimizer, epoch):
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}
            torch.save(state, "last.pt")
        def log(optimizer):
            print(optimizer.state_dict())  # read, not saved
    """)
    assert state_parameters(tree_of(source)) == {
        "load": {"restores": [["optimizer", 13]]},
        "save": {"saves": [["model", 15], ["optimizer", 15]]},
    }
    first_only = source.split("def load(model, optimizer):")[0]
    assert state_parameters(tree_of(first_only))["load"] == {"restores": [["model", 4], ["optimizer", 6]]}
