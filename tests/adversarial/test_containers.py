"""Generated notebooks and documents: whatever their cells, magics, blocks and JSON layout, the module optlint
lints maps 1:1 back to the file's lines, a rewrite puts back every line it did not edit, and a file that
is not a notebook is one OPT000 finding, never a crash."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static import markdown, notebooks
from optlint.static.containers import open_container
from optlint.static.files import split_lines

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))

CODE_LINES = ["import torch", "x = 1  # why?", "opt = torch.optim.SGD(p, lr=0.1)", "", "    ", "s = 'é ✓'",
              "%matplotlib inline", "!pip install torch", "files = !ls", "torch.optim.SGD?", "?opt",
              "get_ipython().run_line_magic('time', '')", "# optlint-notebook cell 1", "x %= 2",
              "if x:", "    y = 2", "    %time y", "for i in range(2):", "    !echo $i"]
CELL = st.builds(str.join, st.sampled_from(["\n", "\r\n", "\r"]), st.lists(st.sampled_from(CODE_LINES), max_size=8))
SOURCE = st.one_of(CELL, CELL.map(lambda text: split_lines(text, keepends=True)))
CELLS = st.lists(st.tuples(st.sampled_from(["code", "markdown", "raw"]), SOURCE), max_size=6)
LAYOUT = st.tuples(st.sampled_from([1, 2, 4, "\t"]), st.booleans(), st.sampled_from(["\n", ""]))


def notebook_text(cells, layout) -> str:
    indent, ensure_ascii, newline = layout
    document = {"cells": [{"cell_type": kind, "metadata": {}, "source": source} for kind, source in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=indent, ensure_ascii=ensure_ascii) + newline


@FUZZ
@given(CELLS, LAYOUT)
def test_every_cell_line_sits_at_its_view_row_and_comes_back_unchanged(cells, layout):
    notebook = notebooks.read(notebook_text(cells, layout))
    view = split_lines(notebook.view)
    for cell in notebook.cells:
        for row, line in enumerate(split_lines(cell.text), start=1):
            at = notebooks.view_row(notebook, cell.number, row)
            assert at > 0
            assert view[at - 1] == line or notebook.marker in view[at - 1]  # a masked IPython line
    assert notebooks.sources(notebook, notebook.view) == {cell.number: cell.text for cell in notebook.cells}


@FUZZ
@given(CELLS, LAYOUT, st.data())
def test_an_edit_of_one_cell_rewrites_that_cell_only(cells, layout, data):
    text = notebook_text(cells, layout)
    notebook = notebooks.read(text)
    if not notebook.cells:
        return
    target = data.draw(st.sampled_from(notebook.cells))
    row = notebooks.view_row(notebook, target.number, 1) if target.text else 0
    view = split_lines(notebook.view, keepends=True)
    if row == 0 or notebook.marker in view[row - 1]:
        return
    view[row - 1] = "edited = 1\n"
    rewritten = json.loads(notebooks.rewritten(notebook, "".join(view)))
    original = json.loads(text)
    changed = rewritten["cells"][target.number - 1]
    assert type(changed["source"]) is type(original["cells"][target.number - 1]["source"])
    assert "".join(changed["source"]).startswith("edited = 1")
    rewritten["cells"][target.number - 1] = original["cells"][target.number - 1]
    assert rewritten == original
    assert notebooks.rewritten(notebook, notebook.view) == text


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                               st.sampled_from(["cells", "source", "cell_type", "metadata", "language_info"]),
                               inner, max_size=3), max_leaves=12)


@FUZZ
@given(st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=40)))
def test_anything_in_an_ipynb_file_is_a_notebook_or_one_opt000(text):
    outcome = open_container(text, "nb.ipynb")
    if isinstance(outcome, list):
        assert [f.code for f in outcome] == ["OPT000"]
    else:
        assert isinstance(outcome, notebooks.Notebook) and isinstance(outcome.view, str)


DOCUMENT_LINES = ["```python", "```py", "```pycon", "```", "~~~python", "~~~", "```bash", "    ```py",
                  ">>> import torch", "... x = 1", ">>> for i in range(2):", "...     opt.step()", "output",
                  "import torch", "opt = torch.optim.SGD(p, lr=0.1)", "    opt.step()", "", "prose: a list::",
                  ".. code-block:: python", ".. code-block:: bash", "   :linenos:", "   import torch",
                  "   x = (", ".. note::", "Example::", "    y = 2", "\tz = 3"]


@FUZZ
@given(st.lists(st.sampled_from(DOCUMENT_LINES), max_size=30), st.sampled_from(["README.md", "guide.rst"]))
def test_a_document_view_keeps_its_rows_and_each_code_line_is_the_document_text(rows, name):
    text = "\n".join(rows)
    document = markdown.read(text, name)
    view, lines = split_lines(document.view), split_lines(text)
    assert len(view) == len(lines)
    compile(document.view, name, "exec")
    for row, line in enumerate(view, start=1):
        if line:
            assert lines[row - 1][document.shifts[row]:] == line
