from __future__ import annotations

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Rule
from optlint.static.semantic import OPTIMIZER, SCHEDULER, Construction, constructions, number_literal

# The arguments each class writes into every group's `lr` when it is built.
OVERRIDING_ARGUMENTS = {"OneCycleLR": ("max_lr",), "CyclicLR": ("base_lr", "max_lr")}


class SchedulerOverridesGroupLrs(Rule):
    """OneCycleLR/CyclicLR with one scalar LR, bound to an optimizer whose groups set different LRs."""

    code = "OPT016"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'lr': 1e-4}, {'params': b, 'lr': 1e-2}], lr=0.1)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[1e-3, 1e-1], total_steps=100)
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'weight_decay': 0.0}, {'params': b}], lr=0.1)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'lr': lr}, {'params': b, 'lr': lr}], lr=lr)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=100)
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'lr': 1e-5}, {'params': b, 'lr': 1e-3}])
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=100)
        """, at="3:57"),
        Invalid("""
            from torch.optim import SGD
            from torch.optim.lr_scheduler import CyclicLR
            opt = SGD([{'params': a, 'lr': 0}, {'params': b}], lr=0.1)
            sched = CyclicLR(opt, 1e-4, 1e-2)
        """, at="4:23"),
        Invalid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'lr': base * 0.1}, {'params': b}], lr=base)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=base, total_steps=100)
        """, at="3:57"),
        # Built where no name holds it (Lightning's `configure_optimizers`).
        Invalid("""
            import torch
            def configure_optimizers(model):
                opt = torch.optim.AdamW([{'params': model.body.parameters(), 'lr': 1e-5}, {'params': model.head.parameters()}], lr=1e-3)
                return [opt], [torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-3, total_steps=100)]
        """, at="4:68"),
    )

    def check(self, ctx) -> None:
        by_call = {c.call: c for c in constructions(ctx.model)}
        for scheduler in ctx.model.scheduler_builds():
            arguments = OVERRIDING_ARGUMENTS.get(scheduler.cls or "")
            if not arguments or scheduler.optimizer is None or scheduler.optimizer.call not in by_call:
                continue
            scope = scheduler.assignment.resolution_scope
            given = [ctx.model.torch_argument(scheduler.call, SCHEDULER, scheduler.cls, name) for name in arguments]
            scalars = [g for g in given if g is not None and _is_scalar(ctx.model, g, scope)]
            if not scalars:
                continue
            problem = _differential_lrs(ctx.model, by_call[scheduler.optimizer.call])
            if problem:
                ctx.report(
                    scalars[0],
                    f"`{scheduler.cls}` with one scalar LR overwrites every group's `lr` when it is built, "
                    f"but the groups of its `{scheduler.optimizer.cls}` {problem}.",
                    hint="Pass one value per group (`max_lr=[1e-5, 1e-3]`, in group order) to keep the ratios.",
                )


def _is_scalar(model, expr: cst.BaseExpression, scope) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple, cst.ListComp, cst.GeneratorExp)):
        return False
    if isinstance(expr, (cst.Name, cst.Attribute)):
        values = [a.value for a in model.values_of(expr, scope)]
        if values:
            return all(_is_scalar(model, v, scope) for v in values)
        name = expr.value if isinstance(expr, cst.Name) else expr.attr.value
        return not name.endswith("s")  # `max_lrs`, `lrs`: probably one per group
    return True


def _differential_lrs(model, construction: Construction) -> str | None:
    """'set different LRs' / 'include one at lr=0' when the groups provably do, else None."""
    dict_groups = [g for g in construction.groups if g.is_dict]
    if not dict_groups:
        return None
    default = model.torch_argument(construction.call, OPTIMIZER, construction.cls, "lr")
    values = []
    for group in dict_groups:
        lr = group.value("lr")
        if lr is None and group.has_unpacking:
            return None  # `{**base}` may carry an lr we cannot see
        values.append(_symbolic(lr if lr is not None else default))
    if any(v == ("", 0.0) for v in values):
        return "include one at lr=0: torch silently trains that \"frozen\" group too"
    known = [v for v in values if v is not None]
    for i, first in enumerate(known):
        for second in known[i + 1:]:
            if first[0] == second[0] and first[1] != second[1]:
                return "set different LRs: torch silently trains them all on one schedule"
    return None


def _symbolic(expr: cst.BaseExpression | None) -> tuple[str, float] | None:
    """An LR as (base, factor): `1e-3` -> ("", 0.001), `lr * 0.1` -> ("lr", 0.1), `lr` -> ("lr", 1.0)."""
    if expr is None:
        return None
    number = number_literal(expr)
    if number is not None:
        return ("", number)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Multiply, cst.Divide)):
        left, right = number_literal(expr.left), number_literal(expr.right)
        if right is not None and right != 0:
            inner = _symbolic(expr.left)
            factor = right if isinstance(expr.operator, cst.Multiply) else 1 / right
            return (inner[0], inner[1] * factor) if inner else None
        if left is not None and isinstance(expr.operator, cst.Multiply):
            inner = _symbolic(expr.right)
            return (inner[0], inner[1] * left) if inner else None
    text = cst.Module([]).code_for_node(expr)
    return (text, 1.0)
