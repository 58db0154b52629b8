"""The semantic model of one file: what each name is.

One libcst visit collects scopes, imports, assignments, calls and definitions; then optimizer and
scheduler instances are resolved from them. Rules ask the model questions (`qualname`,
`instance_of`, `module_class_of`, ...) instead of walking the tree themselves.

Resolution is deliberately conservative: a name bound both by a torch import and by anything else
in the same scope resolves to nothing, so user classes that shadow torch names are never mistaken
for torch's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from optlint.facts import LR_SCHEDULER, NN, OPTIM, TorchFacts
from optlint.static.walk import walk

OPTIMIZER, SCHEDULER = "optimizer", "scheduler"


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

    @property
    def resolution_scope(self) -> Scope:
        return self.value_scope or self.scope


@dataclass(eq=False)
class Instance:
    """An optimizer or scheduler object the file builds."""

    kind: str  # OPTIMIZER or SCHEDULER
    cls: str | None  # the torch class name, None when unknown (e.g. `get_scheduler(...)`)
    call: cst.Call
    assignment: Assignment
    optimizer: Instance | None = None  # what a scheduler is bound to

    @property
    def is_self_attribute(self) -> bool:
        return self.assignment.scope.kind == "class"


@dataclass(eq=False)
class CallSite:
    node: cst.Call
    scope: Scope
    order: int
    loop_depth: int


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        head = dotted(expr.value)
        return f"{head}.{expr.attr.value}" if head else None
    return None


def terminal_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def call_method(call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
    """For `x.m(...)`: (x, "m")."""
    if isinstance(call.func, cst.Attribute):
        return call.func.value, call.func.attr.value
    return None


def argument(call: cst.Call, position: int | None, keyword: str | None) -> cst.BaseExpression | None:
    """The expression given for a parameter, by position or keyword."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if keyword is not None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
    if position is not None and position < len(positional):
        if any(a.star for a in call.args[: call.args.index(positional[position])]):
            return None  # *args before it: positions are unknown
        return positional[position].value
    return None


def number_literal(expr: cst.BaseExpression | None) -> float | None:
    """The value of a number literal (`1e-2`, `-3`), None for anything else."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return float(expr.evaluated_value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = number_literal(expr.expression)
        return -inner if inner is not None else None
    return None


def is_none(expr: cst.BaseExpression | None) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def bool_literal(expr: cst.BaseExpression | None) -> bool | None:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


_CONVENTIONAL_OPTIMIZER = re.compile(r"^(opt|optim|optimizer|optimiser)s?(_\w+)?$|_(opt|optim|optimizer)$|optimizer")
_CONVENTIONAL_SCHEDULER = re.compile(r"sched")
_NOT_LR_SCHEDULER = re.compile(r"noise|diffusion|sampler|timestep")


def conventional_kind(expr: cst.BaseExpression) -> str | None:
    """What a receiver's name says it is, when nothing resolves (loop-order rules only)."""
    name = terminal_name(expr)
    if name is None:
        return None
    lowered = name.lower()
    if _CONVENTIONAL_SCHEDULER.search(lowered) and not _NOT_LR_SCHEDULER.search(lowered):
        return SCHEDULER
    if _CONVENTIONAL_OPTIMIZER.search(lowered):
        return OPTIMIZER
    return None


class SemanticModel:
    def __init__(self, module: cst.Module, facts: TorchFacts):
        self.module = module
        self.facts = facts
        collector = _Collector(self)
        self.module_scope: Scope = collector.root
        self.scopes: list[Scope] = []
        self.calls: list[CallSite] = []
        self.loops: list[tuple[cst.CSTNode, Scope]] = []
        self.classes: dict[str, tuple[cst.ClassDef, Scope]] = {}  # module-level and nested, by name
        self.scope_of_function: dict[cst.FunctionDef, Scope] = {}
        # Assigned attributes and items other than `self.x`: `model.fc = ...`, `self.net.fc = ...`, `seq[1] = ...`.
        self.attribute_stores: list[cst.Attribute | cst.Subscript] = []
        self.import_froms: list[cst.ImportFrom] = []  # the statements, in file order, for rules that edit them
        walk(module, collector)
        self.instances: list[Instance] = []
        self._instance_by_assignment: dict[Assignment, Instance] = {}
        self._resolve_instances()
        self._memo: dict = {}

    def memoized(self, key, compute):
        """Analyses derived from the model (constructions, loop events) are computed once per file."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- names ---------------------------------------------------------------------------------
    def qualname(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """`torch.optim.Adam` for `optim.Adam`, `A` (from torch.optim import Adam as A), ..."""
        if isinstance(expr, cst.Attribute):
            head = self.qualname(expr.value, scope)
            return f"{head}.{expr.attr.value}" if head else None
        if not isinstance(expr, cst.Name):
            return None
        for candidate in scope.lookup_chain():
            if expr.value in candidate.bound:
                return None  # shadowed (or ambiguous) by a local binding
            if expr.value in candidate.imports:
                return candidate.imports[expr.value]
        return None

    def torch_class(self, expr: cst.BaseExpression, scope: Scope) -> tuple[str, str] | None:
        """("optimizer"|"scheduler", class name) when expr names a torch optimizer or scheduler class."""
        qualname = self.qualname(expr, scope)
        if qualname is None:
            return None
        module, _, name = qualname.rpartition(".")
        if module == OPTIM and name in self.facts.optimizers:
            return OPTIMIZER, name
        if module == LR_SCHEDULER and name in self.facts.schedulers:
            return SCHEDULER, name
        return None

    def torch_argument(self, call: cst.Call, kind: str, cls: str, name: str) -> cst.BaseExpression | None:
        """What a call of torch's optimizer or scheduler class `cls` gives for its parameter `name`: by
        keyword, or at the position torch's signature (the facts) puts it."""
        table = self.facts.optimizers if kind == OPTIMIZER else self.facts.schedulers
        positional = table.get(cls, {}).get("positional", [])
        return argument(call, positional.index(name) if name in positional else None, name)

    def nn_class(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """The class name when expr names a `torch.nn` module class."""
        qualname = self.qualname(expr, scope)
        if qualname is None:
            return None
        module, _, name = qualname.rpartition(".")
        if module in (NN, "torch.nn.modules") or module.startswith("torch.nn.modules."):
            return name
        return None

    def values_of(self, expr: cst.BaseExpression, scope: Scope) -> list[Assignment]:
        """What an expression may hold: every value assigned to a plain name (in the scope that binds
        it) or to `self.x`, each with the scope its names resolve in. The one place that answers it:
        values that reach a name through a parameter, a return or another module are to come from here."""
        if isinstance(expr, cst.Name):
            for candidate in scope.lookup_chain():
                if expr.value in candidate.bound or expr.value in candidate.imports:
                    return candidate.assignments.get(expr.value, [])
            return []
        owner = self.attribute_owner(expr, scope)
        if owner is not None:
            return owner.attributes.get(expr.attr.value, [])
        return []

    def attribute_owner(self, expr: cst.BaseExpression, scope: Scope) -> Scope | None:
        """The class scope for `self.x` inside one of its methods."""
        if not (isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name)):
            return None
        if expr.value.value != "self":
            return None
        return scope.enclosing_class

    def binding_scope(self, name: str, scope: Scope) -> Scope | None:
        """The scope whose binding a plain name refers to (None for builtins and undefined names)."""
        return next((s for s in scope.lookup_chain() if name in s.bound or name in s.imports), None)

    def builtin_name(self, expr: cst.BaseExpression, scope: Scope) -> str | None:
        """`list` for `list` when no import or binding of the file shadows the builtin (a user's own
        `def dict(**kw)` is not `dict`)."""
        if not isinstance(expr, cst.Name) or self.binding_scope(expr.value, scope) is not None:
            return None
        return expr.value

    def is_builtin(self, expr: cst.BaseExpression, name: str, scope: Scope) -> bool:
        return self.builtin_name(expr, scope) == name

    def receives_parameter(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """Whether a plain name is a parameter of the function that binds it, reassigned or not."""
        if not isinstance(expr, cst.Name):
            return False
        binding = self.binding_scope(expr.value, scope)
        return binding is not None and binding.kind == "function" and expr.value in _parameter_names(binding.node)

    # -- instances -----------------------------------------------------------------------------
    def instance_of(self, expr: cst.BaseExpression, scope: Scope) -> Instance | None:
        """The optimizer or scheduler a name or `self.x` holds, when every build of it agrees."""
        found = [self._instance_by_assignment.get(a) for a in self.values_of(expr, scope)]
        found = [i for i in found if i is not None]
        if not found:
            return None
        if len({i.kind for i in found}) > 1:
            return None
        if len({i.cls for i in found}) > 1 or len({id(i.optimizer) for i in found}) > 1:
            # Branches build different classes: keep the kind, forget the class.
            first = found[0]
            return Instance(first.kind, None, first.call, first.assignment, None)
        return found[0]

    def instances_of_kind(self, kind: str) -> list[Instance]:
        return [i for i in self.instances if i.kind == kind]

    def scheduler_builds(self) -> list[Instance]:
        """Every scheduler the file builds: the assigned instances, and the calls of a torch scheduler
        class that no name holds (`return OneCycleLR(opt, ...)`, `ChainedScheduler([ConstantLR(opt), ...])`).
        An unnamed build's assignment has an empty target and stands at the call itself."""
        return self.memoized("scheduler-builds", self._scheduler_builds)

    def _scheduler_builds(self) -> list[Instance]:
        builds = self.instances_of_kind(SCHEDULER)
        named = {instance.call for instance in builds}
        for site in self.calls:
            resolved = self.torch_class(site.node.func, site.scope)
            if resolved is None or resolved[0] != SCHEDULER or site.node in named:
                continue
            unnamed = Assignment("", site.node, site.node, site.scope, site.order)
            builds.append(Instance(SCHEDULER, resolved[1], site.node, unnamed, self.scheduler_optimizer(site.node, site.scope)))
        return builds

    def _resolve_instances(self) -> None:
        assignments = sorted(
            (a for s in self.scopes for group in (*s.assignments.values(), *s.attributes.values()) for a in group),
            key=lambda a: a.order,
        )
        # Optimizers first: a scheduler may name an optimizer assigned later in the file (another method).
        for pass_kind in (OPTIMIZER, SCHEDULER):
            for assignment in assignments:
                value = assignment.value
                if not isinstance(value, cst.Call):
                    continue
                instance = self._instance_from_call(value, assignment, pass_kind)
                if instance is not None:
                    self.instances.append(instance)
                    self._instance_by_assignment[assignment] = instance

    def _instance_from_call(self, call: cst.Call, assignment: Assignment, kind: str) -> Instance | None:
        scope = assignment.resolution_scope
        resolved = self.torch_class(call.func, scope)
        if resolved is not None:
            if resolved[0] != kind:
                return None
            instance = Instance(kind, resolved[1], call, assignment)
            if kind == SCHEDULER:
                instance.optimizer = self.scheduler_optimizer(call, scope)
            return instance
        if kind != SCHEDULER:
            return None
        # `get_scheduler("linear", optimizer=opt)`, `get_cosine_schedule_with_warmup(opt, ...)`.
        callee = (terminal_name(call.func) or "").lower()
        if "sched" not in callee and "sched" not in assignment.target.lower():
            return None
        for arg in call.args:
            optimizer = self.instance_of(arg.value, scope)
            if optimizer is not None and optimizer.kind == OPTIMIZER:
                return Instance(SCHEDULER, None, call, assignment, optimizer)
        return None

    def scheduler_optimizer(self, call: cst.Call, scope: Scope) -> Instance | None:
        expr = argument(call, 0, "optimizer")
        if expr is None:
            return None
        instance = self.instance_of(expr, scope)
        return instance if instance is not None and instance.kind == OPTIMIZER else None

    # -- definitions ---------------------------------------------------------------------------
    def function_called(self, call: cst.Call, scope: Scope) -> cst.FunctionDef | None:
        """The same-file function or method a call runs: `helper(...)` or `self.method(...)`."""
        if isinstance(call.func, cst.Name):
            for candidate in scope.lookup_chain():
                if call.func.value in candidate.functions:
                    return candidate.functions[call.func.value]
                if call.func.value in candidate.bound or call.func.value in candidate.imports:
                    return None
            return None
        owner = self.attribute_owner(call.func, scope)
        if owner is not None:
            return owner.functions.get(call.func.attr.value)
        return None

    def class_scope(self, name: str) -> Scope | None:
        entry = self.classes.get(name)
        return self.scopes_by_node.get(entry[0]) if entry else None

    @property
    def scopes_by_node(self) -> dict[cst.CSTNode, Scope]:
        return self.memoized("scopes-by-node", lambda: {s.node: s for s in self.scopes})

    def is_module_subclass(self, class_name: str) -> bool:
        """Whether a class of this file subclasses a torch.nn.Module (or a Lightning module)."""
        seen: set[str] = set()
        while class_name in self.classes and class_name not in seen:
            seen.add(class_name)
            node, scope = self.classes[class_name]
            for base in node.bases:
                qualname = self.qualname(base.value, scope) or ""
                if qualname in ("torch.nn.Module", "torch.nn.modules.module.Module") or qualname.endswith(
                    "LightningModule"
                ):
                    return True
            local_bases = [dotted(b.value) for b in node.bases]
            class_name = next((b for b in local_bases if b in self.classes), "")
        return False

    def is_scheduler_subclass(self, class_node: cst.ClassDef, scope: Scope) -> bool:
        for base in class_node.bases:
            qualname = self.qualname(base.value, scope) or dotted(base.value) or ""
            if qualname.startswith(LR_SCHEDULER) or re.search(r"(LR|Scheduler|Schedule)$", qualname):
                return True
        return False


def _parameter_names(function: cst.CSTNode) -> set[str]:
    if not isinstance(function, (cst.FunctionDef, cst.Lambda)):
        return set()
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return {p.name.value for p in every}


class _Collector(cst.CSTVisitor):
    """The one pass over the tree that fills the model."""

    def __init__(self, model: SemanticModel):
        self.model = model
        self.root = Scope("module", model.module, None)
        self.stack: list[Scope] = [self.root]
        self.order = 0
        self.loop_depth = 0
        self.saved_loop_depths: list[int] = []

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    def _tick(self) -> int:
        self.order += 1
        return self.order

    # scopes
    def visit_Module(self, node: cst.Module) -> None:
        self.model.scopes.append(self.root)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.scope.bound.add(node.name.value)
        self.model.classes[node.name.value] = (node, self.scope)
        self._push(Scope("class", node, self.scope))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scope.bound.add(node.name.value)
        self.scope.functions[node.name.value] = node
        scope = Scope("function", node, self.scope)
        scope.bound.update(_parameter_names(node))
        self.model.scope_of_function[node] = scope
        self._push(scope)
        self.saved_loop_depths.append(self.loop_depth)
        self.loop_depth = 0

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()
        self.loop_depth = self.saved_loop_depths.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        scope = Scope("function", node, self.scope)
        scope.bound.update(_parameter_names(node))
        self._push(scope)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def _push(self, scope: Scope) -> None:
        self.model.scopes.append(scope)
        self.stack.append(scope)

    # loops
    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, None, node)
        self.model.loops.append((node, self.scope))
        self.loop_depth += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loop_depth -= 1

    def visit_While(self, node: cst.While) -> None:
        self.model.loops.append((node, self.scope))
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
        self.model.import_froms.append(node)
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

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self.scope.bound.add(item.name.value)

    def _bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None, stmt: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else None
            for index, element in enumerate(target.elements):
                item = values[index].value if values is not None and index < len(values) else None
                self._bind_target(element.value, item, stmt)
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
            self.model.attribute_stores.append(target)

    # calls
    def visit_Call(self, node: cst.Call) -> None:
        self.model.calls.append(CallSite(node, self.scope, self._tick(), self.loop_depth))
        store = _child_module_store(node)
        if store is not None:
            self.model.attribute_stores.append(store)


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
