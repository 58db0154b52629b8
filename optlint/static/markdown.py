"""Python in Markdown and reStructuredText tutorials: the code blocks as one module, at the document's rows.

A tutorial is read top to bottom and its blocks share names (the optimizer built in one block is
stepped in a later one), so the blocks of a document are linted together, in order, as a notebook's
cells are: linting each block alone would miss what spans blocks and would report a scheduler that is
never stepped where a later block steps it. A block that is not complete Python on its own (an elided
`...` after a keyword argument, a fragment of a loop, shell commands) is skipped without an error.

Blocks read: Markdown fences tagged `python`, `py`, `python3`, `py3` or `pycon`; reStructuredText
`.. code-block::`/`.. code::`/`.. sourcecode::` for those languages (or none: Sphinx highlights Python
by default), `::` literal blocks and `>>>` doctest blocks. A block whose first line is a `>>>` prompt is
a console session: the `>>> `/`... ` lines are its code, the rest is output. Every other line of the
document becomes a blank line of the module, so rows are the document's; columns are shifted back by
the block's indentation and prompt. Findings in documents come without fixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from optlint.findings import Finding
from optlint.static.files import RST_SUFFIXES, split_lines
from optlint.static.syntax import python_syntax_error

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "py3", "pycon"})
FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*\{?\.?(?P<language>[\w+-]*)")
DIRECTIVE = re.compile(r"(?P<indent>[ \t]*)\.\.\s+(?:code-block|code|sourcecode)::\s*(?P<language>[\w+-]*)\s*$")
PROMPT = re.compile(r"(?:>>>|\.\.\.)(?: |$)")


@dataclass(frozen=True)
class Document:
    view: str  # the module: the blocks' code at their rows, blank lines elsewhere
    shifts: dict[int, int]  # row -> the columns the block's indentation and prompt took

    def place(self, findings: list[Finding]) -> list[Finding]:
        """Findings at the document's columns; their fixes dropped (a block's indentation and prompts
        would have to be put into every replacement)."""
        return [replace(f, column=f.column + self.shifts.get(f.row, 0),
                        end_column=f.end_column + self.shifts.get(f.end_row, 0), fix=None) for f in findings]


Block = list[tuple[int, str]]  # (0-based row, line) in the document


def read(text: str, path: str) -> Document:
    lines = split_lines(text)
    blocks = _rst_blocks(lines) if path.lower().endswith(RST_SUFFIXES) else _markdown_blocks(lines)
    rows, shifts = [""] * len(lines), {}
    for block in blocks:
        code = _code(block)
        if not code or not _is_python(code, path):
            continue
        for row, (shift, line) in code.items():
            rows[row], shifts[row + 1] = line, shift
    return Document("".join(line + "\n" for line in rows), shifts)


def _code(block: Block) -> dict[int, tuple[int, str]]:
    """row -> (columns removed, code): prompts taken off a console session, then the common indentation."""
    first = next((line.strip() for _, line in block if line.strip()), "")
    if first.startswith(">>>"):
        block = [(row, _after_prompt(line)) for row, line in block]
    else:
        block = [(row, (0, line)) for row, line in block]
    indent = min((len(line) - len(line.lstrip()) for _, (_, line) in block if line.strip()), default=0)
    return {row: (shift + indent, line[indent:]) for row, (shift, line) in block if line.strip()}


def _after_prompt(line: str) -> tuple[int, str]:
    stripped = line.lstrip()
    prompt = PROMPT.match(stripped)
    if prompt is None:
        return 0, ""  # output, not code
    shift = len(line) - len(stripped) + prompt.end()
    return shift, line[shift:]


def _is_python(code: dict[int, tuple[int, str]], path: str) -> bool:
    """Whether the block parses on its own; blocks that do, each starting at column 0, parse together."""
    try:
        return python_syntax_error("".join(line + "\n" for _, line in code.values()), path) is None
    except RecursionError:
        return False


def _markdown_blocks(lines: list[str]) -> list[Block]:
    blocks, row = [], 0
    while row < len(lines):
        opening = FENCE.match(lines[row])
        row += 1
        if opening is None:
            continue
        fence, block = opening.group("fence"), []
        while row < len(lines) and not _closes(lines[row], fence):
            block.append((row, lines[row]))  # a fence in a list item is indented: _code takes the indentation off
            row += 1
        row += 1
        if opening.group("language").lower() in PYTHON_LANGUAGES:
            blocks.append(block)
    return blocks


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and set(stripped) == {fence[0]}


def _rst_blocks(lines: list[str]) -> list[Block]:
    blocks, row = [], 0
    while row < len(lines):
        line = lines[row]
        directive = DIRECTIVE.match(line)
        if directive is not None:
            block, row = _indented_body(lines, row + 1, _indent(line), skip_options=True)
            if directive.group("language").lower() in PYTHON_LANGUAGES | {""}:
                blocks.append(block)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            block, row = _indented_body(lines, row + 1, _indent(line), skip_options=False)
            blocks.append(block)
        elif line.lstrip().startswith(">>>"):
            start = row
            while row < len(lines) and lines[row].strip():
                row += 1
            blocks.append(list(enumerate(lines[start:row], start)))
        else:
            row += 1
    return blocks


def _indented_body(lines: list[str], row: int, indent: int, skip_options: bool) -> tuple[Block, int]:
    """The lines indented past `indent` after a directive or `::` (its `:option:` lines skipped)."""
    while skip_options and row < len(lines) and lines[row].strip().startswith(":") and _indent(lines[row]) > indent:
        row += 1
    block = []
    while row < len(lines) and (not lines[row].strip() or _indent(lines[row]) > indent):
        block.append((row, lines[row]))
        row += 1
    return block, row


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())
