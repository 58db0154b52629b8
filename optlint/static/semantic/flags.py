"""Flag guards: `if args.cos:` around a use and `if not args.cos: ... else: ...` around the builds.

Training scripts choose a scheduler by a configuration flag and test the same flag where they use it:

    if not args.cos:
        scheduler = ReduceLROnPlateau(optimizer)
    else:
        scheduler = CosineAnnealingLR(optimizer, args.n_epochs)
    ...
    if args.cos:
        scheduler.step(epoch - 1)   # only the CosineAnnealingLR reaches here

A build under the opposite value of a flag the use is guarded by cannot reach the use, as long as the
flag keeps its value: a flag is a name or an attribute chain (`use_cos`, `args.cos`, `cfg.sched.cos`)
that nothing in the file stores into, whose head name is bound once (`args = parser.parse_args()`)
or is a parameter never reassigned. Any other test (a call, a comparison) guards nothing here.
"""

from __future__ import annotations

import libcst as cst

from optlint.static.semantic.expressions import dotted
from optlint.static.semantic.model import SemanticModel
from optlint.static.semantic.scopes import Assignment, Scope, parameter_names
from optlint.static.walk import walk

Guard = tuple[str, bool]  # (the flag as written, the value it has there)


def reaching(model: SemanticModel, assignments: list[Assignment], use: cst.CSTNode, scope: Scope) -> list[Assignment]:
    """The assignments that may reach `use`: those not built under the opposite value of a stable flag
    that also guards the use."""
    if len(assignments) < 2:
        return assignments  # one value or none: nothing to choose between (and no walk of the file)
    guards = _guards(model)
    at_use = {flag: value for flag, value in guards.get(use, ()) if _is_stable(model, flag, scope)}
    if not at_use:
        return assignments
    return [a for a in assignments if not any(at_use.get(flag, value) != value
                                              for flag, value in guards.get(a.statement, ()))]


def _guards(model: SemanticModel) -> dict[cst.CSTNode, tuple[Guard, ...]]:
    def compute():
        visitor = _FlagGuards()
        walk(model.module, visitor)
        return visitor.found

    return model.memoized("flag-guards", compute)


def _flag(test: cst.BaseExpression) -> Guard | None:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _flag(test.expression)
        return (inner[0], not inner[1]) if inner is not None else None
    name = dotted(test) if isinstance(test, (cst.Name, cst.Attribute)) else None
    return (name, True) if name is not None else None


def _is_stable(model: SemanticModel, flag: str, scope: Scope) -> bool:
    head = flag.partition(".")[0]
    if any(dotted(store) == flag for store in model.attribute_stores) or head in model.declared_global:
        return False
    binding = model.binding_scope(head, scope)
    if binding is None:
        return False
    assigned = len(binding.assignments.get(head, ())) + len(binding.unpacked.get(head, ()))
    is_parameter = binding.kind == "function" and head in parameter_names(binding.node)
    return assigned == 0 and is_parameter or assigned == 1 and not is_parameter


class _FlagGuards(cst.CSTVisitor):
    """Each statement and call with the flag guards of the `if`s around it in its own function."""

    def __init__(self):
        self.stack: list[Guard] = []
        self.found: dict[cst.CSTNode, tuple[Guard, ...]] = {}

    def _record(self, node) -> None:
        if self.stack:
            self.found[node] = tuple(self.stack)

    visit_Call = visit_Assign = visit_AnnAssign = visit_AugAssign = visit_For = visit_With = _record

    def visit_If(self, node: cst.If) -> bool:
        walk(node.test, self)
        flag = _flag(node.test)
        for branch, value in ((node.body, True), (node.orelse, False)):
            if branch is None:
                continue
            if flag is not None:
                self.stack.append((flag[0], flag[1] == value))
            walk(branch, self)
            if flag is not None:
                self.stack.pop()
        return False

    def visit_FunctionDef(self, node) -> bool:
        # A body runs when it is called, under no `if` of where it is defined.
        saved, self.stack = self.stack, []
        walk(node.body, self)
        self.stack = saved
        return False

    visit_Lambda = visit_ClassDef = visit_FunctionDef
