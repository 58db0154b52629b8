"""Files in: discovery, decoding (PEP 263), and the cheap prefilter that spares libcst most files."""

from __future__ import annotations

import errno
import io
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "__pycache__", "node_modules",
                          ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".optlint_cache"})
SUFFIXES = (".py", ".pyi")
# libcst needs about 25 s and 0.5 GB per MB of source: a bigger file is generated data, not a
# training script, and would stall the run (a 50 MB one would exhaust the memory).
MAX_FILE_BYTES = 2 * 2**20

# Every rule needs an optimizer or scheduler: resolved through a `torch.optim` import (the text
# then holds "optim") or, for loop-order rules, a conventional name holding "sched". A file with
# neither can hold no finding, so it is never parsed. tests/test_prefilter.py proves it on fixtures.
CAN_HOLD_FINDING = re.compile(r"optim|sched", re.IGNORECASE)
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class InputError(Exception):
    """A path or file optlint cannot read: one line for the user, exit code 2."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str
    encoding: str


def discover(paths: list[str], excluded=lambda path: False) -> Iterator[str | InputError]:
    """Every lintable file under `paths`, in a stable order; unreadable paths as InputError."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, excluded)
        elif path.is_file():
            yield str(path)
        elif path.is_symlink():
            yield InputError(f"{raw}: {'symbolic link loop' if _loops(path) else 'broken symbolic link'}")
        elif not path.exists():
            yield InputError(f"{raw}: no such file or directory")
        else:
            yield InputError(f"{raw}: not a regular file")


def _loops(link: Path) -> bool:
    try:
        link.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _walk(root: Path, excluded) -> Iterator[str | InputError]:
    unreadable: list[OSError] = []  # a folder that cannot be listed is reported; the walk goes on
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable.append):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not excluded(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if name.endswith(SUFFIXES) and not excluded(full) and os.path.isfile(full):
                yield full
    for error in unreadable:
        yield InputError(f"{error.filename}: {error.strerror or error}")


def decode(data: bytes, path: str) -> SourceFile:
    """Decode as Python does: BOM, PEP 263 cookie, else UTF-8. Raises UnicodeDecodeError/SyntaxError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(path, text, encoding)


def read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return read_stream(handle, path)
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as error:
        raise InputError(f"{path}: {error.strerror or error}") from None


def read_stream(stream: BinaryIO, name: str) -> bytes:
    """All of a file or of stdin; InputError past MAX_FILE_BYTES (what lies beyond is never read)."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MB, optlint's limit for one file; skipped")
    return data


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """Lines as Python and libcst count them: only \\n, \\r\\n and \\r end a line (str.splitlines also
    breaks at form feeds and U+2028, which would shift every row after them)."""
    lines = LINE.findall(text)
    return lines if keepends else [line.rstrip("\r\n") for line in lines]


def can_hold_finding(text: str) -> bool:
    return CAN_HOLD_FINDING.search(text) is not None
