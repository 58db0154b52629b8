"""What one lint covers, and the way from its positions back to the editor's documents.

A text document is linted as it is. A notebook goes through the CLI's own code (optlint.static.notebooks):
its Python code cells joined into one module with IPython syntax masked, findings placed back in their
cells, and an edited module read back as the cells' new sources, so the editor shows what `optlint
check` reports. Positions here are 0-based rows and code-point columns; the server converts them to
the client's units.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Mapping

from optlint.findings import Finding
from optlint.static import notebooks
from optlint.static.files import line_offsets
from optlint.static.reparse import common_ends


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
    documents: Mapping[str, str]  # each editor document it covers (the file, or each code cell): URI -> text
    cells: notebooks.CodeCells | None = None
    cell_uris: Mapping[int, str] = field(default_factory=dict)  # cell number (as `optlint check` counts) -> URI

    def spans(self, findings: list[Finding]) -> list[tuple[Place, Place]]:
        """Where each finding of `text` starts and ends in the editor's documents."""
        if self.cells is None:
            return [_span(self.key, f) for f in findings]
        return [_span(self.cell_uris[f.cell], f) for f in self.cells.place(findings)]


def _span(uri: str, finding: Finding) -> tuple[Place, Place]:
    return (Place(uri, finding.row - 1, finding.column - 1),
            Place(uri, finding.end_row - 1, finding.end_column - 1))


def text_document(uri: str, path: str, text: str) -> Target:
    return Target(uri, path, text, {uri: text})


def notebook(uri: str, path: str, cells: list[tuple[str, str, str]]) -> Target:
    """A notebook from all its cells, in order: (cell URI, kind, text), a Python code cell's kind being
    notebooks.CODE."""
    code = notebooks.code_cells([(kind, text) for _, kind, text in cells])
    documents = {cell_uri: text for cell_uri, kind, text in cells if kind == notebooks.CODE}
    numbers = {number: cell_uri for number, (cell_uri, _, _) in enumerate(cells, start=1)}
    return Target(uri, path, code.view, documents, code, numbers)


@dataclass(frozen=True)
class Change:
    """One replacement in one editor document."""

    start: Place
    end: Place
    text: str


def change_between(target: Target, new_text: str) -> Change | None:
    """The smallest single replacement that turns `target.text` into `new_text`, in editor positions;
    None when there is no change, or when it changes two cells (no one edit can say it)."""
    if target.cells is None:
        return _change_in(target.key, target.text, new_text)
    old = {cell.number: cell.text for cell in target.cells.cells}
    changed = [(n, source) for n, source in notebooks.sources(target.cells, new_text).items() if source != old[n]]
    if len(changed) != 1:
        return None
    [(number, source)] = changed
    return _change_in(target.cell_uris[number], old[number], source)


def _change_in(uri: str, old: str, new: str) -> Change | None:
    if new == old:
        return None
    start, end_old, end_new = common_ends(old, new)
    line_starts = line_offsets(old)

    def place(offset: int) -> Place:
        row = bisect.bisect_right(line_starts, offset) - 1
        return Place(uri, row, offset - line_starts[row])

    return Change(place(start), place(end_old), new[start:end_new])
