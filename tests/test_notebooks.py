"""Jupyter notebooks: code cells linted as one program, IPython lines skipped, findings at cell rows in
every format, noqa per cell line, --fix/--diff/--add-noqa inside cells, the JSON written back as it was."""

import json

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.static.runner import lint_file

TYPO = "opt = torch.optim.AdamW(model.parameters(), learning_rate=1e-3)"


def code(source, **extra) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source, **extra}


def markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": [text]}


def lines(*rows: str) -> list[str]:
    """A cell's source as Jupyter stores it: a list of lines, the last without its newline."""
    return [row + "\n" for row in rows[:-1]] + [rows[-1]]


def write(path, cells, indent=1, ensure_ascii=False, newline="\n"):
    document = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4,
                "nbformat_minor": 5}
    path.write_text(json.dumps(document, indent=indent, ensure_ascii=ensure_ascii) + newline, encoding="utf-8")
    return path


def check(*args):
    return CliRunner().invoke(main, ["check", "--no-cache", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def typo_notebook(tmp_path):
    return write(tmp_path / "nb.ipynb", [markdown("# Train"), code(lines("import torch")), markdown("The optimizer:"),
                                         code(lines("model = torch.nn.Linear(2, 2)", TYPO))])


def test_a_keyword_typo_in_a_cell_is_reported_at_the_cell_row_not_called_clean(typo_notebook):
    result = check(typo_notebook)
    assert result.exit_code == 1
    assert f"{typo_notebook}:cell 4:2:45: OPT001" in result.output
    assert "Found 1 problem in 1 file" in result.output


def test_cells_are_one_program_in_order(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [
        code(lines("import torch")),
        code(lines("opt = torch.optim.SGD(model.parameters(), lr=0.1)",
                   "plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)")),
        markdown("Train:"),
        code(lines("def evaluate():", "    return 0.0")),
        code(lines("for epoch in range(3):", "    opt.step()", "    plateau.step()")),
    ])
    assert [(f.cell, f.row, f.code) for f in lint_file(str(nb))] == [(5, 3, "OPT013")]


@pytest.mark.parametrize("magic", ["%matplotlib inline", "!pip install torch", "files = !ls", "torch.optim.AdamW?",
                                   "?torch.optim", "%time x = 1", "get_ipython().system('ls')"])
def test_ipython_lines_are_skipped_and_rows_still_match(tmp_path, magic):
    nb = write(tmp_path / "nb.ipynb", [code(lines("import torch", magic, TYPO))])
    assert [(f.cell, f.row, f.code) for f in lint_file(str(nb))] == [(1, 3, "OPT001")]


def test_a_shell_escape_as_the_only_body_of_a_block_is_not_a_syntax_error(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [code(lines("import torch", "for i in range(2):", "    !echo $i", TYPO))])
    assert [(f.row, f.code) for f in lint_file(str(nb))] == [(4, "OPT001")]


def test_a_cell_run_by_another_language_is_skipped_but_a_timed_cell_is_python(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [code(lines("import torch")), code(lines("%%bash", "echo " + TYPO)),
                                       code(lines("%%time", TYPO))])
    assert [(f.cell, f.row) for f in lint_file(str(nb))] == [(3, 2)]


def test_a_code_cell_that_does_not_decode_is_reported_in_that_cell_not_the_markdown_before_it(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [markdown("# Train"), code(lines("import torch\x00"))])
    assert [(f.cell, f.row, f.code) for f in lint_file(str(nb))] == [(2, 1, "OPT000")]


def test_noqa_on_a_cell_line_silences_that_line_only(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [code(lines("import torch", TYPO + "  # noqa: OPT001", TYPO))])
    assert [(f.row, f.code) for f in lint_file(str(nb))] == [(3, "OPT001")]


def test_json_github_and_sarif_carry_the_cell(typo_notebook):
    [finding] = json.loads(check("--output-format", "json", typo_notebook).output)
    assert (finding["cell"], finding["location"], finding["end_location"]) == (
        4, {"row": 2, "column": 45}, {"row": 2, "column": 58})
    assert finding["fix"]["edits"] == [{"start": 74, "end": 87, "content": "lr",  # offsets in the cell's source
                                        "location": {"row": 2, "column": 45}, "end_location": {"row": 2, "column": 58}}]
    assert "title=OPT001 unknown-optimizer-kwarg (cell 4)" in check("--output-format", "github", typo_notebook).output
    [result] = json.loads(check("--output-format", "sarif", typo_notebook).output)["runs"][0]["results"]
    assert result["properties"] == {"cell": 4}
    assert result["locations"][0]["logicalLocations"] == [{"name": "cell 4", "kind": "module"}]
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_a_python_file_has_no_cell_in_json(tmp_path):
    (tmp_path / "train.py").write_text("import torch\n" + TYPO + "\n")
    [finding] = json.loads(check("--output-format", "json", tmp_path / "train.py").output)
    assert finding["cell"] is None and finding["location"] == {"row": 2, "column": 45}


def test_show_source_shows_the_cell_line(typo_notebook):
    assert f"2 | {TYPO}" in check("--show-source", typo_notebook).output


def test_a_folder_walk_lints_notebooks(typo_notebook):
    result = check(typo_notebook.parent)
    assert result.exit_code == 1 and ":cell 4:2:45: OPT001" in result.output


LAYOUTS = [(1, False, "\n"), (2, True, ""), ("\t", False, "\n")]  # Jupyter's, and others json.dumps can write


@pytest.mark.parametrize("indent, ensure_ascii, newline", LAYOUTS)
def test_fix_changes_only_the_fixed_cell_source_and_keeps_the_json_layout(tmp_path, indent, ensure_ascii, newline):
    cells = [markdown("# Ünïcode stays as it is ✓"), code(lines("import torch")),
             code(lines("%matplotlib inline", "model = torch.nn.Linear(2, 2)", TYPO), execution_count=3)]
    layout = {"indent": indent, "ensure_ascii": ensure_ascii, "newline": newline}
    nb = write(tmp_path / "nb.ipynb", cells, **layout)
    before = json.loads(nb.read_text(encoding="utf-8"))
    result = check("--fix", nb)
    assert result.exit_code == 0, result.output
    after = json.loads(nb.read_text(encoding="utf-8"))
    fixed = TYPO.replace("learning_rate", "lr")
    assert after["cells"][2]["source"] == lines("%matplotlib inline", "model = torch.nn.Linear(2, 2)", fixed)
    after["cells"][2]["source"] = before["cells"][2]["source"]
    assert after == before
    assert nb.read_text(encoding="utf-8") == write(tmp_path / "expected.ipynb", [
        *cells[:2], code(lines("%matplotlib inline", "model = torch.nn.Linear(2, 2)", fixed), execution_count=3),
    ], **layout).read_text(encoding="utf-8")


def test_a_clean_notebook_is_left_byte_for_byte(tmp_path):
    clean = "opt = torch.optim.SGD(model.parameters(), lr=0.1)"
    nb = write(tmp_path / "nb.ipynb", [code(lines("import torch", clean))])
    before = nb.read_bytes()
    assert check("--fix", nb).exit_code == 0 and check("--add-noqa", nb).exit_code == 0
    assert nb.read_bytes() == before


def test_fix_keeps_a_source_written_as_one_string(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [code("import torch\n" + TYPO + "\n")], indent=2, ensure_ascii=True)
    check("--fix", nb)
    fixed = TYPO.replace("learning_rate", "lr")
    assert json.loads(nb.read_text())["cells"][0]["source"] == "import torch\n" + fixed + "\n"


def test_fix_keeps_the_line_endings_of_the_cells_it_does_not_change(tmp_path):
    nb = write(tmp_path / "nb.ipynb", [code("import torch\r\nmodel = torch.nn.Linear(2, 2)\r\n"), code(lines(TYPO))])
    check("--fix", nb)
    crlf, fixed = json.loads(nb.read_text())["cells"]
    assert (crlf["source"], fixed["source"]) == ("import torch\r\nmodel = torch.nn.Linear(2, 2)\r\n",
                                                 lines(TYPO.replace("learning_rate", "lr")))


def test_diff_shows_the_change_and_writes_nothing(typo_notebook):
    before = typo_notebook.read_bytes()
    result = check("--diff", typo_notebook)
    assert result.exit_code == 1
    assert '-    "opt = torch.optim.AdamW(model.parameters(), learning_rate=1e-3)"' in result.output
    assert '+    "opt = torch.optim.AdamW(model.parameters(), lr=1e-3)"' in result.output
    assert typo_notebook.read_bytes() == before


def test_add_noqa_silences_the_cell_line(typo_notebook):
    assert check("--add-noqa", typo_notebook).exit_code == 0
    cell = json.loads(typo_notebook.read_text())["cells"][3]["source"]
    assert cell == lines("model = torch.nn.Linear(2, 2)", TYPO + "  # noqa: OPT001")
    assert check(typo_notebook).exit_code == 0


def test_a_layout_optlint_cannot_reproduce_is_not_rewritten(tmp_path):
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [code(lines("import torch", TYPO))], "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}, separators=(",", ":")))
    before = nb.read_bytes()
    result = check("--fix", nb)
    assert result.exit_code == 2
    assert "JSON layout cannot be reproduced" in result.output and "Traceback" not in result.output
    assert nb.read_bytes() == before


@pytest.mark.parametrize("text, reason", [("{not json", "not a valid notebook: Expecting property name"),
                                          ('{"cells": 3}', "no list of cells"),
                                          ('{"cells": [{"cell_type": "code", "source": 7}]}', "not text")])
def test_a_broken_notebook_is_one_line_and_exit_2(tmp_path, text, reason):
    nb = tmp_path / "nb.ipynb"
    nb.write_text(text)
    result = check(nb)
    assert result.exit_code == 2
    assert f"{nb}:1:1: OPT000 [error] Cannot read the notebook: " in result.output and reason in result.output
