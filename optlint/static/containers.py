"""Files that hold Python without being Python files: notebooks, and the code blocks of Markdown and
reStructuredText documents. Each gives the module to lint (its `view`) and places the module's findings
back in the file (`place`); a plain Python file has no container.

Which files are containers is told by the suffix alone, so that a run over plain Python files never
imports the notebook and document readers (tests/test_laziness.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optlint.findings import Finding
from optlint.static.files import MARKDOWN_SUFFIXES, NOTEBOOK_SUFFIX, RST_SUFFIXES

if TYPE_CHECKING:
    from optlint.static import markdown, notebooks

    Container = notebooks.Notebook | markdown.Document


def is_notebook(path: str) -> bool:
    return path.lower().endswith(NOTEBOOK_SUFFIX)


def is_document(path: str) -> bool:
    """A Markdown or reStructuredText document, whose code blocks are linted."""
    return path.lower().endswith(MARKDOWN_SUFFIXES + RST_SUFFIXES)


def open_container(text: str, path: str) -> Container | None | list[Finding]:
    """The container of a notebook or document, None for a Python file, or OPT000 for a broken notebook."""
    if is_notebook(path):
        from optlint.static import notebooks

        try:
            return notebooks.read(text)
        except notebooks.NotebookError as error:
            return [Finding("OPT000", f"Cannot read the notebook: {error}", path,
                            hint="Save it again from Jupyter: optlint reads nbformat 4 JSON.")]
    if is_document(path):
        from optlint.static import markdown

        return markdown.read(text, path)
    return None
