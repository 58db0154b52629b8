"""The semantic model of one file: what each name is.

One libcst visit (`scopes.Collector`) collects scopes, imports, assignments, calls and definitions;
then optimizer and scheduler instances are resolved from them. Rules ask the model questions (`qualname`,
`instance_of`, `module_class_of`, ...) instead of walking the tree themselves.

Resolution is deliberately conservative: a name bound both by a torch import and by anything else
in the same scope resolves to nothing, so user classes that shadow torch names are never mistaken
for torch's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from optlint.facts import LR_SCHEDULER, NN, OPTIM, TorchFacts
from optlint.static.semantic.expressions import (argument, bool_literal, dotted, number_literal, summarised_argument,
                                                 terminal_name)
from optlint.static.semantic.scopes import EACH, Assignment, CallSite, Collector, Scope, parameter_names
from optlint.static.semantic.values import Values
from optlint.static.walk import walk

OPTIMIZER, SCHEDULER = "optimizer", "scheduler"


@dataclass(frozen=True)
class Subclass:
    """A class of the project that derives from a torch scheduler class through the project's classes
    alone (`class WarmupLinearSchedule(LambdaLR)`): torch's methods run except those it defines."""

    name: str
    torch_class: str
    defines: frozenset[str]  # the methods the project's classes on the way define
    origin: str | None = None  # the project file that defines it, when not this one

    def runs_torch(self, method: str) -> bool:
        return method not in self.defines

    def note(self, method: str) -> str:
        """What a message adds: `WarmupLinearSchedule` (in `utils/scheduler.py`) runs `LambdaLR.get_lr`."""
        where = f", defined in `{self.origin}`," if self.origin else ""
        return f" (`{self.name}`{where} runs torch's `{self.torch_class}.{method}`)"


@dataclass(eq=False)
class Instance:
    """An optimizer or scheduler object the file builds."""

    kind: str  # OPTIMIZER or SCHEDULER
    cls: str | None  # the torch class name, None when unknown (e.g. `get_scheduler(...)`)
    call: cst.Call
    assignment: Assignment
    optimizer: Instance | None = None  # what a scheduler is bound to
    origin: str | None = None  # the project file whose function built it (`call` calls that function)
    subclass: Subclass | None = None  # for a build of the project's own subclass of a torch scheduler

    @property
    def is_self_attribute(self) -> bool:
        return self.assignment.scope.kind == "class"


_CONVENTIONAL_OPTIMIZER = re.compile(r"^(opt|optim|optimizer|optimiser)s?(_\w+)?$|_(opt|optim|optimizer)$|optimizer")
_CONVENTIONAL_SCHEDULER = re.compile(r"sched")
_NOT_LR_SCHEDULER = re.compile(r"noise|diffusion|sampler|timestep")


_COMPARE = {cst.Equal: lambda a, b: a == b, cst.NotEqual: lambda a, b: a != b, cst.LessThan: lambda a, b: a < b,
            cst.LessThanEqual: lambda a, b: a <= b, cst.GreaterThan: lambda a, b: a > b,
            cst.GreaterThanEqual: lambda a, b: a >= b}


def compare(left: object | None, operator: cst.BaseCompOp, right: object | None) -> bool | None:
    """`left <op> right` for known constants of one kind (numbers with numbers, strings with strings)."""
    check = _COMPARE.get(type(operator))
    if check is None or left is None or right is None or isinstance(left, str) != isinstance(right, str):
        return None
    return check(left, right)


def literal_value(expr: cst.BaseExpression | None) -> object | None:
    number = number_literal(expr)
    if number is not None:
        return number
    if isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        return expr.evaluated_value
    return bool_literal(expr)


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
    def __init__(self, module: cst.Module, facts: TorchFacts, project=None):
        self.module = module
        self.facts = facts
        self.project = project  # a project.index.FileView: the project's other modules, or None
        collector = Collector(module)
        walk(module, collector)
        self.module_scope: Scope = collector.root
        self.scopes: list[Scope] = collector.scopes
        self.calls: list[CallSite] = collector.calls
        self.loops: list[tuple[cst.CSTNode, Scope]] = collector.loops
        self.classes: dict[str, tuple[cst.ClassDef, Scope]] = collector.classes  # module-level and nested, by name
        self.scope_of_function: dict[cst.FunctionDef, Scope] = collector.scope_of_function
        # Assigned attributes and items other than `self.x`: `model.fc = ...`, `self.net.fc = ...`, `seq[1] = ...`.
        self.attribute_stores: list[cst.Attribute | cst.Subscript] = collector.attribute_stores + [
            store for store, call, scope in collector.child_stores
            if not isinstance(call.func, cst.Name) or self.is_builtin(call.func, "setattr", scope)
        ]
        self.import_froms: list[cst.ImportFrom] = collector.import_froms  # in file order, for rules that edit them
        # Names some function rebinds through `global`/`nonlocal`: a call may change them anywhere.
        self.declared_global: frozenset[str] = frozenset(collector.declared_global)
        self.name_counts: dict[str, int] = collector.name_counts
        self._memo: dict = {}
        self.instances: list[Instance] = []
        self._instance_by_assignment: dict[Assignment, Instance] = {}
        self._instance_by_call: dict[cst.Call, Instance] = {}  # builds no name holds (`return AdamW(...)`)
        self._values = Values(self)
        self._imported_builds: set[cst.Call] = set()
        self._resolve_instances()
        self._values = Values(self)  # what was answered while instances were still being found is stale

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
        if call in self._imported_builds:
            return None  # `build_scheduler(opt, cfg)`: its arguments are not the torch class's
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
        it) or to `self.x`, each with the scope its names resolve in. The one place that answers it.
        Beyond the scope's own assignments (see `values.Values`), the optimizers and schedulers that
        reach it through a parameter, a same-file function's return, an unpacked tuple, a container
        or its constant subscript (`opts[0]`, `self.optimizers["g"]`)."""
        if isinstance(expr, cst.Name):
            binding = self.binding_scope(expr.value, scope)
            if binding is None:
                return []
            if expr.value in binding.imports and expr.value not in binding.bound:
                return []  # no assignment here: another module of the project answers through `imported`
            return self._values.name_values(binding, expr.value)
        owner = self.attribute_owner(expr, scope)
        if owner is not None:
            return self._values.attribute_values(owner, expr.attr.value)
        if isinstance(expr, cst.Subscript):
            return self._values.instances(expr, scope) or []
        return []

    def instance_at(self, assignment: Assignment) -> Instance | None:
        """The optimizer or scheduler an assignment (or a build no name holds) makes."""
        return self._instance_by_assignment.get(assignment)

    def built_instance(self, call: cst.Call, scope: Scope) -> Instance | None:
        """The instance a torch optimizer or scheduler build (`AdamW(...)`, `get_scheduler(...)`) makes,
        named or not; the same object every time it is asked."""
        if call in self._instance_by_call:
            return self._instance_by_call[call]
        if call in self.memoized("assigned-calls", self._assigned_calls):
            return None  # an assignment's value: resolved with it
        site = self.memoized("call-sites-by-node", lambda: {s.node: s for s in self.calls}).get(call)
        unnamed = Assignment("", call, call, scope, site.order if site else 0)
        self._instance_by_call[call] = None  # asked again while being answered: not (yet) a build
        instance = next((i for kind in (OPTIMIZER, SCHEDULER) if (i := self._instance_from_call(call, unnamed, kind))), None)
        self._instance_by_call[call] = instance
        if instance is not None:
            self._instance_by_assignment[unnamed] = instance
        return instance

    def _assigned_calls(self) -> set[cst.Call]:
        return {a.value for s in self.scopes for group in (*s.assignments.values(), *s.attributes.values())
                for a in group if isinstance(a.value, cst.Call)}

    def call_sites_of(self, function: cst.FunctionDef) -> list[CallSite]:
        """The calls of the file that run `function` (`f(...)`, `self.f(...)`)."""
        return self.memoized("call-sites-of", self._call_sites_by_function).get(function, [])

    def _call_sites_by_function(self) -> dict[cst.FunctionDef, list[CallSite]]:
        found: dict[cst.FunctionDef, list[CallSite]] = {}
        for site in self.calls:
            function = self.function_called(site.node, site.scope)
            if function is not None:
                found.setdefault(function, []).append(site)
        return found

    def parameter_instances(self, expr: cst.BaseExpression, scope: Scope) -> list[Instance] | None:
        """For a parameter, the instance each call site of its function passes (they may differ)."""
        if not self.receives_parameter(expr, scope):
            return None
        function_scope = self.binding_scope(expr.value, scope)
        per_site = self._values.parameter_instances(function_scope, expr.value)
        if not per_site or any(len(held) != 1 for held in per_site):
            return None
        return [self.instance_at(held[0]) for held in per_site]

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

    def is_loop_element(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """Whether a plain name is only ever bound as a loop's variable (`for opt in optimizers:`)."""
        if not isinstance(expr, cst.Name):
            return False
        binding = self.binding_scope(expr.value, scope)
        return (binding is not None and not binding.assignments.get(expr.value)
                and any(a.element == EACH for a in binding.unpacked.get(expr.value, [])))

    def receives_parameter(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """Whether a plain name is a parameter of the function that binds it, reassigned or not."""
        if not isinstance(expr, cst.Name):
            return False
        binding = self.binding_scope(expr.value, scope)
        return binding is not None and binding.kind == "function" and expr.value in parameter_names(binding.node)

    # -- instances -----------------------------------------------------------------------------
    def instance_of(self, expr: cst.BaseExpression, scope: Scope) -> Instance | None:
        """The optimizer or scheduler a name or `self.x` holds, when every build of it agrees."""
        found = self.instances_held(expr, scope)
        if not found:
            return None
        if len({i.kind for i in found}) > 1:
            return None
        if len({(i.cls, i.subclass) for i in found}) > 1 or len({id(i.optimizer) for i in found}) > 1:
            # Branches build different classes: keep the kind, forget the class.
            first = found[0]
            return Instance(first.kind, None, first.call, first.assignment, None)
        return found[0]

    def instances_held(self, expr: cst.BaseExpression, scope: Scope) -> list[Instance]:
        """Every optimizer or scheduler `expr` may hold (`for opt in (opt_g, opt_d)`: both)."""
        found = [self._instance_by_assignment.get(a) for a in self.values_of(expr, scope)]
        return list({id(i): i for i in found if i is not None}.values())

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
            builds.append(self.built_instance(site.node, site.scope))
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
        returned = self.imported_return(call, scope)
        if returned is not None:
            if returned[0] != kind:
                return None
            self._imported_builds.add(call)
            return Instance(kind, returned[1], call, assignment, returned[2], returned[3])
        if kind != SCHEDULER:
            return None
        # `get_scheduler("linear", optimizer=opt)`, `get_cosine_schedule_with_warmup(opt, ...)`,
        # `WarmupLinearSchedule(opt, ...)` (a subclass of LambdaLR).
        subclass = self.scheduler_subclass(call.func, scope)
        callee = (terminal_name(call.func) or "").lower()
        if subclass is None and "sched" not in callee and "sched" not in assignment.target.lower():
            return None
        if self.function_called(call, scope) is not None and self._values.instances(call, scope):
            return None  # a same-file function whose return is known: the name holds what it returns
        for arg in call.args:
            optimizer = self.instance_of(arg.value, scope)
            if optimizer is not None and optimizer.kind == OPTIMIZER:
                return Instance(SCHEDULER, None, call, assignment, optimizer, subclass=subclass)
        return Instance(SCHEDULER, None, call, assignment, subclass=subclass) if subclass is not None else None

    def scheduler_optimizer(self, call: cst.Call, scope: Scope) -> Instance | None:
        expr = argument(call, 0, "optimizer")
        if expr is None:
            return None
        instance = self.instance_of(expr, scope)
        return instance if instance is not None and instance.kind == OPTIMIZER else None

    # -- constants (guards) --------------------------------------------------------------------
    def constant(self, expr: cst.BaseExpression, scope: Scope) -> object | None:
        """The value of a literal (number, string, bool) or of a module constant assigned one once and
        bound nowhere else in the file (`START_EPOCH = 5`); None when it cannot be known here."""
        literal = literal_value(expr)
        if literal is not None or not isinstance(expr, cst.Name):
            return literal
        if self.binding_scope(expr.value, scope) is not self.module_scope:
            return None
        assignments = self.module_scope.assignments.get(expr.value, [])
        rebound = self.memoized("names-bound-in-functions", self._names_bound_below_module)
        if len(assignments) != 1 or expr.value in rebound or expr.value in self.module_scope.unpacked:
            return None
        return literal_value(assignments[0].value)

    def _names_bound_below_module(self) -> set[str]:
        return {name for scope in self.scopes if scope is not self.module_scope for name in scope.bound}

    def static_truth(self, test: cst.BaseExpression, scope: Scope) -> bool | None:
        """Whether a guard always holds (True), never does (False), or depends on what runs (None)."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            inner = self.static_truth(test.expression, scope)
            return None if inner is None else not inner
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            left = self.constant(test.left, scope)
            right = self.constant(test.comparisons[0].comparator, scope)
            return compare(left, test.comparisons[0].operator, right)
        value = self.constant(test, scope)
        return None if value is None else bool(value)

    # -- the project's other modules -------------------------------------------------------------
    def imported(self, expr: cst.BaseExpression, scope: Scope) -> tuple[str, dict, str] | None:
        """("function"|"class"|"object", summary entry, file) for a name imported from another module of
        the project (see optlint/static/project/)."""
        return self.project.lookup(self, expr, scope) if self.project is not None else None

    def imported_return(self, call: cst.Call, scope: Scope) -> tuple[str, str | None, Instance | None, str] | None:
        """(kind, class, bound optimizer, file) of what a project function returns: `build_optimizer(model)`."""
        found = self.imported(call.func, scope)
        if found is None or found[0] != "function" or found[1]["returns"] is None:
            return None
        kind, cls, bound = found[1]["returns"]
        optimizer = None
        if bound is not None:
            entry = found[1]
            given = summarised_argument(call, entry, bound)
            optimizer = self.instance_of(given, scope) if given is not None else None
        return kind, cls, optimizer if optimizer is not None and optimizer.kind == OPTIMIZER else None, found[2]

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

    def scheduler_subclass(self, expr: cst.BaseExpression, scope: Scope) -> Subclass | None:
        """The project's subclass of a torch scheduler that `expr` names: a class of this file, or one
        another module of the project defines (its summary says so)."""
        if isinstance(expr, cst.Name) and self._names_own_class(expr.value, scope):
            return self.memoized(("scheduler-subclass", expr.value), lambda: self._scheduler_subclass(expr.value))
        found = self.imported(expr, scope)
        if found is None or found[0] != "class" or "scheduler" not in found[1]:
            return None
        torch_class, defines = found[1]["scheduler"]
        return Subclass(terminal_name(expr) or "", torch_class, frozenset(defines), found[2])

    def _names_own_class(self, name: str, scope: Scope) -> bool:
        entry = self.classes.get(name)
        binding = self.binding_scope(name, scope)
        return (entry is not None and entry[1] is binding and name not in binding.assignments
                and name not in binding.imports and name not in binding.functions)

    def _scheduler_subclass(self, name: str) -> Subclass | None:
        """A class of this file whose bases reach one torch scheduler class through this file's classes."""

        def torch_scheduler(base: cst.BaseExpression, scope: Scope) -> str | None:
            resolved = self.torch_class(base, scope)
            return resolved[1] if resolved is not None and resolved[0] == SCHEDULER else None

        found = self.class_chain(name, torch_scheduler)
        if found is None or len(found[1]) != 1:
            return None
        chain, (torch_class,) = found
        defines = set().union(*((*body.functions, *body.bound, *body.imports) for body in chain))  # `get_lr = ...` too
        return Subclass(name, torch_class, frozenset(defines))

    def class_chain(self, name: str, root) -> tuple[list[Scope], set] | None:
        """The scopes of this file's class `name` and of its bases among this file's classes, with what
        `root(base, scope)` says of the other bases (None: not a root). None when some base is neither a
        root, one of these classes nor `object`: a mixin, an import, may define anything."""
        chain, roots, pending, seen = [], set(), [name], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            node, outer = self.classes[current]
            body = self.scopes_by_node.get(node)
            if body is None:
                return None
            chain.append(body)
            for base in node.bases:
                found = root(base.value, outer)
                if found is not None:
                    roots.add(found)
                elif isinstance(base.value, cst.Name) and self._names_own_class(base.value.value, outer):
                    pending.append(base.value.value)
                elif not self.is_builtin(base.value, "object", outer):
                    return None
        return chain, roots

    def is_scheduler_subclass(self, class_node: cst.ClassDef, scope: Scope) -> bool:
        for base in class_node.bases:
            qualname = self.qualname(base.value, scope) or dotted(base.value) or ""
            if qualname.startswith(LR_SCHEDULER) or re.search(r"(LR|Scheduler|Schedule)$", qualname):
                return True
        return False
