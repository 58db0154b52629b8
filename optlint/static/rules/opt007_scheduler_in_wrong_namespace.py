from typing import Iterator

import libcst as cst

from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Replace, Rule
from optlint.static.semantic import LR_SCHEDULER, OPTIM, Scope, dotted


class SchedulerInWrongNamespace(Rule):
    """A scheduler class looked up on `torch.optim` (`torch.optim.StepLR`, `from torch.optim import StepLR`).

    Schedulers live in `torch.optim.lr_scheduler`; `torch.optim` itself has no such attribute.
    """

    code = "OPT007"

    VALID = (
        Valid("""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, 10)
        """),
        Valid("""
            from torch.optim.lr_scheduler import ReduceLROnPlateau
            s = ReduceLROnPlateau(opt)
        """),
        Valid("""
            from torch.optim import lr_scheduler
            s = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)
        """),
        Valid("""
            from torch import optim
            opt = optim.SGD(p, lr=0.1)
        """),
        # Another package's `optim` module is not torch's.
        Valid("""
            from mypkg import optim
            s = optim.StepLR(opt, 10)
        """),
        Valid("""
            import torch
            torch = load_plugins()
            s = torch.optim.StepLR(opt, 10)
        """),
        # Annotations are left to type checkers (postponed ones are never evaluated).
        Valid("""
            from __future__ import annotations
            import torch
            def f(s: torch.optim.StepLR) -> None:
                pass
        """),
    )
    INVALID = (
        Invalid("""
            import torch
            s = torch.optim.StepLR(opt, step_size=10)
        """, at="2:5", fixed="""
            import torch
            s = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
        """),
        Invalid("""
            import torch.optim as optim
            s = optim.ReduceLROnPlateau(opt, patience=3)
        """, at="2:5", fixed="""
            import torch.optim as optim
            s = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=3)
        """),
        Invalid("""
            from torch import optim
            if isinstance(s, optim.CosineAnnealingLR):
                pass
        """, at="2:18", fixed="""
            from torch import optim
            if isinstance(s, optim.lr_scheduler.CosineAnnealingLR):
                pass
        """),
        Invalid("""
            from torch.optim import StepLR
            s = StepLR(opt, 10)
        """, at="1:25", fixed="""
            from torch.optim.lr_scheduler import StepLR
            s = StepLR(opt, 10)
        """),
        Invalid("""
            from torch.optim import AdamW, OneCycleLR as OneCycle
            s = OneCycle(opt, 0.1, total_steps=10)
        """, at="1:32", fixed="""
            from torch.optim import AdamW
            from torch.optim.lr_scheduler import OneCycleLR as OneCycle
            s = OneCycle(opt, 0.1, total_steps=10)
        """),
        Invalid("""
            import torch
            SCHEDULERS = {'step': torch.optim.StepLR, 'cosine': torch.optim.CosineAnnealingLR}
        """, at=("2:23", "2:53"), fixed="""
            import torch
            SCHEDULERS = {'step': torch.optim.lr_scheduler.StepLR, 'cosine': torch.optim.lr_scheduler.CosineAnnealingLR}
        """),
        Invalid("""
            import functools, torch
            make = functools.partial(torch.optim.ExponentialLR, gamma=0.9)
        """, at="2:26", fixed="""
            import functools, torch
            make = functools.partial(torch.optim.lr_scheduler.ExponentialLR, gamma=0.9)
        """),
        Invalid("""
            from torch import optim
            class Warmup(optim.LambdaLR):
                pass
        """, at="2:14", fixed="""
            from torch import optim
            class Warmup(optim.lr_scheduler.LambdaLR):
                pass
        """),
        Invalid("""
            import torch
            ok = isinstance(s, (torch.optim.lr_scheduler.StepLR, torch.optim.OneCycleLR))
        """, at="2:54", fixed="""
            import torch
            ok = isinstance(s, (torch.optim.lr_scheduler.StepLR, torch.optim.lr_scheduler.OneCycleLR))
        """),
        # The import moves to lr_scheduler with its alias.
        Invalid("""
            from torch.optim import StepLR as Step
        """, at="1:25", fixed="""
            from torch.optim.lr_scheduler import StepLR as Step
        """),
        # An import mixing optimizers and schedulers is split.
        Invalid("""
            import torch
            from torch.optim import AdamW, OneCycleLR, SGD
        """, at="2:32", fixed="""
            import torch
            from torch.optim import AdamW, SGD
            from torch.optim.lr_scheduler import OneCycleLR
        """),
        # A parenthesised import keeps its layout when split.
        Invalid("""
            from torch.optim import (
                AdamW,
                StepLR,
                SGD,
            )
        """, at="3:5", fixed="""
            from torch.optim import (
                AdamW,
                SGD,
            )
            from torch.optim.lr_scheduler import StepLR
        """),
        # A mixed import inside a block is not split (that needs its indentation): no fix.
        Invalid("""
            def build():
                from torch.optim import SGD, StepLR
        """, at="2:34", message="this import raises ImportError"),
    )

    def check(self, ctx) -> None:
        model = ctx.model
        misplaced = set(ctx.facts.schedulers) - ctx.facts.optim_namespace
        for expr, scope in _lookups(model):
            if (
                isinstance(expr, cst.Attribute)
                and expr.attr.value in misplaced
                and model.qualname(expr.value, scope) == OPTIM
            ):
                _report_attribute(ctx, expr)
        imported = {qualname for scope in model.scopes for qualname in scope.imports.values()}
        if any(f"{OPTIM}.{name}" in imported for name in misplaced):
            for node in model.import_froms:
                _report_import(ctx, node, misplaced)


def _lookups(model) -> Iterator[tuple[cst.BaseExpression, Scope]]:
    """Where classes are looked up in practice, without walking the file again: called, passed
    (`isinstance(s, (A, B))`, `partial(A, ...)`), assigned, or subclassed. Annotations are not."""
    for site in model.calls:
        yield site.node.func, site.scope
        for arg in site.node.args:
            yield from _with_elements(arg.value, site.scope)
    for scope in model.scopes:
        for assignments in (*scope.assignments.values(), *scope.attributes.values()):
            for assignment in assignments:
                yield from _with_elements(assignment.value, assignment.resolution_scope)
    for node, scope in model.classes.values():
        for base in node.bases:
            yield base.value, scope


def _with_elements(expr: cst.BaseExpression, scope: Scope) -> Iterator[tuple[cst.BaseExpression, Scope]]:
    yield expr, scope
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        for element in expr.elements:
            yield element.value, scope
    elif isinstance(expr, cst.Dict):
        for element in expr.elements:
            if isinstance(element, cst.DictElement):
                yield element.value, scope


def _report_attribute(ctx, expr: cst.Attribute) -> None:
    name = expr.attr.value
    ctx.report(
        expr,
        f"`torch.optim` has no `{name}`: torch raises AttributeError. It lives in `torch.optim.lr_scheduler`.",
        hint=f"Write `{dotted(expr.value)}.lr_scheduler.{name}`.",
        fix=f"Look `{name}` up on `lr_scheduler`",
        edits=[Replace(expr.attr, f"lr_scheduler.{name}")],
    )


def _report_import(ctx, node: cst.ImportFrom, misplaced: set[str]) -> None:
    if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
        return
    if dotted(node.module) != OPTIM:
        return
    moved = [alias for alias in node.names if dotted(alias.name) in misplaced]
    if not moved:
        return
    fix = {"fix": "Import it from `torch.optim.lr_scheduler`", "edits": _moved_import(ctx.module, node, moved)}
    for alias in moved:
        name = dotted(alias.name)
        ctx.report(
            alias,
            f"`torch.optim` has no `{name}`: this import raises ImportError."
            " It lives in `torch.optim.lr_scheduler`.",
            hint=f"Write `from torch.optim.lr_scheduler import {name}`.",
            **(fix if fix["edits"] else {}),
        )


def _moved_import(module: cst.Module, node: cst.ImportFrom, moved: list[cst.ImportAlias]) -> list[Replace]:
    """The edit that imports the scheduler classes from `lr_scheduler` (none when it is not safe)."""
    kept = [alias for alias in node.names if alias not in moved]
    if not kept:
        return [Replace(node.module, LR_SCHEDULER)]
    line = _top_level_line(module, node)
    if line is None or "#" in module.code_for_node(node):
        return []  # splitting would need the statement's indentation or drop a comment
    first = node.with_changes(names=_joined(kept, node.names[-1].comma))
    single_line = [alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for alias in moved]
    second = cst.ImportFrom(module=cst.parse_expression(LR_SCHEDULER), names=_joined(single_line))
    newline = line.trailing_whitespace.newline.value or module.default_newline  # the line's own \r\n, \r or \n
    return [Replace(node, f"{module.code_for_node(first)}{newline}{module.code_for_node(second)}")]


def _top_level_line(module: cst.Module, node: cst.ImportFrom) -> cst.SimpleStatementLine | None:
    """The top-level line that holds `node` and nothing else, if there is one."""
    return next((statement for statement in module.body
                 if isinstance(statement, cst.SimpleStatementLine) and list(statement.body) == [node]), None)


def _joined(aliases: list[cst.ImportAlias], last_comma=cst.MaybeSentinel.DEFAULT) -> list[cst.ImportAlias]:
    """The aliases as one list: their own commas, the last one ending it as the original list did."""
    return [alias.with_changes(comma=last_comma) if alias is aliases[-1] else alias for alias in aliases]
