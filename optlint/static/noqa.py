"""File-level exemptions, as ruff's `# ruff: noqa`: a comment on a line of its own

    # optlint: noqa                  silences every finding in the file
    # optlint: noqa: OPT011, OPT014  only these codes

A file that does not parse still reports OPT000: there is no tree the comment could be read from.
A `:` followed by no valid code is no directive at all, so a typo never silences the whole file.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Callable

CODE = r"[A-Z]+[0-9]+"
FILE_NOQA = re.compile(rf"^[ \t\f]*#[ \t]*optlint[ \t]*:[ \t]*noqa(?::[ \t]*(?P<codes>{CODE}(?:[ \t]*,?[ \t]*{CODE})*))?"
                       r"(?![:\w])", re.IGNORECASE | re.MULTILINE)


def file_exemption(source: str) -> Callable[[str], bool]:
    """Whether the file's directives exempt a code from it (codes listed, or all of them)."""
    if FILE_NOQA.search(source) is None:  # the common case: no tokenizing
        return lambda code: False
    directives = [m for comment in _own_line_comments(source) if (m := FILE_NOQA.match(comment))]
    if any(m.group("codes") is None for m in directives):
        return lambda code: True
    return {code for m in directives for code in re.findall(CODE, m.group("codes").upper())}.__contains__


def _own_line_comments(source: str) -> list[str]:
    """Comments alone on their line: a `#` line inside a multi-line string (a docstring showing the
    directive) is not one."""
    try:
        return [token.string for token in tokenize.generate_tokens(io.StringIO(source, newline=None).readline)
                if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip()]
    except (tokenize.TokenError, SyntaxError):  # libcst parsed the file: trust its lines
        return [m.group(0).strip() for m in FILE_NOQA.finditer(source)]
