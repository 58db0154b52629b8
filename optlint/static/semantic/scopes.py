"""Scopes and bindings: the one pass over the tree that fills the semantic model.

`Collector` walks the module once and records, per `Scope` (module, class, function, lambda), its
imports (as qualified names), the names bound otherwise, the `Assignment`s of plain names and of
`self.x`, the functions it defines; and for the whole file the calls (`CallSite`), loops, classes,
attribute stores and import statements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from optlint.static.semantic.expressions import dotted


@dataclass(eq=False)
class Scope:
    kind: str  # "module", "class" or "function"
    node: cst.CSTNode
    parent: Scope | None
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    bound: set[str] = field(default_factory=set)  # names bound by anything but an import
    assignments: dict[str, list[Assignment]] = field(default_factory=dict)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    attributes: dict[str, list[Assignment]] = field(default_factory=dict)  # class scopes: self.x
    # Names bound to a part of a value: `a, b = f()` (element 0, 1), `for x in xs` (EACH element).
    unpacked: dict[str, list[Assignment]] = field(default_factory=dict)
    returns: list[cst.Return] = field(default_factory=list)  # function scopes: its own `return`s
    is_generator: bool = False  # a `yield` in its own body: a call returns a generator

    @property
    def enclosing_class(self) -> Scope | None:
        """The class whose method this is (the scope `self.x` refers to)."""
        scope = self
        while scope is not None and scope.kind == "function":
            if scope.parent is not None and scope.parent.kind == "class":
                return scope.parent
            scope = scope.parent
        return None

    def lookup_chain(self) -> Iterator[Scope]:
        """Scopes searched for a plain name, innermost first (class bodies are skipped, as in Python)."""
        scope, first = self, True
        while scope is not None:
            if first or scope.kind != "class":
                yield scope
            scope, first = scope.parent, False


@dataclass(eq=False)
class Assignment:
    target: str  # a plain name, or the attribute name for `self.x = ...`
    value: cst.BaseExpression
    statement: cst.CSTNode
    scope: Scope  # where the target lives: the class scope for `self.x`
    order: int  # position in the file, for "before/after" questions
    value_scope: Scope | None = None  # where the value's names resolve, when not `scope`
    element: int | str | None = None  # for `unpacked`: the target is this part of `value`

    @property
    def resolution_scope(self) -> Scope:
        return self.value_scope or self.scope


EACH = "each"  # `Assignment.element` of a loop variable: each element of the iterable


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    order: int
    loop_depth: int


def parameter_names(function: cst.CSTNode) -> set[str]:
    if not isinstance(function, (cst.FunctionDef, cst.Lambda)):
        return set()
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return {p.name.value for p in every}


class Collector(cst.CSTVisitor):
    """The one pass over the tree that `SemanticModel` is built from."""

    def __init__(self, module: cst.Module):
        self.root = Scope("module", module, None)
        self.stack: list[Scope] = [self.root]
        self.order = 0
        self.loop_depth = 0
        self.saved_loop_depths: list[int] = []
        self.scopes: list[Scope] = []
        self.calls: list[CallSite] = []
        self.loops: list[tuple[cst.CSTNode, Scope]] = []
        self.classes: dict[str, tuple[cst.ClassDef, Scope]] = {}
        self.scope_of_function: dict[cst.FunctionDef, Scope] = {}
        self.attribute_stores: list[cst.Attribute | cst.Subscript] = []
        self.import_froms: list[cst.ImportFrom] = []
        self.child_stores: list[tuple[cst.Attribute, cst.Call, Scope]] = []  # once names resolve: `setattr` the builtin?
        self.declared_global: set[str] = set()  # names of `global`/`nonlocal` statements
        self.name_counts: dict[str, int] = {}  # every `Name` node (attributes and keywords too), by text

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def _tick(self) -> int:
        self.order += 1
        return self.order

    # scopes
    def visit_Module(self, node: cst.Module) -> None:
        self.scopes.append(self.root)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.bound.add(node.name.value)
        self.classes[node.name.value] = (node, self.scope)
        self._push(Scope("class", node, self.scope))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.bound.add(node.name.value)
        self.scope.functions[node.name.value] = node
        scope = Scope("function", node, self.scope)
        scope.bound.update(parameter_names(node))
        self.scope_of_function[node] = scope
        self._push(scope)
        self.saved_loop_depths.append(self.loop_depth)
        self.loop_depth = 0

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()
        self.loop_depth = self.saved_loop_depths.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = Scope("function", node, self.scope)
        scope.bound.update(parameter_names(node))
        self._push(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def _push(self, scope: Scope) -> None:
        self.scopes.append(scope)
        self.stack.append(scope)

    # loops
    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, None, node)
        self._bind_loop_element(node.target, node.iter, node)
        self.loops.append((node, self.scope))
        self.loop_depth += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_depth -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops.append((node, self.scope))
        self.loop_depth += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loop_depth -= 1

    # imports
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted(alias.name)
            if full is None:
                continue
            if alias.asname is not None:
                local = dotted(alias.asname.name)
                if local:
                    self._import(local, full)
            else:
                head = full.split(".")[0]
                self._import(head, head)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.import_froms.append(node)
        if node.relative or node.module is None:
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    name = dotted(alias.asname.name if alias.asname else alias.name)
                    if name:
                        self.scope.bound.add(name)
            return
        module = dotted(node.module)
        if module is None or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name)
            local = dotted(alias.asname.name) if alias.asname else name
            if name and local:
                self._import(local, f"{module}.{name}")

    def _import(self, local: str, qualname: str) -> None:
        """A name imported twice from different places (`try: from apex... except ImportError: from
        torch.optim import Adam`) may hold either: like a name also bound otherwise, it resolves to nothing."""
        if self.scope.imports.get(local, qualname) != qualname:
            self.scope.bound.add(local)
        self.scope.imports[local] = qualname

    # bindings
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target, node.value, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target, node.value, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, None, node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, node.value, node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, None, node)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        return None  # comprehension variables live in their own scope; they shadow nothing here

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, None, node)

    def visit_Return(self, node: cst.Return) -> None:
        self.scope.returns.append(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.scope.is_generator = True

    def visit_Name(self, node: cst.Name) -> None:
        self.name_counts[node.value] = self.name_counts.get(node.value, 0) + 1

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.scope.bound.add(item.name.value)
        self.declared_global.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.declared_global.update(item.name.value for item in node.names)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None, stmt: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else None
            for index, element in enumerate(target.elements):
                item = values[index].value if values is not None and index < len(values) else None
                self._bind_target(element.value, item, stmt)
            if value is not None and values is None:
                self._bind_unpacked(target, value, stmt)
            return
        if isinstance(target, cst.StarredElement):
            self._bind_target(target.value, None, stmt)
            return
        if isinstance(target, cst.Name):
            self.scope.bound.add(target.value)
            if value is not None:
                assignment = Assignment(target.value, value, stmt, self.scope, self._tick())
                self.scope.assignments.setdefault(target.value, []).append(assignment)
            return
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == "self"
            and value is not None
        ):
            owner = self.scope.enclosing_class
            if owner is not None:
                assignment = Assignment(target.attr.value, value, stmt, owner, self._tick(), self.scope)
                owner.attributes.setdefault(target.attr.value, []).append(assignment)
            return
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self.attribute_stores.append(target)

    def _bind_unpacked(self, target: cst.Tuple | cst.List, value: cst.BaseExpression, stmt: cst.CSTNode) -> None:
        """`opt, sched = build(...)`: each name is one element of the value (positions after a `*x` are unknown)."""
        for index, element in enumerate(target.elements):
            if isinstance(element, cst.StarredElement):
                return
            if isinstance(element.value, cst.Name):
                self._record_unpacked(element.value.value, value, stmt, index)

    def _bind_loop_element(self, target: cst.BaseExpression, iterable: cst.BaseExpression, stmt: cst.For) -> None:
        """`for opt in optimizers:` and `for i, opt in enumerate(optimizers):` bind each element."""
        if (isinstance(target, cst.Tuple) and len(target.elements) == 2 and isinstance(iterable, cst.Call)
                and isinstance(iterable.func, cst.Name) and iterable.func.value == "enumerate" and iterable.args):
            target, iterable = target.elements[1].value, iterable.args[0].value
        if isinstance(target, cst.Name):
            self._record_unpacked(target.value, iterable, stmt, EACH)

    def _record_unpacked(self, name: str, value: cst.BaseExpression, stmt: cst.CSTNode, element: int | str) -> None:
        assignment = Assignment(name, value, stmt, self.scope, self._tick(), element=element)
        self.scope.unpacked.setdefault(name, []).append(assignment)

    # calls
    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(CallSite(node, self.scope, self._tick(), self.loop_depth))
        store = _child_module_store(node)
        if store is not None:
            self.child_stores.append((store, node, self.scope))


_ADD_CHILD = ("add_module", "register_module")


def _child_module_store(call: cst.Call) -> cst.Attribute | None:
    """`m.add_module("head", ...)` and `setattr(m, "head", ...)` assign `m.head` as `m.head = ...` does."""
    args = [a.value for a in call.args if a.keyword is None and not a.star]
    if isinstance(call.func, cst.Attribute) and call.func.attr.value in _ADD_CHILD and len(args) == 2:
        owner, name = call.func.value, args[0]
    elif isinstance(call.func, cst.Name) and call.func.value == "setattr" and len(args) == 3:
        owner, name = args[0], args[1]
    else:
        return None
    if not isinstance(name, cst.SimpleString) or not isinstance(name.evaluated_value, str):
        return None
    return cst.Attribute(value=owner, attr=cst.Name(name.evaluated_value))
