"""What an editor can send the language server: any text, any cells, any settings. Linting never raises
(a bad input is OPT000 or one problem line, as in the CLI); a notebook's rows map back to the very
line of the very cell they came from; every edit the server sends turns the old text into the new."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.config import ConfigError
from optlint.server import targets
from optlint.server.linting import Configurations, editor_options, lint
from optlint.static.files import split_lines
from optlint.static.notebook_cells import join_cells

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


@FUZZ
@given(cells=st.lists(SOURCES, max_size=6))
def test_each_row_of_the_joined_cells_is_the_line_of_its_cell(cells):
    joined = join_cells(cells)
    rows = split_lines(joined.text)
    assert len(rows) == len(joined.lines)
    for row, where in zip(rows, joined.lines):
        assert split_lines(cells[where.cell])[where.row] == row
        assert not row.lstrip().startswith(("%", "!"))


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
