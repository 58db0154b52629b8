"""Text that comes from the files and paths being linted is shown, never obeyed.

A file name, a message quoting code, or a source line may hold characters that a terminal or a CI log
would act on: escape sequences (colours, cursor moves, OSC 52 writes the clipboard), a line break that
starts a new output line, bidi controls that reorder what is read (Trojan Source). Each is shown as a
Python escape instead. GitHub Actions also runs a log line starting with `::` as a workflow command:
with line breaks escaped, only a path at the start of a line can begin with it.
"""

from __future__ import annotations

import re

# C0 controls but \n and \r, DEL and C1; bidi marks, embeddings, overrides, isolates; U+2028 and U+2029.
NOT_LINE_BREAKS = "\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[{NOT_LINE_BREAKS}\n\r]")
UNSAFE_BETWEEN_LINES = re.compile(f"[{NOT_LINE_BREAKS}]")
NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str, keep_line_breaks: bool = False) -> str:
    """`text` as one line: each unsafe character as its Python escape (`\\n`, `\\x1b`, `\\u202e`).
    `keep_line_breaks`: \\n and \\r stay, for a format with its own escape for them (GitHub's %0A)."""
    return (UNSAFE_BETWEEN_LINES if keep_line_breaks else UNSAFE).sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    char = match.group()
    return NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def line_start_path(path: str) -> str:
    """A path escaped to begin an output line: `./::x.py` names the same file as `::x.py`, and is no command."""
    shown = escape(path)
    return f"./{shown}" if shown.startswith("::") else shown
