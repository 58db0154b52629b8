"""What an editor can send the language server: any text, any cells, any settings. Linting never raises
(a bad input is OPT000 or one problem line, as in the CLI); a notebook's rows map back to the very
line of the very cell they came from, read as `optlint check` reads it; every edit the server sends turns the old text into the new."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optlint.config import ConfigError
from optlint.server import targets
from optlint.server.linting import Configurations, editor_options, lint
from optlint.static import notebooks
from optlint.static.files import split_lines

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
FEW = settings(FUZZ, max_examples=max(FUZZ.max_examples // 5, 10))

SNIPPETS = ["import torch\n", "opt = torch.optim.Adam(m.parameters(), learning_rate=1e-3)\n",
            "sched = torch.optim.lr_scheduler.StepLR(opt, 1)\n", "sched.get_lr()\n", "for x in y:\n",
            "    opt.step()\n", "%matplotlib inline\n", "!pip install torch\n", "%%bash\n", "(\n", ")\n",
            "'''\n", "\\\n", "\t\f\r\n", "\x00", "é😀\n", "def f(:\n", "  # noqa\n", "x = [\n" * 3]
SOURCES = st.lists(st.sampled_from(SNIPPETS) | st.text(max_size=20), max_size=12).map("".join)


def _configurations(tmp: Path) -> Configurations:
    return Configurations(lambda path: tmp)


@FEW
@given(text=SOURCES)
def test_lint_of_any_text_returns_findings_or_one_problem_line(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("project")
    outcome = lint(text, str(root / "train.py"), _configurations(root))
    assert outcome.problem is None or "\n" not in outcome.problem
    assert all(f.filename == str(root / "train.py") for f in outcome.findings)


CELLS = st.lists(st.tuples(st.sampled_from([notebooks.CODE, notebooks.CODE, "markup"]), SOURCES), max_size=5)


def _notebook(cells) -> targets.Target:
    return targets.notebook("file:///nb.ipynb", "/nb.ipynb",
                            [(f"file:///nb.ipynb#{n}", kind, text) for n, (kind, text) in enumerate(cells)])


@FEW
@given(cells=CELLS)
def test_every_finding_of_any_notebook_is_shown_within_one_of_its_code_cells(tmp_path_factory, cells):
    root = tmp_path_factory.mktemp("project")
    target = _notebook(cells)
    findings = lint(target.text, str(root / "nb.ipynb"), _configurations(root)).findings
    for start, end in target.spans(findings):
        assert start.uri == end.uri and start.uri in target.documents
        rows = len(split_lines(target.documents[start.uri]))
        assert (start.line, start.character) <= (end.line, end.character) and end.line <= max(rows - 1, 0)


@FUZZ
@given(cells=CELLS, data=st.data())
def test_an_edited_line_of_the_module_is_one_change_of_its_cell(cells, data):
    target = _notebook(cells)
    view = split_lines(target.text, keepends=True)
    editable = [(cell, row) for cell in target.cells.cells for row in range(1, len(split_lines(cell.text)) + 1)
                if target.cells.marker not in view[notebooks.view_row(target.cells, cell.number, row) - 1]]
    assume(editable)
    cell, row = data.draw(st.sampled_from(editable))
    at = notebooks.view_row(target.cells, cell.number, row) - 1
    view[at] = _edited(view[at])
    change = targets.change_between(target, "".join(view))
    lines = split_lines(cell.text, keepends=True)
    expected = "".join([*lines[:row - 1], _edited(lines[row - 1]), *lines[row:]])
    assert change.start.uri == target.cell_uris[cell.number]
    start, end = _offset(cell.text, change.start), _offset(cell.text, change.end)
    assert cell.text[:start] + change.text + cell.text[end:] == expected


def _edited(line: str) -> str:
    body = line.rstrip("\r\n")
    return body + "  # edited" + line[len(body):]


@FUZZ
@given(old=SOURCES, new=SOURCES)
def test_the_change_sent_turns_the_old_text_into_the_new(old, new):
    target = targets.text_document("file:///t.py", "/t.py", old)
    change = targets.change_between(target, new)
    if change is None:
        assert old == new
        return
    start, end = _offset(old, change.start), _offset(old, change.end)
    assert old[:start] + change.text + old[end:] == new


def _offset(text: str, place: targets.Place) -> int:
    return sum(len(line) for line in split_lines(text, keepends=True)[:place.line]) + place.character


@FUZZ
@given(settings_=st.dictionaries(st.sampled_from(["select", "extendSelect", "ignore", "bogus"]),
                                 st.none() | st.integers() | st.text(max_size=6)
                                 | st.lists(st.sampled_from(["OPT", "OPT003", "OPT9", "opt003", ""]), max_size=3)))
def test_editor_settings_are_options_or_one_config_error(settings_):
    try:
        editor_options(settings_)
    except ConfigError as error:
        assert "\n" not in str(error)
