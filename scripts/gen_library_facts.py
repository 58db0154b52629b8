"""Generate optlint/library_facts.json: which attributes of library models hold parameterless modules.

Read from each library's source with libcst, never imported (torchvision cannot be imported next to
the CPU torch, and `import timm` needs torchvision). What it records is what the source proves:

- a class's attribute is parameterless when every store to `self.<attr>` in the class and in all its
  bases is `self.<attr> = nn.X(...)` (or `a if c else b` of such) with `nn.X` owning no parameters
  for the literal flags given (the torch facts decide, as for the linted file); a store of any other
  form (`self.a, self.b = make()`, `self.act = act_layer()`, `self.relu.x = ...`, `setattr(self, "relu",
  ...)`), a class attribute or property of that name, a base outside the library that is not
  `nn.Module`, a class decorator not known to return the class, or a dynamic `setattr`/`__setattr__`
  makes it unknown, so it is left out;
- a factory (torchvision only) builds a class when each of its returns is a call of that class or of
  another such factory, or a name assigned once from one that the factory calls nothing on but
  `load_state_dict` and passes to nothing (`quantize_model(model)` replaces modules); its decorators
  must be the library's known pass-through ones;
- `timm.create_model` and `transformers.AutoModel*` choose the class at run time: never recorded;
  timm's own factories go through `build_model_with_cfg`, which may return a `FeatureListNet`, so
  only timm's classes are; a transformers class also gives `Class.from_pretrained`, unless called
  with `output_loading_info` (a tuple) or `**kwargs`. transformers 5.23's `PreTrainedModel` sets
  attributes by computed names (`setattr(self, name, value)`), so none of its models' attributes is
  provable and the table records none: that is the answer, not a gap to fill by hand.

Limits: code of the library outside the class that mutates an instance (`fuse_modules(model, ...)`
called by the user) and monkey-patching are not seen; `self` aliased to another name is not
followed. Public names are what the package `__init__`s re-export (`from .resnet import *`,
`__all__`), and for transformers the `__all__` of a modeling file (transformers exports those).

    python scripts/gen_library_facts.py           # rewrite the table
    python scripts/gen_library_facts.py --check   # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import libcst as cst
from libcst.metadata import ExpressionContext, ExpressionContextProvider, MetadataWrapper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optlint import facts as torch_facts  # noqa: E402
from optlint.static.semantic import ModuleBuild, SemanticModel, is_parameterless  # noqa: E402
from optlint.static.semantic.expressions import dotted as _dotted  # noqa: E402

TABLE = ROOT / "optlint" / "library_facts.json"
CACHE = Path(os.environ.get("OPTLINT_LIBRARY_CACHE", Path.home() / ".cache" / "optlint-libfacts"))
TORCHVISION = "0.28.0"  # the release paired with the pinned torch 2.13.0
NN_MODULE = {"torch.nn.Module", "torch.nn.modules.module.Module"}
STORE = (ExpressionContext.STORE, ExpressionContext.DEL)
# Only these methods may be called on a factory's model before it is returned: they load weights.
KEEPS_MODULES = {"load_state_dict"}
MAX_DEPTH = 12


@dataclass(frozen=True)
class Library:
    name: str
    modules: tuple[str, ...]  # the modules scanned (a package: all its modules)
    factories: bool  # whether public functions are followed to the class they build
    # Decorators (qualified) that return the function or class they decorate, read in their source.
    pass_through: frozenset[str] = frozenset()
    loader: str | None = None  # a classmethod that returns an instance of its class
    loader_changes_with: tuple[str, ...] = ()  # keywords that make the loader return something else


LIBRARIES = (
    Library("torchvision", ("torchvision.models",), factories=True, pass_through=frozenset({
        "torchvision.models._api.register_model", "torchvision.models._utils.handle_legacy_interface"})),
    Library("timm", tuple(f"timm.models.{m}" for m in (
        "resnet", "vision_transformer", "efficientnet", "convnext", "swin_transformer", "mobilenetv3",
        "regnet", "densenet", "vgg", "deit")), factories=False),
    Library("transformers", tuple(f"transformers.models.{family}.modeling_{family}" for family in (
        "bert", "gpt2", "vit")), factories=False,
        pass_through=frozenset({"transformers.utils.auto_docstring", "transformers.utils.generic.auto_docstring",
                                "transformers.utils.auto_docstring.auto_docstring"}),
        loader="from_pretrained", loader_changes_with=("output_loading_info",)),
)


def library_root(library: Library) -> tuple[Path, str] | None:
    """(the directory holding the package, its version), or None when it cannot be had here."""
    if library.name == "torchvision":
        return _torchvision_source()
    try:
        dist = metadata.distribution(library.name)
    except metadata.PackageNotFoundError:
        return None
    return Path(dist.locate_file("")), dist.version


def _torchvision_source() -> tuple[Path, str] | None:
    """torchvision's wheel, downloaded once into the cache and unpacked there (its source only)."""
    target = CACHE / f"torchvision-{TORCHVISION}"
    if not (target / "torchvision" / "models").is_dir():
        wheels = sorted(CACHE.glob(f"torchvision-{TORCHVISION}-*.whl"))
        if not wheels:
            CACHE.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"torchvision=={TORCHVISION}",
                            "-d", str(CACHE)], capture_output=True)
            wheels = sorted(CACHE.glob(f"torchvision-{TORCHVISION}-*.whl"))
        if not wheels:
            return None
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(target, [n for n in wheel.namelist() if n.startswith("torchvision/") and n.endswith(".py")])
    return target, TORCHVISION


@dataclass
class Parsed:
    name: str
    is_package: bool
    module: cst.Module
    model: SemanticModel
    contexts: dict
    defs: dict[str, cst.CSTNode | None]  # top-level classes and functions; None: defined twice
    imports: dict[str, str]  # local name -> qualified name, relative imports resolved
    star_imports: list[str]
    all_names: list[str] | None


class Source:
    """The modules of one library, parsed on demand."""

    def __init__(self, root: Path, package: str):
        self.root, self.package = root, package

    def owns(self, qualname: str) -> bool:
        return qualname == self.package or qualname.startswith(self.package + ".")

    @functools.cache
    def parsed(self, name: str) -> Parsed | None:
        base = self.root / name.replace(".", "/")
        path = next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)
        if path is None:
            return None
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        contexts = wrapper.resolve(ExpressionContextProvider)
        parsed = Parsed(name, path.name == "__init__.py", module, SemanticModel(module, torch_facts.load()),
                        contexts, {}, {}, [], None)
        for statement in module.body:
            self._top_level(parsed, statement)
        return parsed

    def _top_level(self, parsed: Parsed, statement: cst.CSTNode) -> None:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            name = statement.name.value
            parsed.defs[name] = None if name in parsed.defs else statement
            return
        if not isinstance(statement, cst.SimpleStatementLine):
            return
        for small in statement.body:
            if isinstance(small, cst.ImportFrom):
                self._import_from(parsed, small)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    full = _dotted(alias.name)
                    local = alias.asname.name.value if alias.asname else full.split(".")[0]
                    parsed.imports[local] = full if alias.asname else local
            elif isinstance(small, cst.Assign) and _assigns_all(small):
                parsed.all_names = [e.value.evaluated_value for e in small.value.elements
                                    if isinstance(e.value, cst.SimpleString)]

    def _import_from(self, parsed: Parsed, node: cst.ImportFrom) -> None:
        package = parsed.name if parsed.is_package else parsed.name.rpartition(".")[0]
        if node.relative:
            package = ".".join(package.split(".")[: len(package.split(".")) - len(node.relative) + 1])
        module = ".".join(p for p in (package if node.relative else "", _dotted(node.module) if node.module else "") if p)
        if isinstance(node.names, cst.ImportStar):
            parsed.star_imports.append(module)
            return
        for alias in node.names:
            local = alias.asname.name.value if alias.asname else alias.name.value
            parsed.imports[local] = f"{module}.{alias.name.value}"

    def resolve(self, qualname: str, depth: int = 0) -> tuple[Parsed, cst.CSTNode] | str | None:
        """The definition a qualified name of this library names; the name itself when it is outside
        the library; None when it is not one definition."""
        if not self.owns(qualname):
            return qualname
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            parsed = self.parsed(".".join(parts[:cut]))
            if parsed is not None:
                return self.lookup(parsed, ".".join(parts[cut:]), depth) if cut == len(parts) - 1 else None
        return None

    def lookup(self, parsed: Parsed, name: str, depth: int = 0):
        if depth > MAX_DEPTH:
            return None
        if name in parsed.defs:
            node = parsed.defs[name]
            return (parsed, node) if node is not None and name not in parsed.imports else None
        if name in parsed.imports:
            return self.resolve(parsed.imports[name], depth + 1)
        found = [self.resolve(f"{star}.{name}", depth + 1) for star in parsed.star_imports]
        found = [f for f in found if isinstance(f, tuple)]
        return found[0] if len(found) == 1 else None

    def qualified(self, parsed: Parsed, expr: cst.BaseExpression) -> str | None:
        """The qualified name a module-level name or dotted attribute of `parsed` refers to."""
        dotted = _dotted(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in parsed.defs:
            return f"{parsed.name}.{dotted}"
        target = parsed.imports.get(head)
        return f"{target}.{rest}".rstrip(".") if target else None

    def exports(self, package: str, depth: int = 0) -> dict[str, str]:
        """Name -> qualified name of the definitions a module makes importable from itself."""
        parsed = self.parsed(package)
        if parsed is None or depth > MAX_DEPTH:
            return {}
        names = {n: f"{package}.{n}" for n, node in parsed.defs.items() if node is not None and not n.startswith("_")}
        names |= {local: target for local, target in parsed.imports.items() if self.owns(target)}
        for star in parsed.star_imports:
            if self.owns(star):
                names |= {n: q for n, q in self.exports(star, depth + 1).items() if _exported(self.parsed(star), n)}
        return names


def _exported(parsed: Parsed | None, name: str) -> bool:
    if parsed is None:
        return False
    return name in parsed.all_names if parsed.all_names is not None else not name.startswith("_")


def _assigns_all(node: cst.Assign) -> bool:
    return (len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name)
            and node.targets[0].target.value == "__all__" and isinstance(node.value, (cst.List, cst.Tuple)))


class Analyser:
    """Class and factory facts of one library."""

    def __init__(self, library: Library, source: Source):
        self.library, self.source = library, source
        self._stores: dict[str, dict | None] = {}

    def class_facts(self, qualname: str) -> dict[str, list[str]]:
        """attribute -> the torch.nn classes it may hold, for the attributes provably parameterless."""
        stores = self.class_stores(qualname)
        if not stores:
            return {}
        return {attr: sorted(set(kinds)) for attr, kinds in sorted(stores.items()) if kinds and None not in kinds}

    def class_stores(self, qualname: str, depth: int = 0) -> dict[str, list] | None:
        """attribute -> what each store to `self.<attr>` in the class and its bases puts there (a torch.nn
        class name, or None for anything else); None when the class cannot be read whole."""
        if qualname not in self._stores:
            self._stores[qualname] = None  # a cycle of bases reads as unknown
            self._stores[qualname] = self._read_class(qualname, depth)
        return self._stores[qualname]

    def _read_class(self, qualname: str, depth: int) -> dict[str, list] | None:
        found = self.source.resolve(qualname)
        if not isinstance(found, tuple) or not isinstance(found[1], cst.ClassDef) or depth > MAX_DEPTH:
            return None
        parsed, node = found
        if not all(self._passes_through(parsed, d.decorator) for d in node.decorators):
            return None
        stores = _ClassStores(parsed, node).read()
        if stores is None:
            return None
        for base in node.bases:
            base_name = self.source.qualified(parsed, base.value) if base.keyword is None else None
            if base_name in NN_MODULE:
                continue
            inherited = self.class_stores(base_name, depth + 1) if base_name and self.source.owns(base_name) else None
            if inherited is None:
                return None
            for attr, kinds in inherited.items():
                stores.setdefault(attr, []).extend(kinds)
        return stores

    def _passes_through(self, parsed: Parsed, decorator: cst.BaseExpression) -> bool:
        target = decorator.func if isinstance(decorator, cst.Call) else decorator
        return self.source.qualified(parsed, target) in self.library.pass_through

    def factory_class(self, qualname: str, depth: int = 0) -> str | None:
        """The class every call of a library function returns an instance of, when its source proves it."""
        found = self.source.resolve(qualname)
        if not isinstance(found, tuple) or depth > MAX_DEPTH:
            return None
        parsed, node = found
        if isinstance(node, cst.ClassDef):
            return qualname if self.class_stores(qualname) is not None else None
        if not all(self._passes_through(parsed, d.decorator) for d in node.decorators):
            return None
        returns = _Returns(node).read()
        if not returns:
            return None
        classes = {self._built(parsed, node, value, depth) for value in returns}
        return classes.pop() if len(classes) == 1 and None not in classes else None

    def _built(self, parsed: Parsed, function: cst.FunctionDef, value: cst.BaseExpression, depth: int) -> str | None:
        if isinstance(value, cst.Name):
            value = _sole_build(function, value.value)
        if not isinstance(value, cst.Call):
            return None
        called = self.source.qualified(parsed, value.func)
        return self.factory_class(self._canonical(called), depth + 1) if called and self.source.owns(called) else None

    def _canonical(self, qualname: str) -> str:
        found = self.source.resolve(qualname)
        if isinstance(found, tuple):
            return f"{found[0].name}.{found[1].name.value}"
        return qualname


class _ClassStores(cst.CSTVisitor):
    """Every store to `self.<attr>` inside a class's own body (nested classes excluded)."""

    def __init__(self, parsed: Parsed, node: cst.ClassDef):
        self.parsed, self.node = parsed, node
        self.stores: dict[str, list] = {}
        self.functions: list[cst.FunctionDef] = []
        self.read_assignments: set[cst.Attribute] = set()
        self.dynamic = False

    def read(self) -> dict[str, list] | None:
        for statement in self.node.body.body:
            self._class_level(statement)
        self.node.body.visit(self)
        return None if self.dynamic else self.stores

    def _class_level(self, statement: cst.CSTNode) -> None:
        """A class attribute, method or property named like an attribute shadows or replaces it."""
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            name = statement.name.value
            if name in {"__getattr__", "__setattr__", "__getattribute__", "__delattr__"}:
                self.dynamic = True
            self.stores.setdefault(name, []).append(None)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets = small.targets if isinstance(small, cst.Assign) else [small] if isinstance(
                    small, (cst.AnnAssign, cst.AugAssign)) else []
                for target in targets:
                    for name in _names_in(target.target):
                        self.stores.setdefault(name, []).append(None)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return node is self.node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "__dict__" and _is_self(node.value):
            self.dynamic = True
        if self.parsed.contexts.get(node) in STORE:
            self._store(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if self.parsed.contexts.get(node) in STORE:
            self._store(node)

    def _store(self, node: cst.BaseExpression) -> None:
        if node in self.read_assignments:
            return
        chain = node
        while isinstance(chain, (cst.Attribute, cst.Subscript)) and not (
                isinstance(chain, cst.Attribute) and _is_self(chain.value)):
            chain = chain.value
        if isinstance(chain, cst.Attribute):
            if chain.attr.value == "__class__":
                self.dynamic = True
            self.stores.setdefault(chain.attr.value, []).append(None)

    def visit_Assign(self, node: cst.Assign) -> None:
        """`self.relu = nn.ReLU()` in a method: what it builds (its target is then read here only)."""
        target = node.targets[0].target
        if len(node.targets) == 1 and isinstance(target, cst.Attribute) and _is_self(target.value) and self.functions:
            self.read_assignments.add(target)
            self.stores.setdefault(target.attr.value, []).extend(self._parameterless(node.value) or [None])

    def visit_Call(self, node: cst.Call) -> None:
        """`setattr(self, "relu", m)`, `self.add_module("relu", m)`: a store by name."""
        name = _dotted(node.func)
        by_name = name in {"setattr", "delattr", "object.__setattr__"} and node.args and _is_self(node.args[0].value)
        method = isinstance(node.func, cst.Attribute) and _is_self(node.func.value) and node.func.attr.value in {
            "add_module", "register_module", "__setattr__", "__delattr__"}
        if not (by_name or method):
            return
        key = node.args[1 if by_name else 0].value if len(node.args) > (1 if by_name else 0) else None
        if isinstance(key, cst.SimpleString):
            self.stores.setdefault(key.evaluated_value, []).append(None)
        else:
            self.dynamic = True

    def _parameterless(self, value: cst.BaseExpression) -> list[str] | None:
        """The torch.nn classes a value builds, when each provably owns no parameters."""
        if isinstance(value, cst.IfExp):
            body, orelse = self._parameterless(value.body), self._parameterless(value.orelse)
            return body + orelse if body is not None and orelse is not None else None
        if not isinstance(value, cst.Call):
            return None
        model = self.parsed.model
        scope = model.scope_of_function.get(self.functions[-1])
        torch_name = model.nn_class(value.func, scope) if scope is not None else None
        if torch_name is None or torch_name not in model.facts.nn_modules:
            return None
        return [torch_name] if is_parameterless(model, ModuleBuild(value, scope, torch_name=torch_name)) else None


def _is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "self"


def _names_in(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _names_in(e.value)]
    return []


class _Returns(cst.CSTVisitor):
    """A function's return values (nested functions excluded); None for a bare `return`."""

    def __init__(self, node: cst.FunctionDef):
        self.node, self.values, self.bare = node, [], False

    def read(self) -> list[cst.BaseExpression]:
        self.node.body.visit(self)
        return [] if self.bare else self.values

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            self.bare = True
        else:
            self.values.append(node.value)


class _Uses(cst.CSTVisitor):
    """How a function uses a name: its assignments, and whether anything but a weight load touches it."""

    def __init__(self, name: str):
        self.name, self.assigned, self.touched = name, [], False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if self.name in _names_in(target.target):
                self.assigned.append(node.value if isinstance(target.target, cst.Name) else None)
            elif _dotted(target.target) and _dotted(target.target).split(".")[0] == self.name:
                self.touched = True  # `model.fc = ...`

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self.name in _names_in(node.target):
            self.assigned.append(None)

    def visit_Arg(self, node: cst.Arg) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.name:
            self.touched = True  # passed to a function that may replace its modules

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.name:
            self.touched |= func.attr.value not in KEEPS_MODULES


def _sole_build(function: cst.FunctionDef, name: str) -> cst.BaseExpression | None:
    """The one value a factory assigns to the name it returns, when nothing else may change it."""
    uses = _Uses(name)
    function.body.visit(uses)
    if uses.touched or len(uses.assigned) != 1:
        return None
    return uses.assigned[0]


def generate() -> dict:
    versions, skipped, classes, factories = {}, {}, {}, {}
    for library in LIBRARIES:
        located = library_root(library)
        if located is None:
            skipped[library.name] = "cannot be installed or downloaded here"
            continue
        root, versions[library.name] = located
        source = Source(root, library.name)
        analyser = Analyser(library, source)
        for module in _scanned_modules(source, library):
            _add_module(analyser, module, classes, factories)
    return {
        "generated_by": "scripts/gen_library_facts.py",
        "versions": versions,
        "skipped": skipped,
        "classes": dict(sorted(classes.items())),
        "factories": dict(sorted(factories.items())),
    }


def _scanned_modules(source: Source, library: Library) -> list[str]:
    names = []
    for module in library.modules:
        base = source.root / module.replace(".", "/")
        if base.is_dir():
            names += sorted(".".join(p.relative_to(source.root).with_suffix("").parts).removesuffix(".__init__")
                            for p in base.rglob("*.py"))
        elif base.with_suffix(".py").is_file():
            names.append(module)
    return names


def _add_module(analyser: Analyser, module: str, classes: dict, factories: dict) -> None:
    library, source = analyser.library, analyser.source
    parsed = source.parsed(module)
    for name, node in parsed.defs.items():
        if node is None or name.startswith("_") or not _exported(parsed, name):
            continue
        qualname = f"{module}.{name}"
        if isinstance(node, cst.ClassDef):
            found = analyser.class_facts(qualname)
            if found:
                classes[qualname] = found
                for public in _public_names(source, library, qualname):
                    factories[public] = {"class": qualname}
                    if library.loader and _loader_is_inherited(analyser, qualname):
                        factories[f"{public}.{library.loader}"] = {
                            "class": qualname, "unless_keywords": list(library.loader_changes_with)}
        elif library.factories:
            built = analyser.factory_class(qualname)
            if built and analyser.class_facts(built):
                classes[built] = analyser.class_facts(built)
                for public in _public_names(source, library, qualname):
                    factories[public] = {"class": built}


def _loader_is_inherited(analyser: Analyser, qualname: str) -> bool:
    """The loader is the library's base class's: no class of the model defines its own."""
    stores = analyser.class_stores(qualname) or {}
    return analyser.library.loader not in stores


def _public_names(source: Source, library: Library, qualname: str) -> list[str]:
    """The module's own name and every package above it that re-exports it."""
    names = [qualname]
    module, _, name = qualname.rpartition(".")
    parts = module.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        package = ".".join(parts[:cut])
        if source.exports(package).get(name) == qualname:
            names.append(f"{package}.{name}")
    if library.name == "transformers":
        names.append(f"transformers.{name}")  # transformers exports every modeling file's __all__
    return sorted(set(names))


def render(table: dict) -> str:
    return json.dumps(table, indent=1, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in table is stale")
    args = parser.parse_args()
    fresh = render(generate())
    if args.check:
        stale = not TABLE.is_file() or TABLE.read_text(encoding="utf-8") != fresh
        print(f"{TABLE.name} is stale: run `make library-facts`" if stale else f"{TABLE.name} is up to date")
        return int(stale)
    TABLE.write_text(fresh, encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
