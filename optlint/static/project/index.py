"""Summaries of the project's modules for one run, and the files each linted file's findings rest on.

One `Project` per run (and per worker process, forked from it): summaries found in the signed results
cache are used by content hash, others are made on demand from the file (read, never imported) and
handed back to be cached. A `FileView` answers the semantic model of one linted file and records each
import it resolved, found or not, with the content hash of the file found: the results cache keeps
them with the findings, and a recorded import that now resolves elsewhere, or a file whose hash
changed, makes the cached findings a miss (a change in engine.py re-lints train.py).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from optlint.static import files
from optlint.static.project.resolve import split_symbol

if TYPE_CHECKING:  # libcst is imported only by the runs that parse (see runner.py)
    import libcst as cst

Dependency = list  # [level, dotted name, file or None, content hash or None]


class Project:
    def __init__(self, settings: dict | None = None, cache=None):
        self.settings = settings or {}
        self.cache = cache  # the results cache: summaries by content hash, file hashes by stat
        self.made: dict[str, dict | None] = {}  # content hash -> summary made in this process
        self.by_path: dict[str, tuple[str | None, dict | None]] = {}
        self.digests: dict[str, str | None] = {}

    def view(self, importer: str) -> FileView | None:
        return None if importer in ("", "-") else FileView(self, importer)

    def summary(self, path: str) -> tuple[str | None, dict | None]:
        """(content hash, summary) of a project file; no summary when it cannot be read or parsed."""
        if path not in self.by_path:
            self.by_path[path] = self._summary(path)
        return self.by_path[path]

    def _summary(self, path: str) -> tuple[str | None, dict | None]:
        try:
            data = files.read(path)
        except files.InputError:
            return None, None
        digest = self.digests[path] = files.content_digest(data)
        from optlint.static.project.summary import is_summary

        known = self.cache.summary(digest) if self.cache is not None else None
        if known is not None and is_summary(known):
            return digest, known
        if digest not in self.made:
            self.made[digest] = _summarise_text(data, path, self.settings)
        return digest, self.made[digest]

    def take_made(self) -> dict[str, dict]:
        """The summaries made since the last call, for the parent to cache."""
        made = {d: s for d, s in self.made.items() if s is not None}
        self.made = {d: s for d, s in self.made.items() if s is None}
        return made

    def digest(self, path: str) -> str | None:
        """The file's content hash: from its unchanged stat when the cache knows it, else read."""
        if path not in self.digests:
            known = self.cache.known_digest(path) if self.cache is not None else None
            if known is None:
                try:
                    known = files.content_digest(files.read(path))
                except files.InputError:
                    known = None
            self.digests[path] = known
        return self.digests[path]

    def fresh(self, importer: str, dependencies: list) -> bool:
        """Whether each recorded import of `importer` still finds the file it found, with the same text."""
        try:
            for level, name, path, digest in dependencies:
                found = split_symbol(importer, level, name)
                if (found[0] if found else None) != path or (path is not None and self.digest(path) != digest):
                    return False
        except (TypeError, ValueError):
            return False  # not what FileView records
        return True


# `opt.step()`, `scaler.step(opt)`, `self.optimizer_step(opt)`, `optimizer.load_state_dict(state)`, `opt.state_dict()`
_STEP_OR_STATE_CALL = re.compile(r"step\s*\(|state_dict\s*\(")


def _summarise_text(data: bytes, path: str, settings: dict) -> dict | None:
    from optlint import facts as torch_facts
    from optlint.static.project.outline import has_seed, outline, state_parameters
    from optlint.static.syntax import python_tree

    try:
        text = files.decode(data, path).text
    except (UnicodeDecodeError, SyntaxError, LookupError):
        return None
    names = files.configured_names(settings)
    if not _STEP_OR_STATE_CALL.search(text) and not files.can_hold_finding(text, names):
        return {"functions": {}, "classes": {}, "objects": {}}  # no step, state or torch class: nothing to tell
    facts = torch_facts.load(settings.get("target_torch"))
    try:
        tree = python_tree(text, path)
    except RecursionError:
        return None
    if isinstance(tree, SyntaxError):  # newer syntax than this Python's, which libcst may read
        return _summarise_parsed(text, path, settings, facts, tree)
    if has_seed(tree, frozenset((*facts.optimizers, *facts.schedulers)), tuple(settings.get("optimizer_step_names", ()))):
        summary = _summarise_parsed(text, path, settings, facts, tree)
    else:
        summary = outline(tree)
    for name, uses in state_parameters(tree).items() if summary is not None else ():
        if name in summary["functions"]:
            summary["functions"][name].update(uses)
    return summary


def _summarise_parsed(text: str, path: str, settings: dict, facts, tree) -> dict | None:
    import libcst as cst

    from optlint.static.parse import parse
    from optlint.static.project.summary import summarise
    from optlint.static.semantic.model import SemanticModel

    try:
        module = parse(text, path, tree=tree)
        if not isinstance(module, cst.Module):
            return None
        return summarise(SemanticModel(module, facts), settings)
    except RecursionError:
        return None


class FileView:
    """The project as seen from one linted file."""

    def __init__(self, project: Project, importer: str):
        self.project = project
        self.importer = importer
        self.dependencies: dict[tuple[int, str], Dependency] = {}

    def lookup(self, model, expr: cst.BaseExpression, scope) -> tuple[str, dict, str] | None:
        """("function"|"class"|"object", its summary entry, the file's name for messages) for a name
        imported from a project module (`train_one_epoch`, `tnt.train`, `engine.run`)."""
        symbol = _imported_symbol(model, expr, scope)
        if symbol is None:
            return None
        level, name = symbol
        found = split_symbol(self.importer, level, name)
        if found is None or len(found[1]) != 1:  # `Config.from_file`: the file is found, nothing of it is used
            path = found[0] if found else None
            self._record(level, name, path, self.project.digest(path) if path else None)
            return None
        path, (attribute,) = found
        digest, summary = self.project.summary(path)
        self._record(level, name, path, digest)
        if summary is None:
            return None
        for kind, table in (("function", "functions"), ("class", "classes"), ("object", "objects")):
            if attribute in summary[table]:
                return kind, summary[table][attribute], self.display(path)
        return None

    def _record(self, level: int, name: str, path: str | None, digest: str | None) -> None:
        self.dependencies.setdefault((level, name), [level, name, path, digest])

    def recorded(self) -> list[Dependency]:
        return sorted(self.dependencies.values(), key=lambda d: (d[0], d[1]))

    def display(self, path: str) -> str:
        """The file as a finding names it: relative to the linted file's folder when below it."""
        relative = os.path.relpath(path, os.path.dirname(os.path.abspath(self.importer)))
        return relative if not relative.startswith("..") else path


def _imported_symbol(model, expr: cst.BaseExpression, scope) -> tuple[int, str] | None:
    """(level, dotted name) an expression names through the file's imports: `engine.train` for
    `engine.train` after `import engine`, (1, "engine.train") after `from . import engine`."""
    from optlint.static.semantic.expressions import dotted

    name = dotted(expr)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    binding = model.binding_scope(head, scope)
    if binding is None or head in binding.assignments or head in binding.functions:
        return None
    if head in binding.imports:
        if head in binding.bound:
            return None  # imported twice, or also bound otherwise
        qualified = binding.imports[head]
        return 0, f"{qualified}.{rest}" if rest else qualified
    relative = _relative_imports(model).get(head)
    if relative is None:
        return None
    level, module = relative
    return level, ".".join(p for p in (module, rest) if p)


def _relative_imports(model) -> dict[str, tuple[int, str]]:
    """Local name -> (level, dotted name) for `from .engine import train as t`; a name bound by two
    relative imports is left out."""
    import libcst as cst

    from optlint.static.semantic.expressions import dotted

    def compute():
        found: dict[str, tuple[int, str] | None] = {}
        for node in model.import_froms:
            if not node.relative or isinstance(node.names, cst.ImportStar):
                continue
            module = dotted(node.module) if node.module is not None else ""
            for alias in node.names:
                local = dotted(alias.asname.name if alias.asname else alias.name)
                target = (len(node.relative), ".".join(p for p in (module, dotted(alias.name)) if p))
                found[local] = target if found.get(local, target) == target else None
        return {k: v for k, v in found.items() if v is not None}

    return model.memoized("relative-imports", compute)


_current: Project | None = None


def current() -> Project:
    """The project of the run under way (see `install`), or a fresh one for a text linted alone (stdin,
    the language server): files may have changed since the last one."""
    return _current if _current is not None else Project()


def install(project: Project | None) -> None:
    """Make `project` the one lint_source uses (the runner, before it forks its workers)."""
    global _current
    from optlint.static.project import resolve, roots

    for cached in (resolve._split_symbol, resolve._module_file, resolve._real_root, roots.project_root,
                   roots.search_folders):
        cached.cache_clear()  # files may have come or gone since the last run (the language server)
    _current = project
