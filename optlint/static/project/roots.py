"""Where a linted file's project starts, and the folders its absolute imports are looked up in."""

from __future__ import annotations

import functools
import os

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


@functools.lru_cache(maxsize=1024)
def project_root(directory: str) -> str:
    """The nearest folder at or above `directory` that holds a project marker; `directory` itself
    when none does (a folder of scripts)."""
    current = directory
    while True:
        if any(os.path.lexists(os.path.join(current, marker)) for marker in MARKERS):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return directory
        current = parent


@functools.lru_cache(maxsize=1024)
def search_folders(directory: str) -> tuple[str, ...]:
    """Folders an absolute import of a file in `directory` may come from, first match wins: its own
    folder (as `python train.py` puts it on sys.path), the folders above it up to the project root,
    the root's `src/`, and the package folders its pyproject.toml declares. A package's own folder (one
    with `__init__.py`) is never on sys.path: in `pkg/strategies/deepspeed.py`, `import deepspeed` is the
    library, not the file itself."""
    root = project_root(directory)
    chain = [directory]
    while chain[-1] != root and os.path.dirname(chain[-1]) != chain[-1]:
        chain.append(os.path.dirname(chain[-1]))
    folders = [f for f in chain if f == root or not os.path.isfile(os.path.join(f, "__init__.py"))]
    folders.append(os.path.join(root, "src"))
    folders.extend(os.path.join(root, folder) for folder in _declared_package_folders(root))
    return tuple(dict.fromkeys(os.path.normpath(f) for f in folders if os.path.isdir(f)))


def _declared_package_folders(root: str) -> list[str]:
    """setuptools' `package-dir` and `packages.find.where`, poetry's `packages.from`, hatch's `sources`."""
    import tomllib

    try:
        with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
            tool = tomllib.load(handle).get("tool", {})
    except (OSError, ValueError):
        return []
    setuptools = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
    found: list = []
    if isinstance(setuptools, dict):
        package_dir = setuptools.get("package-dir", {})
        found += [package_dir.get("")] if isinstance(package_dir, dict) else []
        find = setuptools.get("packages", {})
        found += find.get("find", {}).get("where", []) if isinstance(find, dict) and isinstance(find.get("find"), dict) else []
    poetry = tool.get("poetry", {}) if isinstance(tool, dict) else {}
    if isinstance(poetry, dict) and isinstance(poetry.get("packages"), list):
        found += [p.get("from") for p in poetry["packages"] if isinstance(p, dict)]
    return [f for f in found if isinstance(f, str) and not os.path.isabs(f) and ".." not in f.split("/")]
