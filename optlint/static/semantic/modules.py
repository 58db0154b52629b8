"""Which `nn.Module` an expression holds, when the file proves it.

`module_builds(model, expr, scope)` follows names, `self.x` attributes, attributes of instances of
same-file module classes, `nn.Sequential` positions (`seq[1]`), `OrderedDict` names (`seq.relu`)
and methods that return the module (`.to(device)`, `.train()`) back to the calls that built it:
`nn.ReLU()`, `Net()`, or a library model's factory (`torchvision.models.resnet34()`, whose
parameterless attributes come from optlint/library_facts.json). It answers None as soon
as one thing the expression may hold is not such a call (a function parameter, a factory's
result, a tensor attribute like `model.weight`): rules built on it stay silent then.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from optlint import library_facts
from optlint.static.semantic.expressions import argument, bool_literal, terminal_name
from optlint.static.semantic.model import SemanticModel
from optlint.static.semantic.scopes import Scope

_MAX_DEPTH = 12  # name -> attribute -> name ... chains longer than this are given up


@dataclass(frozen=True)
class ModuleBuild:
    """A call that builds a module: a `torch.nn` class (`torch_name`), a same-file subclass, or a
    library model (`library_class`); `library_attribute` names a parameterless attribute of that model."""

    call: cst.Call
    scope: Scope  # where the call's names resolve
    torch_name: str | None = None
    user_class: str | None = None
    library_class: str | None = None
    library_attribute: str | None = None


def module_builds(
    model: SemanticModel, expr: cst.BaseExpression, scope: Scope, depth: int = 0
) -> list[ModuleBuild] | None:
    """Every module build `expr` may hold, or None when one of its values is not a known module."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, cst.Call):
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _returning_self(model):
            return module_builds(model, expr.func.value, scope, depth + 1)  # `Net().to(device)`
        build = _build(model, expr, scope)
        return [build] if build is not None else None
    if isinstance(expr, cst.Name) or model.attribute_owner(expr, scope) is not None:
        return _bound_builds(model, expr, scope, depth)
    if isinstance(expr, cst.Attribute):
        return _member_builds(model, expr, scope, depth, _attribute_member)
    if isinstance(expr, cst.Subscript):
        return _member_builds(model, expr, scope, depth, _subscript_member)
    return None


def _returning_self(model: SemanticModel) -> list[str]:
    return model.facts.nn_modules["Module"].get("methods_returning_self", [])


def _build(model: SemanticModel, call: cst.Call, scope: Scope) -> ModuleBuild | None:
    torch_name = model.nn_class(call.func, scope)
    if torch_name is not None:
        return ModuleBuild(call, scope, torch_name=torch_name) if torch_name in model.facts.nn_modules else None
    if isinstance(call.func, cst.Name) and _is_local_module_class(model, call.func, scope):
        return ModuleBuild(call, scope, user_class=call.func.value)
    qualname = model.qualname(call.func, scope)
    keywords = frozenset(a.keyword.value for a in call.args if a.keyword is not None)
    library_class = qualname and library_facts.class_built_by(qualname, keywords, any(a.star == "**" for a in call.args))
    return ModuleBuild(call, scope, library_class=library_class) if library_class else None


def _is_local_module_class(model: SemanticModel, name: cst.Name, scope: Scope) -> bool:
    """A same-file `nn.Module` subclass, and the name is not rebound to something else here."""
    if not model.is_module_subclass(name.value):
        return False
    binding = model.binding_scope(name.value, scope)
    return binding is not None and not binding.assignments.get(name.value) and name.value not in binding.imports


def _bound_builds(model, expr, scope, depth) -> list[ModuleBuild] | None:
    """What a plain name or `self.x` was assigned, when every assignment is a known module."""
    if model.receives_parameter(expr, scope):
        return None  # the caller decides what it holds
    if isinstance(expr, cst.Attribute) and expr.attr.value in _stored_members(model)[0]:
        return None  # `model.head = ...` outside the class may replace `self.head`
    assignments = model.values_of(expr, scope)
    return _all_builds(model, [(a.value, a.resolution_scope) for a in assignments], depth)


def _all_builds(model, values: list[tuple[cst.BaseExpression, Scope]], depth: int) -> list[ModuleBuild] | None:
    if not values:
        return None
    builds: list[ModuleBuild] = []
    for value, scope in values:
        found = module_builds(model, value, scope, depth + 1)
        if found is None:
            return None
        builds.extend(found)
    return builds


def _member_builds(model, expr, scope, depth, member) -> list[ModuleBuild] | None:
    """`base.name` / `base[i]`: the child each possible base module holds there."""
    owners = module_builds(model, expr.value, scope, depth + 1)
    if owners is None:
        return None
    values, library_members = [], []
    for owner in owners:
        if owner.library_class is not None:
            library_members.append(_library_member(model, owner, expr))
            continue
        child = member(model, owner, expr)
        if child is None:
            return None
        values.extend(child)
    if None in library_members:
        return None
    builds = _all_builds(model, values, depth) if values else []
    return None if builds is None else library_members + builds


def _library_member(model, owner: ModuleBuild, expr) -> ModuleBuild | None:
    """`resnet.relu`: the library's table says what the attribute holds, unless the file replaces it."""
    if not isinstance(expr, cst.Attribute) or expr.attr.value in _stored_members(model)[0]:
        return None
    if library_facts.parameterless_attribute(owner.library_class, expr.attr.value) is None:
        return None
    return ModuleBuild(owner.call, owner.scope, library_class=owner.library_class, library_attribute=expr.attr.value)


def _attribute_member(model, owner: ModuleBuild, expr: cst.Attribute) -> list[tuple[cst.BaseExpression, Scope]] | None:
    name = expr.attr.value
    if name in _stored_members(model)[0]:
        return None  # `model.head = nn.Linear(...)` somewhere: the class's own value may be gone
    if owner.user_class is not None:
        assignments = _class_attribute(model, owner.user_class, name)
        return [(a.value, a.resolution_scope) for a in assignments] if assignments else None
    named = _sequential_named_children(model, owner)
    if named is not None and name in named:
        return [(named[name], owner.scope)]
    return None


def _class_attribute(model: SemanticModel, class_name: str, attr: str) -> list:
    """`self.<attr>` assignments of a same-file class, or of its nearest same-file base that has some."""
    seen = set()
    while class_name in model.classes and class_name not in seen:
        seen.add(class_name)
        scope = model.class_scope(class_name)
        if scope is not None and attr in scope.attributes:
            return scope.attributes[attr]
        node = model.classes[class_name][0]
        class_name = next((b.value.value for b in node.bases if isinstance(b.value, cst.Name)), "")
    return []


def _subscript_member(model, owner: ModuleBuild, expr: cst.Subscript) -> list[tuple[cst.BaseExpression, Scope]] | None:
    if owner.torch_name != "Sequential" or len(expr.slice) != 1:
        return None
    if terminal_name(expr.value) in _stored_members(model)[1]:
        return None  # `seq[1] = ...` somewhere: positions may hold other modules
    index = expr.slice[0].slice
    position = _int_literal(index.value) if isinstance(index, cst.Index) else None
    children = sequential_children(model, owner)
    if position is None or children is None or not -len(children) <= position < len(children):
        return None
    return [(children[position], owner.scope)]


def _stored_members(model: SemanticModel) -> tuple[set[str], set[str]]:
    """Attribute names the file assigns on any object (`model.head = ...`), and the names of
    containers it assigns items of (`seq[1] = ...`), outside `self.x = ...`."""
    def compute() -> tuple[set[str], set[str]]:
        stores = model.attribute_stores
        return (
            {s.attr.value for s in stores if isinstance(s, cst.Attribute)},
            {terminal_name(s.value) for s in stores if isinstance(s, cst.Subscript)},
        )

    return model.memoized("stored-members", compute)


def _int_literal(expr: cst.BaseExpression) -> int | None:
    negative = isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus)
    number = expr.expression if negative else expr
    if not isinstance(number, cst.Integer):
        return None
    return -number.evaluated_value if negative else number.evaluated_value


def sequential_children(model: SemanticModel, build: ModuleBuild) -> list[cst.BaseExpression] | None:
    """The modules an `nn.Sequential(...)` call lists, in order (None when it is not one, or `*layers`)."""
    if build.torch_name != "Sequential" or any(a.star or a.keyword is not None for a in build.call.args):
        return None
    named = _sequential_named_children(model, build)
    if named is not None:
        return list(named.values())
    return [a.value for a in build.call.args]


def _sequential_named_children(model, build: ModuleBuild) -> dict[str, cst.BaseExpression] | None:
    """`nn.Sequential(OrderedDict([('fc', ...), ('relu', ...)]))`: name -> module expression."""
    if build.torch_name != "Sequential" or len(build.call.args) != 1:
        return None
    ordered = build.call.args[0].value
    if not isinstance(ordered, cst.Call) or model.qualname(ordered.func, build.scope) != "collections.OrderedDict":
        return None
    pairs = argument(ordered, 0, None)
    if not isinstance(pairs, (cst.List, cst.Tuple)) or len(ordered.args) != 1:
        return None
    named = {}
    for element in pairs.elements:
        pair = element.value
        if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
            return None
        key = pair.elements[0].value
        if not isinstance(key, cst.SimpleString):
            return None
        named[key.evaluated_value] = pair.elements[1].value
    return named


def is_parameterless(model: SemanticModel, build: ModuleBuild, depth: int = 0) -> bool:
    """Whether the module this call builds provably owns no parameters.

    An `nn.Sequential` does when each module it lists does; any other class when the torch facts
    say so for the literal bool flags given (`BatchNorm2d(8, affine=False)`). A flag given as a
    variable, a `**kwargs` or (for classes that a flag gives parameters) a positional argument
    past the first leaves the answer unknown: False.
    """
    if build.library_attribute is not None:
        return True  # the table lists only parameterless attributes
    children = sequential_children(model, build)
    if children is not None:
        return bool(children) and depth < _MAX_DEPTH and all(
            (found := module_builds(model, child, build.scope)) is not None
            and all(is_parameterless(model, b, depth + 1) for b in found)
            for child in children
        )
    entry = model.facts.nn_modules.get(build.torch_name or "")
    flags = _literal_flags(build.call, entry) if entry is not None else None
    if flags is None:
        return False
    return model.facts.module_is_parameterless(build.torch_name, *flags)


def _literal_flags(call: cst.Call, entry: dict) -> tuple[frozenset[str], frozenset[str]] | None:
    """(flags given False, flags given True), or None when a flag that matters cannot be read."""
    deciding = set(entry.get("parameterless_when", {})) | set(entry.get("has_parameters_when", {}))
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or (entry.get("has_parameters_when") and len(positional) > 1):
        return None
    given = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    values = {name: bool_literal(value) for name, value in given.items() if name in deciding}
    if None in values.values():
        return None
    return (
        frozenset(n for n, v in values.items() if v is False),
        frozenset(n for n, v in values.items() if v is True),
    )


def describe(model: SemanticModel, build: ModuleBuild) -> str:
    """How a message names the module: `nn.ReLU`, `nn.BatchNorm2d(affine=False)`, the user's class."""
    if build.library_attribute is not None:
        kinds = library_facts.parameterless_attribute(build.library_class, build.library_attribute)
        return f"{' or '.join(f'nn.{k}' for k in kinds)} (`{build.library_class}.{build.library_attribute}`)"
    if build.torch_name is None:
        return str(build.user_class or build.library_class)
    entry = model.facts.nn_modules.get(build.torch_name, {})
    deciding = {*entry.get("parameterless_when", {}), *entry.get("has_parameters_when", {})}
    flags = [
        f"{a.keyword.value}={bool_literal(a.value)}"
        for a in build.call.args
        if a.keyword and a.keyword.value in deciding and bool_literal(a.value) is not None
    ]
    return f"nn.{build.torch_name}({', '.join(flags)})" if flags else f"nn.{build.torch_name}"
