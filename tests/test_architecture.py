"""The layering of optlint/: no import cycle; the commands that need neither pass import neither libcst nor torch."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optlint"
HEAVY = {"libcst", "torch"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module an import anywhere in the file names (in functions and `if TYPE_CHECKING:` too):
    `from a import b` names `a` and, when it is a module, `a.b`."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: (imported_names(path) & modules.keys()) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a], or None (depth-first search, colouring each module)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return [*stack[stack.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[name] = "done"
        stack.pop()
        return None

    return next((cycle for name in sorted(graph) if name not in state and (cycle := visit(name))), None)


def test_the_import_graph_sees_relative_deferred_and_type_checking_imports(tmp_path):
    module = tmp_path / "optlint" / "static" / "sample.py"
    module.parent.mkdir(parents=True)
    module.write_text("from typing import TYPE_CHECKING\nfrom . import rule\nfrom ..findings import Finding\n"
                      "if TYPE_CHECKING:\n    from optlint.static.engine import FileContext\n"
                      "def later():\n    import optlint.registry\n")
    names = imported_names(module, root=tmp_path / "optlint")
    assert {"optlint.static.rule", "optlint.findings", "optlint.static.engine", "optlint.registry"} <= names


def test_a_cycle_is_found_and_a_chain_is_not():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_optlint_has_no_import_cycle():
    graph = import_graph()
    assert {"optlint.registry", "optlint.findings", "optlint.static.rule", "optlint.static.engine"} <= graph.keys()
    assert "optlint.registry" in graph["optlint.findings"]  # the graph holds real edges
    assert find_cycle(graph) is None


def modules_after(tmp_path: Path, code: str) -> set[str]:
    """The top-level modules a fresh interpreter holds after running `code` (a SystemExit is expected)."""
    probe = f"import json, sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
    return {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}


PLAIN = "import os\n\nprint(os.getcwd())\n"


@pytest.mark.parametrize("args", [
    ["rules"],
    ["rules", "--output-format", "json"],
    ["explain", "OPT011"],
    ["explain", "OPT101"],
    ["explain", "--all", "--output-format", "json"],
    ["check", "--no-cache", "--select", "OPT011,OPT1", "--ignore", "OPT0", "plain.py"],
    ["check", "--no-cache", "--select", "OPT9", "plain.py"],  # a bad selector: exit 2
    ["check", "--no-cache", "--output-format", "json", "plain.py"],
])
def test_commands_that_need_no_pass_import_neither_libcst_nor_torch(tmp_path, args):
    (tmp_path / "plain.py").write_text(PLAIN, encoding="utf-8")
    modules = modules_after(tmp_path, f"from optlint.cli import main; main({args!r})")
    assert "optlint" in modules and "click" in modules
    assert not modules & HEAVY


def test_a_finding_knows_its_name_and_severity_without_either_pass(tmp_path):
    code = ("from optlint.findings import Finding; f = Finding('OPT101', 'm'); "
            "assert (f.name, str(f.severity)) == ('param-not-in-optimizer', 'error')")
    assert not modules_after(tmp_path, code) & HEAVY


def test_every_documented_runtime_name_is_exported_without_importing_torch(tmp_path):
    code = "import optlint; assert 'SchedulerSimulationError' in optlint.__all__"
    assert "torch" not in modules_after(tmp_path, code)
    pytest.importorskip("torch")
    import optlint
    from optlint.runtime.api import SchedulerSimulationError

    assert optlint.SchedulerSimulationError is SchedulerSimulationError
    assert issubclass(SchedulerSimulationError, ValueError)
