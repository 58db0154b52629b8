"""An import of the linted file -> the project file it names, when the project has one.

A module is looked up as Python would find it on disk (`a/b.py`, then `a/b/__init__.py`), only in the
project's folders (roots.py), and only when the file really lies inside the project: a candidate whose
real path leaves the project root (a symlink to elsewhere) or that is no regular file is no module.
`torch` is never the project's: a project file named like a library is used only because it exists.
"""

from __future__ import annotations

import functools
import os
import stat

from optlint.static.project.roots import project_root, search_folders

NEVER_PROJECT = frozenset({"torch"})


def resolve_module(importer: str, level: int, module: str) -> str | None:
    """The file of module `module` (dotted, may be empty for `from . import x`) imported `level` dots
    up from the file `importer`; None when it is not a file of the project."""
    return _resolve_in(os.path.dirname(os.path.abspath(importer)), level, module)


def _resolve_in(directory: str, level: int, module: str) -> str | None:
    parts = [p for p in module.split(".") if p]
    if level == 0:
        if not parts or parts[0] in NEVER_PROJECT:
            return None
        folders = search_folders(directory)
    else:
        base = directory
        for _ in range(level - 1):
            base = os.path.dirname(base)
        folders = (base,)
    root = project_root(directory)
    for folder in folders:
        found = _module_file(folder, tuple(parts), root)
        if found is not None:
            return found
    return None


def split_symbol(importer: str, level: int, dotted: str) -> tuple[str, list[str]] | None:
    """(file, attributes) for `dotted` (`utils.trainer.train`, `engine.train_one_epoch`): the longest
    prefix that names a project module, and the names that follow it."""
    found = _split_symbol(os.path.dirname(os.path.abspath(importer)), level, dotted)
    return (found[0], list(found[1])) if found is not None else None


@functools.lru_cache(maxsize=65536)  # a file asks for `torch.cat` at every call: each folder asks once
def _split_symbol(directory: str, level: int, dotted: str) -> tuple[str, tuple[str, ...]] | None:
    parts = dotted.split(".") if dotted else []
    for cut in range(len(parts), -1 if level else 0, -1):
        if cut == 0 and level == 0:
            break
        found = _resolve_in(directory, level, ".".join(parts[:cut]))
        if found is not None:
            return found, tuple(parts[cut:])
    return None


@functools.lru_cache(maxsize=65536)
def _module_file(folder: str, parts: tuple[str, ...], root: str) -> str | None:
    base = os.path.join(folder, *parts)
    candidates = (base + ".py", os.path.join(base, "__init__.py")) if parts else (os.path.join(base, "__init__.py"),)
    for candidate in candidates:
        if _inside_project(candidate, root):
            return candidate
    return None


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    return os.path.realpath(root)


def _inside_project(path: str, root: str) -> bool:
    """A regular file whose real path (every link followed) stays inside the project's real root."""
    try:
        os.lstat(path)  # most candidates do not exist: no need to resolve their links one by one
    except (OSError, ValueError):
        return False
    real = os.path.realpath(path)
    real_root = _real_root(root)
    if os.path.commonpath([real, real_root]) != real_root:
        return False
    try:
        return stat.S_ISREG(os.stat(real).st_mode)
    except (OSError, ValueError):
        return False
