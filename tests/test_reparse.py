"""The language server's re-parse (optlint.static.reparse) gives what a whole parse gives: the same tree,
the same positions, the same findings, for any edit of any file; and it does re-parse only what changed."""

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper, PositionProvider

from optlint.findings import Finding
from optlint.static.parse import parse
from optlint.static.reparse import Document, common_ends
from optlint.static.runner import lint_text

PROFILE = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "fixtures" / "static").rglob("*.py"))
TRAIN = ROOT / "fixtures" / "static" / "bad" / "opt011_tutorial_epoch_loop.py"
# What typing brings: code, the characters that join or split statements, indentation, line breaks.
PIECES = st.sampled_from(["", "\n", "\r\n", "    ", "\t", "(", ")", "[", "]", ":", "'", '"""', "\\", "#", "x",
                          "opt.step()", "if x:\n    ", "def f():\n    return 1\n", "else:\n", "@d\n", " = 1",
                          "sched.step()\n", "\n\n# note\n", "for g in opt.param_groups:\n    g['lr'] = 1\n"])


def _whole(text: str):
    return parse(text, "t.py")


def _assert_same_as_whole_parse(document: Document, text: str) -> None:
    got, whole = document.parse(text, "t.py"), _whole(text)
    if isinstance(whole, Finding):
        assert got == whole
        return
    assert got.code == whole.code  # (libcst itself does not give back every text: mixed tabs and spaces)
    assert got.deep_equals(whole)
    for name in ("default_indent", "default_newline", "has_trailing_newline", "encoding"):
        assert getattr(got, name) == getattr(whole, name), name
    positions = MetadataWrapper(got, unsafe_skip_copy=True).resolve(PositionProvider)
    for node, where in positions.items():
        assert document.position(node) == where, (type(node).__name__, where)


@settings(PROFILE, max_examples=PROFILE.max_examples // 2)
@given(source=st.sampled_from(SOURCES), data=st.data())
def test_any_edit_reparses_to_the_whole_files_tree_and_positions(source, data):
    text = source.read_text(encoding="utf-8")
    document = Document()
    document.parse(text, "t.py")
    for _ in range(3):  # a few keystrokes in a row, each from the tree the last one left
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 40)))
        text = text[:start] + data.draw(PIECES) + text[end:]
        _assert_same_as_whole_parse(document, text)


@pytest.mark.parametrize("edit", [
    lambda t: t + "\n\ndef added():\n    pass\n",  # typing at the end of the file
    lambda t: t.rstrip("\n"),  # no newline at the end
    lambda t: t.replace("\n", "\r\n"),  # every line ending changed
    lambda t: "# header\n" + t,  # above the first statement
    lambda t: t.replace("    ", "  "),  # the indent itself
    lambda t: t.replace("optimizer.step()", "optimizer.step(", 1),  # an open bracket swallows the rest
    lambda t: t.replace("\ndef ", "\n  def ", 1),  # an unexpected indent
])
def test_edits_that_change_what_the_file_shares(edit):
    text = TRAIN.read_text(encoding="utf-8")
    document = Document()
    document.parse(text, "t.py")
    _assert_same_as_whole_parse(document, edit(text))


def test_an_edit_reparses_only_its_statement():
    text = TRAIN.read_text(encoding="utf-8")
    document = Document()
    before = document.parse(text, "t.py").body
    edited = document.parse(text.replace("lr=0.001", "lr=0.002", 1), "t.py").body
    kept = [old is new for old, new in zip(before, edited)]
    assert kept.count(False) == 1 and len(before) == len(edited)


def test_findings_of_an_edited_text_are_the_whole_lints():
    text = TRAIN.read_text(encoding="utf-8")
    document = Document()
    lint_text(text, "t.py", document=document)
    written = "momentum=0.9)\n    for g in optimizer_ft.param_groups:\n        g['learning_rate'] = 1\n"
    edited = text.replace("lr=0.001", "lr=0.25", 1).replace("momentum=0.9)\n", written, 1)
    assert lint_text(edited, "t.py", document=document) == lint_text(edited, "t.py")
    assert {f.code for f in lint_text(edited, "t.py", document=document)} >= {"OPT003", "OPT011"}


@PROFILE
@given(st.text("ab\n", max_size=12), st.text("ab\n", max_size=12))
def test_common_ends_is_the_one_replacement_between_two_texts(old, new):
    start, old_end, new_end = common_ends(old, new)
    assert old[:start] == new[:start] and old[old_end:] == new[new_end:]
    assert old_end - start >= 0 and new_end - start >= 0
    assert old[:start] + new[start:new_end] + old[old_end:] == new
    # the shared ends are as long as they can be
    assert start == len(old) or start == len(new) or old[start] != new[start] or old_end == start or new_end == start
