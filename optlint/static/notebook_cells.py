"""A notebook's code cells as one module, and the way back from a row of that module to its cell.

The cells run top to bottom in one namespace, so an optimizer built in one cell and stepped in another
is one set-up: they are linted together. IPython's own syntax is not Python: a line magic or shell
escape (`%timeit ...`, `!pip install ...`) is left out, and so is a whole cell whose first line is a
cell magic (`%%bash`). Every other line is copied as it is, so a column in the module is the same
column in its cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from optlint.static.files import split_lines

IPYTHON_PREFIXES = ("%", "!")


@dataclass(frozen=True)
class CellLine:
    cell: int  # index into the cells given
    row: int  # 0-based row within that cell


@dataclass(frozen=True)
class JoinedCells:
    text: str
    lines: tuple[CellLine, ...]  # one per row of `text`, 0-based

    def cell_line(self, row: int) -> CellLine:
        """Where a 0-based row of the module comes from; past the end: the end of the last cell."""
        if not self.lines:
            return CellLine(0, 0)
        return self.lines[min(max(row, 0), len(self.lines) - 1)]


def join_cells(cells: Sequence[str]) -> JoinedCells:
    """One module from the code cells' sources, in order."""
    text, lines = [], []
    for index, source in enumerate(cells):
        cell_lines = split_lines(source)
        if _is_cell_magic(cell_lines):
            continue
        for row, line in enumerate(cell_lines):
            if not line.lstrip().startswith(IPYTHON_PREFIXES):
                text.append(line + "\n")
                lines.append(CellLine(index, row))
    return JoinedCells("".join(text), tuple(lines))


def _is_cell_magic(lines: list[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    return first.lstrip().startswith("%%")
