"""What CPython's own parser says of a file, and the OPT000 finding for a syntax error, without libcst.

`parse.py` asks CPython first for every file it parses. The runner asks it too for a file named on
the command line that the prefilter would skip: a file you name is always checked for syntax (if
CPython refuses it, libcst has the last word, as for any parsed file), while a file found by walking
a folder is parsed only when it can hold a finding.
"""

from __future__ import annotations

import ast
import warnings

from optlint.findings import Finding
from optlint.static.files import split_lines

# CPython's verdict is final for these: libcst is never asked (it would crash on them).
NESTING_ERRORS = frozenset({"too many nested parentheses"})


def python_syntax_error(source: str, filename: str) -> SyntaxError | None:
    tree = python_tree(source, filename)
    return tree if isinstance(tree, SyntaxError) else None


def python_tree(source: str, filename: str) -> ast.Module | SyntaxError:
    """CPython's tree of the file, or its SyntaxError."""
    try:
        with warnings.catch_warnings():  # the file's own warnings (invalid escapes...) are not ours to print
            warnings.simplefilter("ignore")
            return compile(source, filename, "exec", ast.PyCF_ONLY_AST)
    except SyntaxError as error:  # maybe syntax newer than this Python: libcst has the last word
        return error
    except ValueError as error:  # null bytes, on the Python versions that raise ValueError for them
        return SyntaxError(str(error))
    except (RecursionError, MemoryError):  # MemoryError: "parser stack overflowed"
        raise RecursionError("nested deeper than Python's parser accepts") from None


def syntax_error(filename: str, error, source: str) -> Finding:
    """OPT000 from CPython's SyntaxError or libcst's ParserSyntaxError."""
    if isinstance(error, SyntaxError):
        message, row, column = error.msg, error.lineno, error.offset
    else:
        message, row, column = first_line(error), error.raw_line, error.raw_column + 1
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


def first_line(error: Exception) -> str:
    return str(getattr(error, "message", error)).strip().splitlines()[0]


def _inside(lines: list[str], row: int | None, column: int | None) -> tuple[int, int]:
    """The nearest position that exists in the file: errors at the end of input point past it."""
    row = min(max(row or 1, 1), max(len(lines), 1))
    line = lines[row - 1] if lines else ""
    return row, min(max(column or 1, 1), len(line) + 1)
