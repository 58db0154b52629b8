"""`import libcst`, with the compiled methods of its node dataclasses kept between runs.

Importing libcst costs a third of a second here, and most of it is `dataclasses` at work: for each of
libcst's ~200 node classes it writes `__init__`, `__repr__`, `__eq__`, `__setattr__`... as source
text and compiles it, on every run, always to the same code. While libcst is imported, each such text
is compiled once and its code object kept (marshal, the format of `.pyc` files), keyed by a digest of
the exact text. Nothing else changes: the same code runs with the same globals, so the classes are the same.

Where the code is kept decides who can run code in optlint: whoever can write that file. So it lies
where Python keeps this very module's bytecode (`optlint/static/__pycache__/`, or under
`sys.pycache_prefix`), and is written when and where Python writes `.pyc` files (not under
`PYTHONDONTWRITEBYTECODE` or `-B`; not at all where the installed package is read-only). Whoever can
write there can already replace `libcst_import.*.pyc`, which Python runs on every import, so the cache
is exactly as trustworthy as the installed package's own bytecode, and no more (an install that
this user cannot write, such as a system one, runs without it: a third of a second slower). The user's
cache folder would not do, not even with a key to sign the file: CI caches restored from pull
requests, shared volumes and `sudo -E` let others write there, and whoever writes the file there
can write the key beside it. Against damage (a disk, a copy cut
short, another Python) the file starts with a header (this Python's bytecode magic number) and a
digest of the rest: any doubt is a miss, and the file is replaced, so a bad entry never runs and never
lasts.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import importlib.util
import marshal
import os
import sys
import threading
import types
from pathlib import Path

from optlint.static import cache_files

_LOCK = threading.Lock()
HEADER = b"optlint code cache\n" + importlib.util.MAGIC_NUMBER  # marshal's format changes with the magic number
DIGEST_BYTES = 32


def import_libcst():
    """The libcst module, imported through the cache on first use."""
    if "libcst" not in sys.modules:
        with _LOCK:
            if "libcst" not in sys.modules:
                _import_with_cached_code()
    return sys.modules["libcst"]


def cache_file() -> Path | None:
    """Where the code is kept: beside this module's `.pyc`; None where Python keeps no bytecode, or
    where no file can be written without following links."""
    if not cache_files.SUPPORTED:
        return None
    try:
        bytecode = importlib.util.cache_from_source(__file__)
    except NotImplementedError:  # no cache_tag: this Python writes no bytecode files
        return None
    return Path(bytecode).with_name(f"libcst-dataclasses.{sys.implementation.cache_tag}.marshal")


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
    """The code objects of an intact cache file; {} for anything else."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    body = data[len(HEADER) + DIGEST_BYTES:]
    if data[:len(HEADER)] != HEADER or data[len(HEADER):len(HEADER) + DIGEST_BYTES] != _digest(body):
        return {}  # cut short, damaged, or written by another Python: never handed to marshal
    try:
        known = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {key: code for key, code in known.items() if isinstance(code, types.CodeType)}


def _write(path: Path, codes: dict) -> None:
    body = marshal.dumps(codes)
    try:  # the folder is Python's own for this module's bytecode: made as Python makes it
        folder = cache_files.open_folder(path.parent, create=True, follow=True)
    except OSError:  # a read-only install, a file where the folder belongs: the next run compiles again
        return
    try:
        cache_files.write(folder, path.name, HEADER + _digest(body) + body)
    except OSError:
        pass
    finally:
        os.close(folder)


def _digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=DIGEST_BYTES).digest()
