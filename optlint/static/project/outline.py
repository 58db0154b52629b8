"""The summary of a module that builds no optimizer or scheduler and steps nothing, read from CPython's tree.

Most modules a training script imports (`utils`, `logging`, a 3,000-line `training_args.py`) hold
neither: their summary only lists signatures (no steps, nothing returned, no object). CPython parses
a file some ten times faster than libcst, so such a module is outlined from its `ast` tree, and only a
module with a *seed* gets libcst and the semantic model (`summary.summarise`). The seeds are every
call that `summarise` can start from:

- a torch optimizer or scheduler class called, by its name or an import alias (`AdamW(...)`,
  `optim.AdamW(...)`, `A(...)` after `from torch.optim import AdamW as A`): without one, the semantic
  model finds no instance, so nothing is returned or exposed;
- a step call, `x.step(...)` or `x.*optimizer_step(...)`, or a configured step name: without one, no
  function steps anything;
- a class with such a torch class among its bases (`class Warmup(LambdaLR)`): without one, no class
  is a subclass of a torch scheduler.

Strings and comments are not code, so a docstring that mentions `AdamW` seeds nothing. What a
function restores or saves (`state_parameters`) is read from CPython's tree for every module alike.
`tests/test_project_outline.py` checks that the outline equals `summarise` on every fixture.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def has_seed(tree: ast.Module, torch_classes: frozenset[str], step_names: tuple[str, ...]) -> bool:
    """Whether some call or class in the tree could make `summarise` find an instance, a step or a
    scheduler subclass."""
    seeds = set(torch_classes) | {name.rpartition(".")[2] for name in step_names}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                if _is_step_method(func.attr):
                    return True
                used.add(func.attr)
            elif isinstance(func, ast.Name):
                used.add(func.id)
        elif isinstance(node, ast.ClassDef):
            used.update(_last_name(base) for base in node.bases)
        elif isinstance(node, ast.ImportFrom):  # `from torch.optim import AdamW as A`: `A(...)` builds one
            seeds.update(alias.asname for alias in node.names if alias.asname and alias.name in torch_classes)
    return not seeds.isdisjoint(used)


def _last_name(expr: ast.expr) -> str:
    return expr.attr if isinstance(expr, ast.Attribute) else expr.id if isinstance(expr, ast.Name) else ""


def outline(tree: ast.Module) -> dict:
    """What `summarise` gives for a module without seeds: each function's and class's signature."""
    functions, classes = {}, {}
    for node in _defined_in(tree.body):
        if isinstance(node, _FUNCTIONS):
            functions[node.name] = {**_parameters(node.args), "steps": [], "returns": None}
    for node, in_module in _classes_in(tree.body, True):
        classes.pop(node.name, None)  # the last class of a name is the one the file's names reach
        if in_module:
            classes[node.name] = node
    return {"functions": functions,
            "classes": {name: {**_constructor(node), "methods": {}} for name, node in classes.items()},
            "objects": {}}


def state_parameters(tree: ast.Module) -> dict[str, dict[str, list]]:
    """For each module function (the last of a name), the parameters whose state it restores
    (`optimizer.load_state_dict(checkpoint["optimizer"])`) and saves (`optimizer.state_dict()` in a
    function that calls `torch.save`), each with the line of its first such call, under "restores"
    and "saves" (left out when empty). Read from CPython's tree for every module, seeded or not: a
    checkpoint helper builds and steps nothing."""
    functions = {node.name: node for node in _defined_in(tree.body) if isinstance(node, _FUNCTIONS)}
    found = {name: _state_uses(node) for name, node in functions.items()}
    return {name: uses for name, uses in found.items() if uses}


def _state_uses(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list]:
    parameters = {a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)}
    uses: dict[str, dict[str, int]] = {"load_state_dict": {}, "state_dict": {}}
    rebound, saves = set(), False
    for node in _own_nodes(function.body):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            rebound.add(node.id)
        elif isinstance(node, _SCOPES):
            rebound.add(node.name)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver, method = node.func.value, node.func.attr
            if method == "save" and isinstance(receiver, ast.Name) and receiver.id == "torch":
                saves = True
            elif method in uses and isinstance(receiver, ast.Name) and receiver.id in parameters:
                uses[method].setdefault(receiver.id, node.lineno)
    found = {"restores": uses["load_state_dict"], "saves": uses["state_dict"] if saves else {}}
    return {key: [[name, line] for name, line in lines.items() if name not in rebound]
            for key, lines in found.items() if set(lines) - rebound}


def _own_nodes(statements: list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a function's body, not those of the functions, lambdas and classes it defines."""
    pending: list[ast.AST] = list(reversed(statements))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (*_SCOPES, ast.Lambda)):
            pending.extend(reversed(list(ast.iter_child_nodes(node))))


def _is_step_method(name: str) -> bool:
    return name == "step" or name.endswith("optimizer_step")


def _parameters(arguments: ast.arguments, skip_self: bool = False) -> dict:
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    keyword = [a.arg for a in (*arguments.args, *arguments.kwonlyargs)]
    if skip_self and positional:
        first = positional.pop(0)
        keyword = [k for k in keyword if k != first]
    return {"positional": positional, "keyword": keyword}


def _constructor(node: ast.ClassDef) -> dict:
    inits = [n for n in _defined_in(node.body) if isinstance(n, _FUNCTIONS) and n.name == "__init__"]
    return _parameters(inits[-1].args, skip_self=True) if inits else {"positional": [], "keyword": []}


def _defined_in(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The definitions a scope binds, in source order: its own statements and those of its `if`,
    `for`, `while`, `with`, `try` and `match` blocks, not those of nested functions and classes."""
    for statement in statements:
        if isinstance(statement, _SCOPES):
            yield statement
        else:
            for block in _blocks(statement):
                yield from _defined_in(block)


def _classes_in(statements: list[ast.stmt], in_module: bool) -> Iterator[tuple[ast.ClassDef, bool]]:
    """Every class of the file in source order, with whether the module scope binds it."""
    for statement in statements:
        if isinstance(statement, ast.ClassDef):
            yield statement, in_module
            yield from _classes_in(statement.body, False)
        elif isinstance(statement, _FUNCTIONS):
            yield from _classes_in(statement.body, False)
        else:
            for block in _blocks(statement):
                yield from _classes_in(block, in_module)


def _blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    """A compound statement's blocks in source order (none for a simple statement)."""
    if isinstance(statement, ast.Match):
        return [case.body for case in statement.cases]
    handlers = [handler.body for handler in getattr(statement, "handlers", ())]
    body, orelse, final = (getattr(statement, name, []) for name in ("body", "orelse", "finalbody"))
    return [block for block in (body, *handlers, orelse, final) if block]
