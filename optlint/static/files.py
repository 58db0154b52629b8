"""Files in: discovery, decoding (PEP 263), and the cheap prefilter that spares libcst most files."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import os
import re
import stat
import sys
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from optlint.facts import load as load_facts

SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "__pycache__", "node_modules",
                          ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".optlint_cache"})
SUFFIXES = (".py", ".pyi", ".ipynb")  # and Markdown or reStructuredText when `extend-include` names them
NOTEBOOK_SUFFIX = ".ipynb"
MARKDOWN_SUFFIXES = (".md", ".markdown")
RST_SUFFIXES = (".rst",)
# libcst needs about 25 s and 0.5 GB per MB of source: a bigger file is generated data, not a
# training script, and would stall the run (a 50 MB one would exhaust the memory).
MAX_FILE_BYTES = 2 * 2**20

# The prefilter spares libcst every file that cannot hold a finding. Every static rule reports on
# an optimizer or a scheduler, known in one of two ways:
# - a torch class: a name that resolves through the file's imports to `torch.optim.<Class>` or
#   `torch.optim.lr_scheduler.<Class>`, so the word `optim` and the class's own name are both in
#   the text (`from torch.optim import AdamW as A` still spells `optim` and `AdamW`);
# - for the loop-order rules only, a receiver whose name holds "sched" (`lr_scheduler.step()`).
# tests/test_prefilter.py proves on every fixture and rule example that it hides no finding.
# A text that passes is parsed by CPython first (parse.py), and `code_can_hold_finding` asks the
# same of its code alone, so words in docstrings and comments cost no libcst parse.
# Each pattern starts with a literal, so `re` can use its fast substring search; a leading `\b`
# would make it try every position (10x slower), so word starts are checked by hand.
OPTIM_WORD_END = re.compile(r"optim\b")
SCHEDULER_METHODS = (re.compile(r"step\b"), re.compile(r"get_lr\b"))
SPACE = frozenset(" \t\f\r\n\\")
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_EFFECTIVE_IDS = os.access in os.supports_effective_ids  # ask as the user optlint runs as (sudo, setuid)


class InputError(Exception):
    """A path or file optlint cannot read: one line for the user, exit code 2."""


class RewriteRefused(Exception):
    """Rewriting the file could lose or misplace data, so it is left alone: one line for the user."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str
    encoding: str


def is_default_excluded(path: str) -> bool:
    return os.path.basename(os.path.normpath(path)) in SKIPPED_DIRS


def is_not_included(path: str) -> bool:
    return False


def discover(paths: list[str], excluded=is_default_excluded, included=is_not_included,
             gitignore=None) -> Iterator[str | InputError]:
    """Every lintable file under `paths`, in a stable order, each once (under the name it is first
    reached by: `. train.py` lints `./train.py` alone); unreadable paths as InputError.

    `excluded(path)` prunes directories and files, named paths included (a pre-commit hook names
    every staged file, and the project's exclusions must still hold). A walk finds the SUFFIXES files,
    and those that `included(path)` adds (`extend-include`: Markdown tutorials, say). `gitignore` (a
    GitIgnore, or None) prunes what git ignores, but never a path named here: naming it is asking for it.
    """
    seen: set[str] = set()  # absolute paths, not resolved: a symbolic link is a file of its own, as in ruff
    for item in _discover_all(paths, excluded, included, gitignore):
        key = str(item) if isinstance(item, InputError) else same_file_key(item)
        if key not in seen:
            seen.add(key)
            yield item


def same_file_key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _discover_all(paths: list[str], excluded, included, gitignore) -> Iterator[str | InputError]:
    for raw in paths:
        path = Path(raw)
        if path.exists() and excluded(raw):
            continue
        if path.is_dir():
            yield from _walk(path, excluded, included, _walk_ignores(raw, gitignore))
        elif path.is_file():
            yield str(path)
        elif path.is_symlink():
            yield InputError(f"{raw}: {'symbolic link loop' if _loops(path) else 'broken symbolic link'}")
        elif not path.exists():
            yield InputError(f"{raw}: no such file or directory")
        else:
            yield InputError(f"{raw}: not a regular file")


def _walk_ignores(root: str, gitignore):
    """`ignored(path, is_dir)` below a named folder; in a folder git ignores, only its own .gitignore files."""
    if gitignore is None:
        return lambda path, is_dir: False
    floor = root if gitignore.ignores(root, is_dir=True) else None
    return lambda path, is_dir: gitignore.ignores(path, is_dir, floor)


def _loops(link: Path) -> bool:
    try:
        link.stat()
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _walk(root: Path, excluded, included, ignored) -> Iterator[str | InputError]:
    unreadable: list[OSError] = []  # a folder that cannot be listed is reported; the walk goes on
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable.append):
        dirnames[:] = sorted(d for d in dirnames if not _pruned(os.path.join(dirpath, d), excluded, ignored, True))
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if (name.endswith(SUFFIXES) or included(full)) and not _pruned(full, excluded, ignored, False) \
                    and os.path.isfile(full):
                yield full
    for error in unreadable:
        yield InputError(f"{error.filename}: {error.strerror or error}")


def _pruned(path: str, excluded, ignored, is_dir: bool) -> bool:
    return excluded(path) or ignored(path, is_dir)


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


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Replace the file's bytes all at once: a temporary file in the same directory, then os.replace.

    A crash or a full disk leaves the old file whole; the new one keeps the old one's mode and owner. A
    symbolic link stays a link: its target, the file the link names, is rewritten. RewriteRefused, and
    nothing written, when the bytes on disk are no longer `expected` (saved while optlint ran), or when
    `_refusal` says the file must not be replaced.
    """
    target = os.path.realpath(path)
    status = os.stat(target)
    reason = _refusal(target, status)
    if reason:
        raise RewriteRefused(f"{reason}; it was not rewritten")
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.",
                                         suffix=".optlint")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
            _take_owner_and_mode(out.fileno(), status)
        if not _holds(target, expected):  # checked last, so that only os.replace's own instant is left
            raise RewriteRefused("the file changed while optlint ran; it was not rewritten (run optlint again)")
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _refusal(target: str, status: os.stat_result) -> str | None:
    """Why the file must be left alone, if it must. Several hard links: a new file would split them, and
    writing in place would change every linked copy (perhaps a `cp -al` backup); only the user knows
    which is meant. Read-only: no write bit at all means "do not edit", even to root (who may write
    anything, so os.access alone would allow it); else os.access says whether this user may write."""
    if status.st_nlink > 1:
        return f"the file has {status.st_nlink} hard links, which a rewrite would split or all change"
    if not status.st_mode & 0o222 or not os.access(target, os.W_OK, effective_ids=_EFFECTIVE_IDS):
        return "the file is read-only"
    return None


def _take_owner_and_mode(handle: int, original: os.stat_result) -> None:
    """Give the new file the original's owner, group and mode (the owner first: a chown clears set-id bits)."""
    new = os.fstat(handle)
    if (new.st_uid, new.st_gid) != (original.st_uid, original.st_gid):
        try:
            os.fchown(handle, original.st_uid, original.st_gid)
        except OSError as error:
            raise RewriteRefused(f"cannot keep the file's owner and group ({error.strerror or error}); "
                                 "it was not rewritten") from None
    os.fchmod(handle, stat.S_IMODE(original.st_mode))


def _holds(path: str, expected: bytes) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(expected) + 1) == expected
    except OSError:
        return False


def read_stdin(name: str) -> bytes:
    """All of stdin, as read_stream; InputError when it is closed (`<&-`) or cannot be read (`< folder`)."""
    if sys.stdin is None:
        raise InputError(f"{name}: stdin is closed: pipe the source in, or name the files to check")
    try:
        return read_stream(sys.stdin.buffer, name)
    except OSError as error:
        raise InputError(f"{name}: cannot read stdin: {error.strerror or error}") from None


def names_stdin(path: str) -> bool:
    """Whether `path` is this process's piped or terminal stdin (`/dev/stdin`, `/dev/fd/0`): naming it is
    the user's choice to read it, unlike any other special file (a FIFO nobody writes to would hang the
    run). A regular file redirected to stdin stays the file it is (`--fix` rewrites it)."""
    try:
        named, ours = os.stat(path), os.fstat(sys.stdin.fileno())
    except (OSError, AttributeError, ValueError):  # closed, or not a real stream (a test's)
        return False
    return not stat.S_ISREG(named.st_mode) and os.path.samestat(named, ours)


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


def line_offsets(text: str) -> list[int]:
    """Where each line starts (0-based character offsets), and the text's length last."""
    offsets, total = [0], 0
    for line in split_lines(text, keepends=True):
        total += len(line)
        offsets.append(total)
    return offsets


def content_digest(data: bytes) -> str:
    """A file's content hash, as the results cache and the module summaries key it."""
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()  # SHA-1 is the fastest hashlib has


def configured_names(settings) -> tuple[str, ...]:
    """The step and scheduler names the `optimizer-step-names`/`scheduler-names` settings add."""
    settings = settings or {}
    return (*settings.get("optimizer_step_names", ()), *settings.get("scheduler_names", ()))


def can_hold_finding(text: str, configured_names: tuple[str, ...] = ()) -> bool:
    """Whether a file may hold a finding; False means no rule can report on it (see above).
    `configured_names`: the names the `optimizer-step-names`/`scheduler-names` settings add."""
    if any(name.rpartition(".")[2] in text for name in configured_names):
        return True
    if "optim" in text and _has_word(OPTIM_WORD_END, text) and _has_word(_torch_class_names(), text):
        return True
    return "sched" in text.lower() and _calls_conventional_scheduler(text)


def code_can_hold_finding(tree, configured_names: tuple[str, ...] = ()) -> bool:
    """`can_hold_finding` on the code alone, for a text that passed it: its words must be names the code
    uses (CPython's tree: names, attributes, imported names), not words of a docstring, a comment or
    a string (timm's optimizers describe AdamW in their docstrings). A configured name keeps the text
    test. Any name holding "sched" counts, a superset of the receivers `can_hold_finding` looks for."""
    import ast

    if configured_names:
        return True
    torch_classes = _torch_class_set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.name.rpartition(".")[2]
        else:
            continue
        if name in torch_classes or "sched" in name.lower():
            return True
    return False


@functools.cache
def _torch_class_set() -> frozenset[str]:
    known = load_facts()
    return frozenset((*known.optimizers, *known.schedulers))


@functools.cache
def _torch_class_names() -> re.Pattern:
    known = load_facts()
    names = sorted({*known.optimizers, *known.schedulers}, key=len, reverse=True)
    return re.compile(r"(?:%s)\b" % "|".join(names))


def _has_word(pattern: re.Pattern, text: str) -> bool:
    """Whether `pattern` (ending in `\b`) matches somewhere a word starts."""
    return any(m.start() == 0 or not _is_word_char(text[m.start() - 1]) for m in pattern.finditer(text))


def _calls_conventional_scheduler(text: str) -> bool:
    """Whether some `<name holding "sched"> . step|get_lr` is in the text."""
    for pattern in SCHEDULER_METHODS:
        for match in pattern.finditer(text):
            end = _skip_space_back(text, match.start())
            if end == 0 or text[end - 1] != ".":
                continue
            end = start = _skip_space_back(text, end - 1)
            while start > 0 and _is_word_char(text[start - 1]):
                start -= 1
            if "sched" in text[start:end].lower():
                return True
    return False


def _skip_space_back(text: str, end: int) -> int:
    while end > 0 and text[end - 1] in SPACE:
        end -= 1
    return end


def _is_word_char(char: str) -> bool:
    return ("_" + char).isidentifier()  # exactly the characters that may continue a name
