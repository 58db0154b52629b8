"""Units of a scheduler's horizon and the guards of an accumulation loop (OPT021, OPT022).

A horizon is "batches" or "epochs" only where its text proves it: a name that says so
(`steps_per_epoch`, `max_steps`, `len(train_loader)`, `args.epochs`), or the bound of the epoch loop
itself, followed through plain assignments of the same file. Anything else (a config field named
`T_max`, a literal, a parameter) has no unit here, so the rules that ask stay silent.
"""

from __future__ import annotations

import re

import libcst as cst

from optlint.static.semantic.expressions import call_method, dotted, is_none, terminal_name
from optlint.static.semantic.model import SemanticModel
from optlint.static.semantic.scopes import Scope
from optlint.static.walk import walk

BATCHES, EPOCHS = "batches", "epochs"

_BATCH_NAME = re.compile(
    r"^((num|n|max|total)_(train_|training_|update_|optimization_)?(steps|iters|iterations|batches)(_per_epoch)?"
    r"|(steps|iters|iterations|batches|updates)_per_epoch|estimated_stepping_batches|num_training_steps)$"
)
_EPOCH_NAME = re.compile(r"^((num|n|max|total)_)?(train_|training_)?epochs?$")
_LOADER_NAME = re.compile(r"loader|dataloader|^dl$|_dl$|batches")
_FOLLOW = 3  # assignments followed from a name to its value


def horizon_unit(model: SemanticModel, expr: cst.BaseExpression, scope: Scope,
                 epoch_bounds: tuple[str, ...] = ()) -> str | None:
    """BATCHES when the expression counts batches anywhere, EPOCHS when it counts only epochs (names
    of epochs, the code of an epoch loop's bound, integer literals), None when its unit is not proved."""
    units = _units(model, expr, scope, epoch_bounds, _FOLLOW)
    if units is None or not units:
        return None
    return BATCHES if BATCHES in units else EPOCHS


def _units(model, expr, scope, epoch_bounds, follow) -> set[str] | None:
    """The units of the leaves of `expr`; None when a leaf has none."""
    if model.module.code_for_node(expr) in epoch_bounds:
        return {EPOCHS}
    if isinstance(expr, (cst.Integer, cst.Float)):
        return set()
    if isinstance(expr, (cst.List, cst.Tuple)):  # milestones
        parts = [_units(model, e.value, scope, epoch_bounds, follow) for e in expr.elements]
        return None if not parts or any(p is None for p in parts) else set().union(*parts)
    if isinstance(expr, cst.Call):
        return _call_units(model, expr, scope, epoch_bounds, follow)
    if isinstance(expr, cst.BinaryOperation):
        left = _units(model, expr.left, scope, epoch_bounds, follow)
        right = _units(model, expr.right, scope, epoch_bounds, follow)
        return None if left is None or right is None else left | right
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return _name_units(model, expr, scope, epoch_bounds, follow)
    return None


def _call_units(model, call, scope, epoch_bounds, follow) -> set[str] | None:
    if model.is_builtin(call.func, "len", scope) and len(call.args) == 1:
        return {BATCHES} if _LOADER_NAME.search((terminal_name(call.args[0].value) or "").lower()) else None
    name = model.builtin_name(call.func, scope) or dotted(call.func)
    if name in ("int", "round", "math.ceil", "math.floor", "max", "min") and call.args:
        parts = [_units(model, a.value, scope, epoch_bounds, follow) for a in call.args]
        return None if any(p is None for p in parts) else set().union(*parts)
    return None


def _name_units(model, expr, scope, epoch_bounds, follow) -> set[str] | None:
    """What the name's assignments in this file count; failing those, what its name says."""
    values = model.values_of(expr, scope) if follow else []
    found = [_units(model, a.value, a.resolution_scope, epoch_bounds, follow - 1) for a in values]
    if found and all(units is not None for units in found):
        # branches that disagree have no one unit
        return found[0] if len({frozenset(u) for u in found}) == 1 else None
    name = (terminal_name(expr) or "").lower()
    if _BATCH_NAME.match(name):
        return {BATCHES}
    if _EPOCH_NAME.match(name):
        return {EPOCHS}
    return None


def range_bound(model: SemanticModel, loop: cst.For | cst.While, scope: Scope) -> cst.BaseExpression | None:
    """`n` for `for x in range(n)` or `range(start, n)`."""
    if not isinstance(loop, cst.For) or not isinstance(loop.iter, cst.Call):
        return None
    func, args = loop.iter.func, loop.iter.args
    if model.is_builtin(func, "range", scope) and len(args) in (1, 2) and not args[-1].star:
        return args[-1].value
    return None


def is_epoch_loop(model: SemanticModel, loop: cst.For | cst.While, scope: Scope) -> bool:
    """`for epoch in range(n)`, or a range over a count of epochs (`range(args.epochs)`)."""
    bound = range_bound(model, loop, scope)
    if bound is None:
        return False
    target = loop.target.value.lower() if isinstance(loop.target, cst.Name) else ""
    return bool(_EPOCH_NAME.match(target)) or horizon_unit(model, bound, scope) == EPOCHS


def is_accumulation_guard(test: cst.BaseExpression) -> bool:
    """`(i + 1) % accum == 0`, `step % grad_accum_steps == 0`, `accelerator.sync_gradients`, and
    either joined to another test by `and`/`or`."""
    if isinstance(test, cst.BooleanOperation):
        return is_accumulation_guard(test.left) or is_accumulation_guard(test.right)
    if isinstance(test, cst.Attribute):
        return test.attr.value == "sync_gradients"
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    left, target = test.left, test.comparisons[0]
    return (isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Modulo)
            and isinstance(target.operator, cst.Equal))


def is_self_check(test: cst.BaseExpression, receiver: str | None) -> bool:
    """`if sched:`, `if sched is not None:` for the scheduler `receiver` (its dotted text)."""
    if receiver is None:
        return False
    if dotted(test) == receiver:
        return True
    return (isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and dotted(test.left) == receiver
            and is_none(test.comparisons[0].comparator))


def calls_in_accumulate(loop: cst.For | cst.While) -> set[cst.Call]:
    """The calls the loop's body makes inside `with accelerator.accumulate(model):`."""
    visitor = _Accumulate()
    walk(loop.body, visitor)
    return visitor.found


class _Accumulate(cst.CSTVisitor):
    def __init__(self):
        self.depth = 0
        self.found: set[cst.Call] = set()

    def visit_With(self, node: cst.With) -> None:
        self.depth += any(_is_accumulate(item.item) for item in node.items)

    def leave_With(self, original_node: cst.With) -> None:
        self.depth -= any(_is_accumulate(item.item) for item in original_node.items)

    def visit_Call(self, node: cst.Call) -> None:
        if self.depth:
            self.found.add(node)


def _is_accumulate(expr: cst.BaseExpression) -> bool:
    method = call_method(expr) if isinstance(expr, cst.Call) else None
    return method is not None and method[1] == "accumulate"


def went_through_prepare(model: SemanticModel, receiver: cst.BaseExpression) -> bool:
    """Whether the file hands `receiver` (by its text) to a `.prepare(...)` call: accelerate wraps a
    scheduler so that its step is skipped while gradients are not synced."""
    name = dotted(receiver)
    for site in model.calls:
        method = call_method(site.node)
        if method is not None and method[1] == "prepare" and any(dotted(a.value) == name for a in site.node.args):
            return True
    return False
