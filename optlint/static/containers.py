"""Files that hold Python without being Python files: notebooks, and the code blocks of Markdown and
reStructuredText documents. Each gives the module to lint (its `view`) and places the module's findings
back in the file (`place`); a plain Python file has no container."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.static import markdown, notebooks

Container = notebooks.Notebook | markdown.Document


def open_container(text: str, path: str) -> Container | None | list[Finding]:
    """The container of a notebook or document, None for a Python file, or OPT000 for a broken notebook."""
    if notebooks.is_notebook(path):
        try:
            return notebooks.read(text)
        except notebooks.NotebookError as error:
            return [Finding("OPT000", f"Cannot read the notebook: {error}", path,
                            hint="Save it again from Jupyter: optlint reads nbformat 4 JSON.")]
    if markdown.is_document(path):
        return markdown.read(text, path)
    return None
