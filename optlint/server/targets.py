"""What one lint covers, and the way from its positions back to the editor's documents.

A text document is linted as it is. A notebook's code cells are joined into one module
(optlint.static.notebook_cells), and a finding's row is sent back to the cell it came from. Positions
here are 0-based rows and code-point columns; the server converts them to the client's units.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Mapping

from optlint.static.files import split_lines
from optlint.static.notebook_cells import JoinedCells, join_cells


@dataclass(frozen=True)
class Place:
    uri: str
    line: int
    character: int


@dataclass(frozen=True)
class Target:
    key: str  # the text document's or the notebook's URI: where its results are kept
    path: str  # the file the configuration and the findings speak of
    text: str  # what is linted
    documents: Mapping[str, str]  # each editor document it covers (the file, or each cell): URI -> text
    cells: JoinedCells | None = None
    cell_uris: tuple[str, ...] = ()
    _line_starts: list[int] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self):
        starts, total = [0], 0
        for line in split_lines(self.text, keepends=True):
            total += len(line)
            starts.append(total)
        self._line_starts.extend(starts)

    def place(self, row: int, column: int) -> Place:
        """The editor position of a 0-based row and column of `text`."""
        if self.cells is None:
            return Place(self.key, row, column)
        where = self.cells.cell_line(row)
        return Place(self.cell_uris[where.cell], where.row, column)

    def place_at_offset(self, offset: int) -> Place:
        row = bisect.bisect_right(self._line_starts, offset) - 1
        return self.place(row, offset - self._line_starts[row])


def text_document(uri: str, path: str, text: str) -> Target:
    return Target(uri, path, text, {uri: text})


def notebook(uri: str, path: str, cells: list[tuple[str, str]]) -> Target:
    """A notebook from its code cells, in order: (cell URI, cell text)."""
    joined = join_cells([text for _, text in cells])
    return Target(uri, path, joined.text, dict(cells), joined, tuple(cell_uri for cell_uri, _ in cells))


@dataclass(frozen=True)
class Change:
    """One replacement in one editor document."""

    start: Place
    end: Place
    text: str


def change_between(target: Target, new_text: str) -> Change | None:
    """The smallest single replacement that turns `target.text` into `new_text`, in editor positions;
    None when there is no change, or when it spans two cells (no one edit can say it)."""
    old = target.text
    if new_text == old:
        return None
    start = 0
    limit = min(len(old), len(new_text))
    while start < limit and old[start] == new_text[start]:
        start += 1
    end_old, end_new = len(old), len(new_text)
    while end_old > start and end_new > start and old[end_old - 1] == new_text[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    first, last = target.place_at_offset(start), target.place_at_offset(end_old)
    if first.uri != last.uri:
        return None
    return Change(first, last, new_text[start:end_new])
