"""Source text -> libcst tree, or the OPT000 finding that says why not.

libcst's native parser recurses on the C stack: some two thousand nested brackets crash the whole
process (a segfault that no `except` catches, so no other file would be linted either). CPython's
own parser refuses such nesting cleanly, so it reads the file first; libcst then runs on a thread
with a roomy stack, enough for the chains CPython keeps flat but libcst nests (`a or b or ...`,
as long as a file within files.MAX_FILE_BYTES can make them). CPython's message and position also
say more than libcst's ("'(' was never closed" at the bracket), so OPT000 uses them when it has one.

libcst validates every node as it builds it, a fifth of a parse. Its parser builds valid nodes from
text CPython accepts (libcst's own PERF note in CSTNode.__post_init__ says as much), so the parser's
thread skips the check then; text CPython refused (`b"a" "b"` is caught only by validation) and
nodes built on any other thread (fixes, the language server) are validated as before.
"""

from __future__ import annotations

import ast
import threading

import libcst as cst

from optlint.findings import Finding
from optlint.static.syntax import NESTING_ERRORS, first_line, python_tree, syntax_error

PARSER_STACK_BYTES = 512 * 2**20  # address space, touched only as deep as the parse goes
_parser_thread = threading.local()  # `trusted` is set on the thread that parses text CPython accepted


def _validate_unless_trusted(node: cst.CSTNode) -> None:
    if not getattr(_parser_thread, "trusted", False):
        node._validate()


cst.CSTNode.__post_init__ = _validate_unless_trusted


class UnsupportedSyntax(Exception):
    """Python parses the file, libcst does not (a gap in libcst's grammar): not the user's syntax error."""


def parse(source: str, filename: str, config: cst.PartialParserConfig | None = None, *, tree=None) -> cst.Module | Finding:
    """The module, or an OPT000 finding. Raises RecursionError past Python's own nesting limits, and
    UnsupportedSyntax for valid Python that libcst rejects (runners report it as an internal error).
    `config`: libcst's settings for a part of a file (optlint.static.reparse), else detected."""
    parsed = parse_with_python_tree(source, filename, config, tree=tree)
    return parsed if isinstance(parsed, Finding) else parsed[0]


def parse_with_python_tree(source: str, filename: str, config: cst.PartialParserConfig | None = None, *,
                           needed=None, tree=None) -> tuple[cst.Module, ast.Module | None] | Finding | None:
    """`parse`, with CPython's tree of the same text (None where CPython refuses what libcst reads).
    `needed(tree)`: whether CPython's tree of valid Python is worth libcst's parse; None when not.
    `tree`: `syntax.python_tree` of the same text, when the caller has made it already."""
    tree = python_tree(source, filename) if tree is None else tree
    python_error = tree if isinstance(tree, SyntaxError) else None
    if python_error is None and needed is not None and not needed(tree):
        return None
    if python_error is not None and python_error.msg in NESTING_ERRORS:
        return syntax_error(filename, python_error, source)
    try:
        module = _on_roomy_stack(cst.parse_module, source, config or cst.PartialParserConfig(),
                                 trusted=python_error is None)
    except (cst.ParserSyntaxError, cst.CSTValidationError) as error:  # validation: `b"a" "b"`
        if python_error is None:
            raise UnsupportedSyntax(f"libcst cannot parse this valid Python ({first_line(error)})") from None
        return syntax_error(filename, python_error, source)
    return module, None if python_error is not None else tree


def _on_roomy_stack(function, *args, trusted: bool):
    outcome: dict = {}

    def run() -> None:
        _parser_thread.trusted = trusted
        try:
            outcome["value"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = error

    previous = threading.stack_size(PARSER_STACK_BYTES)
    try:
        worker = threading.Thread(target=run, name="optlint-parse", daemon=True)  # Ctrl-C need not wait
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
