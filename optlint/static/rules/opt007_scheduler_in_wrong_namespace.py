import libcst as cst

from optlint.facts import LR_SCHEDULER, OPTIM
from optlint.findings import Severity
from optlint.static.model import dotted
from optlint.static.rule import Replace, Rule


class SchedulerInWrongNamespace(Rule):
    """A scheduler class looked up on `torch.optim` (`torch.optim.StepLR`, `from torch.optim import StepLR`).

    Schedulers live in `torch.optim.lr_scheduler`; `torch.optim` itself has no such attribute.
    """

    code = "OPT007"
    name = "scheduler-in-wrong-namespace"
    severity = Severity.ERROR
    summary = "An LR scheduler class is looked up on `torch.optim` instead of `torch.optim.lr_scheduler`."

    VALID = (
        "import torch\ns = torch.optim.lr_scheduler.StepLR(opt, 10)",
        "from torch.optim.lr_scheduler import ReduceLROnPlateau\ns = ReduceLROnPlateau(opt)",
        "from torch.optim import lr_scheduler\ns = lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)",
        "from torch import optim\nopt = optim.SGD(p, lr=0.1)",
        # Another package's `optim` module is not torch's.
        "from mypkg import optim\ns = optim.StepLR(opt, 10)",
        "import torch\ntorch = load_plugins()\ns = torch.optim.StepLR(opt, 10)",
        # Postponed annotations are never evaluated.
        "from __future__ import annotations\nimport torch\ndef f(s: torch.optim.StepLR) -> None:\n    pass",
    )
    INVALID = (
        "import torch\ns = torch.optim.StepLR(opt, step_size=10)",
        "import torch.optim as optim\ns = optim.ReduceLROnPlateau(opt, patience=3)",
        "from torch import optim\nif isinstance(s, optim.CosineAnnealingLR):\n    pass",
        "from torch.optim import StepLR\ns = StepLR(opt, 10)",
        "from torch.optim import AdamW, OneCycleLR as OneCycle\ns = OneCycle(opt, 0.1, total_steps=10)",
        "import torch\ndef f(s: torch.optim.StepLR) -> None:\n    pass",
    )

    def check(self, ctx) -> None:
        ctx.module.visit(_Lookups(ctx))


class _Lookups(cst.CSTVisitor):
    """Walks the file with the scope of each node at hand, reporting `torch.optim.<Scheduler>`."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.misplaced = set(ctx.facts.schedulers) - ctx.facts.optim_namespace
        self.scopes = [ctx.model.module_scope]
        self.postponed_annotations = ctx.model.module_scope.imports.get("annotations") == "__future__.annotations"

    def visit_Annotation(self, node: cst.Annotation) -> bool:
        return not self.postponed_annotations

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.scopes.pop()

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def _enter(self, node: cst.CSTNode) -> None:
        self.scopes.append(self.ctx.model.scopes_by_node.get(node, self.scopes[-1]))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.ctx.model.qualname(node.value, self.scopes[-1]) == OPTIM and node.attr.value in self.misplaced:
            name = node.attr.value
            self.ctx.report(
                node,
                f"`torch.optim` has no `{name}`: torch raises AttributeError. It lives in `torch.optim.lr_scheduler`.",
                hint=f"Write `{dotted(node.value)}.lr_scheduler.{name}`.",
                fix=f"Look `{name}` up on `lr_scheduler`",
                edits=[Replace(node.attr, f"lr_scheduler.{name}")],
            )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        if dotted(node.module) != OPTIM:
            return
        moved = [alias for alias in node.names if dotted(alias.name) in self.misplaced]
        if not moved:
            return
        fix = {"fix": "Import it from `torch.optim.lr_scheduler`", "edits": _moved_import(self.ctx.module, node, moved)}
        for alias in moved:
            name = dotted(alias.name)
            self.ctx.report(
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
    if not _alone_at_top_level(module, node) or "#" in module.code_for_node(node):
        return []  # splitting would need the statement's indentation or drop a comment
    first = node.with_changes(names=_joined(kept, node.names[-1].comma))
    single_line = [alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for alias in moved]
    second = cst.ImportFrom(module=cst.parse_expression(LR_SCHEDULER), names=_joined(single_line))
    return [Replace(node, f"{module.code_for_node(first)}\n{module.code_for_node(second)}")]


def _alone_at_top_level(module: cst.Module, node: cst.ImportFrom) -> bool:
    return any(
        isinstance(statement, cst.SimpleStatementLine) and list(statement.body) == [node] for statement in module.body
    )


def _joined(aliases: list[cst.ImportAlias], last_comma=cst.MaybeSentinel.DEFAULT) -> list[cst.ImportAlias]:
    """The aliases as one list: their own commas, the last one ending it as the original list did."""
    return [alias.with_changes(comma=last_comma) if alias is aliases[-1] else alias for alias in aliases]
