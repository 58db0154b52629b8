"""`import libcst`, with the compiled methods of its node dataclasses kept between runs.

Importing libcst costs a third of a second here, and most of it is `dataclasses` at work: for each of
libcst's ~200 node classes it writes `__init__`, `__repr__`, `__eq__`, `__setattr__`... as source
text and compiles it, on every run, always to the same code. While libcst is imported, each such text
is compiled once and its code object kept in the user's cache directory (marshal, the format of
`.pyc` files), keyed by a digest of the exact text and named after the Python that compiled it.
Nothing else changes: the same code runs with the same globals, so the classes are the same.

Like `.pyc` files, the cache is written only when Python may write bytecode (not under
`PYTHONDONTWRITEBYTECODE` or `-B`), and a cache that cannot be read is ignored and replaced.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import marshal
import os
import sys
import threading
import types
from pathlib import Path

_LOCK = threading.Lock()


def import_libcst():
    """The libcst module, imported through the cache on first use."""
    if "libcst" not in sys.modules:
        with _LOCK:
            if "libcst" not in sys.modules:
                _import_with_cached_code()
    return sys.modules["libcst"]


def cache_file() -> Path | None:
    """Where the code is kept; None without a home directory to keep it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = Path.home() / ".cache"
        except (RuntimeError, KeyError):  # no HOME, and no entry for this user in the password database
            return None
    return Path(base) / "optlint" / f"libcst-dataclasses.{sys.implementation.cache_tag}.marshal"


def _import_with_cached_code() -> None:
    path = cache_file()
    known = _read(path) if path is not None else {}
    used: dict[bytes, object] = {}

    def compile_once(source, globals=None, locals=None):
        if isinstance(source, str):
            key = hashlib.blake2b(source.encode(), digest_size=16).digest()
            code = known.get(key) or compile(source, "<string>", "exec", dont_inherit=True)
            used[key] = source = code
        return builtins.exec(source, globals, locals)

    # `dataclasses` calls `exec` by its global name: shadowing it there reroutes only its own calls.
    dataclasses.exec = compile_once
    try:
        import libcst  # noqa: F401
    finally:
        del dataclasses.exec
    if path is not None and used.keys() != known.keys() and not sys.dont_write_bytecode:
        _write(path, used)  # only this import's entries: a cache never outgrows one libcst version


def _read(path: Path) -> dict:
    try:
        known = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {key: code for key, code in known.items() if isinstance(code, types.CodeType)}


def _write(path: Path, codes: dict) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(marshal.dumps(codes))
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except OSError:  # a read-only home, a file where the folder belongs: the next run compiles again
        with contextlib.suppress(OSError):
            temporary.unlink()
