"""Jupyter notebooks: the code cells as one Python module, findings placed back in their cells, and the
notebook rewritten with only the edited cells' `source` changed.

A notebook runs as one program, cells in order (a scheduler built in cell 2 and stepped in cell 5),
so its code cells are linted together, as ruff does. The module is the "view": each code cell is
preceded by a marker comment naming its cell (1-based among all cells, as ruff counts), and each
IPython line (`%magic`, `!shell`, `obj?`, `x = !cmd`, `get_ipython()`) is replaced by a marker comment
(or `pass` where a block needs a body) that names the original line. Fixes edit the view; the markers
say, afterwards, which lines belong to which cell and which lines to put back. A cell that starts with
a cell magic that runs it as something else (`%%bash`, `%%html`) is left out; one
that runs it as Python (`%%time`, `%%capture`) is masked like a line magic. All of this works on
(kind, source) cells (code_cells), so the language server reads an editor's notebook exactly as `optlint
check` reads the file.

The notebook is written back by re-serializing its JSON only when that reproduces the file byte for
byte (indent, key order, `ensure_ascii`, final newline); otherwise it is left alone with one line saying why.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from dataclasses import dataclass, replace
from typing import Sequence

from optlint.findings import Edit, Finding, Fix
from optlint.static.files import line_offsets, split_lines

IPYTHON_LINE = re.compile(
    r"\s*(?:[%!?]|get_ipython\(\)"  # a magic, a shell escape, help (`?obj`), the IPython object
    r"|[\w.]+\?\??\s*$"  # help: `obj?`, `obj.attr??`
    r"|[\w.]+\s*=\s*[%!])")  # `files = !ls`, `t = %timeit f()`
CELL_MAGIC = re.compile(r"\s*%%(\w*)")
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "debug", "prun", "python", "python3", "pypy"})  # as ruff's
COMMENT_OR_BLANK = re.compile(r"\s*(?:#.*)?$")
MARKER_WORD = "optlint-notebook"
CODE = "code"  # the kind of a cell that is linted (in a Python notebook); any other kind is only counted


class NotebookError(Exception):
    """Not a notebook optlint can read or rewrite: one line for the user."""


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based among all cells
    text: str  # the source joined, as Jupyter shows it


@dataclass(frozen=True)
class CodeCells:
    """The Python code cells of a notebook, read from its JSON (read) or sent by an editor (code_cells)."""

    cells: tuple[Cell, ...]
    marker: str  # a word found in no cell, so marker comments cannot be confused with code

    @functools.cached_property
    def view(self) -> str:
        """The code cells as one module (see the module docstring)."""
        parts = []
        for cell in self.cells:
            parts.append(f"# {self.marker} cell {cell.number}\n")
            parts.extend(_masked(split_lines(cell.text, keepends=True), self.marker, cell.number))
        return "".join(parts)

    @functools.cached_property
    def rows(self) -> list[tuple[int, int] | None]:
        """For each row of the view (index 0 = row 1): (cell number, row in the cell), None for a marker."""
        return _cell_rows(self.marker, self.view)

    def place(self, findings: list[Finding]) -> list[Finding]:
        return place(self, findings)


@dataclass(frozen=True)
class Notebook(CodeCells):
    text: str  # the file's JSON text
    document: dict


def code_cells(cells: Sequence[tuple[str, str]]) -> CodeCells:
    """The Python code cells among (kind, source) cells, numbered 1-based among all of them, as ruff counts;
    a cell whose cell magic runs it as something else (`%%bash`) is left out."""
    code = tuple(Cell(number, source) for number, (kind, source) in enumerate(cells, start=1)
                 if kind == CODE and _is_python(source))
    return CodeCells(code, _unused_marker("".join(cell.text for cell in code)))


def read(text: str) -> Notebook:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise NotebookError(f"not a valid notebook: {_reason(error)}") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise NotebookError("not a valid notebook: no list of cells (nbformat 4 is supported)")
    kinds_and_sources = []
    for number, cell in enumerate(cells, start=1):
        source = _joined(cell.get("source", ""))
        if source is None:
            raise NotebookError(f"not a valid notebook: cell {number} has a source that is not text")
        kinds_and_sources.append((cell.get("cell_type"), source))
    code = code_cells(kinds_and_sources if _kernel_language(document) == "python" else [])
    return Notebook(code.cells, code.marker, text, document)


def _reason(error: Exception) -> str:
    return error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"


def _joined(source) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def _kernel_language(document: dict) -> str:
    metadata = document.get("metadata")
    info = metadata.get("language_info") if isinstance(metadata, dict) else None
    return str(info.get("name", "python") if isinstance(info, dict) else "python").lower()


def _is_python(source: str) -> bool:
    """Unless a cell magic runs the cell as something else (`%%bash`)."""
    magic = CELL_MAGIC.match(source)
    return magic is None or magic.group(1) in PYTHON_CELL_MAGICS


def _unused_marker(code: str) -> str:
    marker, n = MARKER_WORD, 0
    while marker in code:
        n += 1
        marker = f"{MARKER_WORD}{n}"
    return marker


def _masked(lines: list[str], marker: str, cell: int) -> list[str]:
    """The cell's lines (with their own line endings, so that they come back as they were), each ending in
    a newline, IPython lines replaced by a marker (`pass` after a `:`)."""
    out, opener = [], False
    for row, line in enumerate(lines, start=1):
        body = line.rstrip("\r\n")
        if IPYTHON_LINE.match(body):
            indent = body[: len(body) - len(body.lstrip())]
            out.append(f"{indent}pass  # {marker} line {cell} {row}\n" if opener else f"# {marker} line {cell} {row}\n")
            continue
        out.append(line if body != line else line + "\n")
        if not COMMENT_OR_BLANK.match(body):
            opener = body.split("#")[0].rstrip().endswith(":")
    return out


# -- from the view back to the cells ------------------------------------------------------------------

def _cell_marker(marker: str) -> re.Pattern:
    return re.compile(rf"# {re.escape(marker)} cell (\d+)$")


def _cell_rows(marker: str, view: str) -> list[tuple[int, int] | None]:
    starts, rows, current, row_in_cell = _cell_marker(marker), [], 0, 0
    for line in split_lines(view):
        match = starts.fullmatch(line)
        if match:
            current, row_in_cell = int(match.group(1)), 0
            rows.append(None)
        else:
            row_in_cell += 1
            rows.append((current, row_in_cell))
    return rows


@dataclass(frozen=True)
class _View:
    lines: list[str]
    rows: list[tuple[int, int] | None]  # see Notebook.rows
    offsets: list[int]  # where each line starts


def place(notebook: CodeCells, findings: list[Finding]) -> list[Finding]:
    """The findings of the notebook's view with cell-relative rows, and fixes as edits of the cell's source."""
    view = notebook.view
    lines = split_lines(view)
    table = _View(lines, notebook.rows, line_offsets(view))
    return [_placed(notebook, f, table) for f in findings]


def _placed(notebook: CodeCells, f: Finding, view: _View) -> Finding:
    cell, row = _cell_of(notebook, f.row)
    end_cell, end_row = _cell_of(notebook, f.end_row)
    end_column = f.end_column
    if end_cell != cell:  # ends on the marker of the next cell (the end of input): the end of this cell
        end_row, end_column = row, f.column
    return replace(f, row=row, end_row=end_row, end_column=end_column, cell=cell,
                   fix=_cell_fix(notebook, f.fix, cell, view))


def view_row(notebook: CodeCells, cell: int | None, row: int) -> int:
    """The view's row of a cell's row (OPT000 of an unreadable notebook has no cell: row 0, no line)."""
    rows = notebook.rows
    return rows.index((cell, row)) + 1 if (cell, row) in rows else 0


def _cell_of(notebook: CodeCells, row: int) -> tuple[int, int]:
    """The cell and row of a view row; a marker row belongs to the end of the cell before it, and the
    first cell's marker (where OPT000 of a view that does not decode sits) to that cell's first row."""
    rows = notebook.rows
    if not rows:  # no code cell: nothing was linted but the (empty) view
        return 1, 1
    index = min(max(row, 1), len(rows)) - 1
    while index > 0 and rows[index] is None:
        index -= 1
    return rows[index] or (notebook.cells[0].number, 1)


def _cell_fix(notebook: CodeCells, fix: Fix | None, cell: int, view: _View) -> Fix | None:
    """The fix with offsets into the cell's source; None if an edit leaves the cell or touches a magic."""
    if fix is None:
        return None
    source = split_lines(cell_text(notebook, cell), keepends=True)
    edits = []
    for edit in fix.edits:
        start, end = (_cell_offset(at, cell, view, source) for at in (edit.start, edit.end))
        if start is None or end is None:
            return None
        edits.append(Edit(start, end, edit.replacement))
    return replace(fix, edits=tuple(edits))


def _cell_offset(at: int, cell: int, view: _View, source: list[str]) -> int | None:
    """The offset in the cell's source of the view's offset `at`, on a line the view did not change."""
    index = bisect.bisect_right(view.offsets, at) - 1
    where = view.rows[index] if index < len(view.rows) else None
    if where is None or where[0] != cell or view.lines[index] != source[where[1] - 1].rstrip("\r\n"):
        return None
    return sum(len(line) for line in source[: where[1] - 1]) + at - view.offsets[index]


def sources(notebook: CodeCells, view: str) -> dict[int, str]:
    """Each code cell's source as `view` (a fixed view) has it, IPython lines put back."""
    originals = {cell.number: split_lines(cell.text, keepends=True) for cell in notebook.cells}
    masked = re.compile(rf"(?:\s*pass  )?# {re.escape(notebook.marker)} line (\d+) (\d+)$")
    starts = _cell_marker(notebook.marker)
    cells: dict[int, list[str]] = {}
    current: list[str] = []
    for line in split_lines(view, keepends=True):
        body = line.rstrip("\r\n")
        if match := starts.fullmatch(body):
            current = cells.setdefault(int(match.group(1)), [])
        elif match := masked.fullmatch(body):
            current.append(originals[int(match.group(1))][int(match.group(2)) - 1])
        else:
            current.append(line)
    return {number: _with_original_end("".join(lines), cell_text(notebook, number))
            for number, lines in cells.items()}


def cell_text(notebook: CodeCells, number: int) -> str:
    """The source of code cell `number`; NotebookError when there is no such code cell."""
    text = next((cell.text for cell in notebook.cells if cell.number == number), None)
    if text is None:
        raise NotebookError(f"no code cell {number}")
    return text


def _with_original_end(text: str, original: str) -> str:
    """The view ends every cell with a newline; Jupyter's last line usually has none."""
    if not original.endswith(("\n", "\r")) and text.endswith("\n"):
        return text[:-1]
    return text


def rewritten(notebook: Notebook, view: str) -> str:
    """The notebook's JSON text with the cells' sources of `view`; NotebookError when its formatting
    cannot be reproduced (then nothing may be written)."""
    changed = {n: s for n, s in sources(notebook, view).items() if s != cell_text(notebook, n)}
    if not changed:
        return notebook.text
    dump = _serializer(notebook)
    document = json.loads(notebook.text)
    for number, source in changed.items():
        cell = document["cells"][number - 1]
        cell["source"] = source if isinstance(cell.get("source"), str) else split_lines(source, keepends=True)
    return dump(document)


def _serializer(notebook: Notebook):
    """The json.dumps settings that give the file back as it is, found by trying the likely ones."""
    indent = _indent(notebook.text)
    newline = "\n" if notebook.text.endswith("\n") else ""
    for ensure_ascii in (False, True):
        def dump(document, ensure_ascii=ensure_ascii):
            return json.dumps(document, indent=indent, ensure_ascii=ensure_ascii) + newline
        if dump(notebook.document) == notebook.text:
            return dump
    raise NotebookError("its JSON layout cannot be reproduced, so rewriting it would change more than the "
                        "fixed cells; nothing was written")


def _indent(text: str) -> int | str | None:
    second = text.split("\n", 2)[1] if text.count("\n") >= 1 else ""
    indent = second[: len(second) - len(second.lstrip())]
    return None if not indent else len(indent) if set(indent) == {" "} else indent
