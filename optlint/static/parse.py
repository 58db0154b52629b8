"""Source text -> libcst tree, or the OPT000 finding that says why not.

libcst's native parser recurses on the C stack: some two thousand nested brackets crash the whole
process (a segfault that no `except` catches, so no other file would be linted either). CPython's
own parser refuses such nesting cleanly, so it reads the file first; libcst then runs on a thread
with a roomy stack, enough for the chains CPython keeps flat but libcst nests (`a or b or ...`,
as long as a file within files.MAX_FILE_BYTES can make them). CPython's message and position also
say more than libcst's ("'(' was never closed" at the bracket), so OPT000 uses them when it has one.
"""

from __future__ import annotations

import ast
import threading
import warnings

import libcst as cst

from optlint.findings import Finding
from optlint.static.files import split_lines

PARSER_STACK_BYTES = 512 * 2**20  # address space, touched only as deep as the parse goes
# CPython's verdict is final for these: libcst is never asked (it would crash on them).
NESTING_ERRORS = frozenset({"too many nested parentheses"})


class UnsupportedSyntax(Exception):
    """Python parses the file, libcst does not (a gap in libcst's grammar): not the user's syntax error."""


def parse(source: str, filename: str) -> cst.Module | Finding:
    """The module, or an OPT000 finding. Raises RecursionError past Python's own nesting limits, and
    UnsupportedSyntax for valid Python that libcst rejects (runners report it as an internal error)."""
    python_error = _python_syntax_error(source, filename)
    if python_error is not None and python_error.msg in NESTING_ERRORS:
        return syntax_error(filename, python_error, source)
    try:
        return _on_roomy_stack(cst.parse_module, source)
    except (cst.ParserSyntaxError, cst.CSTValidationError) as error:  # validation: `b"a" "b"`
        if python_error is None:
            raise UnsupportedSyntax(f"libcst cannot parse this valid Python ({_first_line(error)})") from None
        return syntax_error(filename, python_error, source)


def _python_syntax_error(source: str, filename: str) -> SyntaxError | None:
    try:
        with warnings.catch_warnings():  # the file's own warnings (invalid escapes...) are not ours to print
            warnings.simplefilter("ignore")
            compile(source, filename, "exec", ast.PyCF_ONLY_AST)
    except SyntaxError as error:  # maybe syntax newer than this Python: libcst has the last word
        return error
    except ValueError as error:  # null bytes, on the Python versions that raise ValueError for them
        return SyntaxError(str(error))
    except (RecursionError, MemoryError):  # MemoryError: "parser stack overflowed"
        raise RecursionError("nested deeper than Python's parser accepts") from None
    return None


def _on_roomy_stack(function, *args):
    outcome: dict = {}

    def run() -> None:
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


def syntax_error(filename: str, error: SyntaxError | cst.ParserSyntaxError, source: str) -> Finding:
    if isinstance(error, SyntaxError):
        message, row, column = error.msg, error.lineno, error.offset
    else:
        message, row, column = _first_line(error), error.raw_line, error.raw_column + 1
    row, column = _inside(split_lines(source), row, column)
    return Finding(
        "OPT000",
        f"Syntax error: {message}",
        filename,
        row=row,
        column=column,
        end_row=row,
        end_column=column,
        hint="Fix the syntax error; optlint cannot check the rest of this file until it parses.",
    )


def _first_line(error: cst.ParserSyntaxError | cst.CSTValidationError) -> str:
    return str(getattr(error, "message", error)).strip().splitlines()[0]


def _inside(lines: list[str], row: int | None, column: int | None) -> tuple[int, int]:
    """The nearest position that exists in the file: errors at the end of input point past it."""
    row = min(max(row or 1, 1), max(len(lines), 1))
    line = lines[row - 1] if lines else ""
    return row, min(max(column or 1, 1), len(line) + 1)
