"""--add-noqa: every current finding silenced on its own line, nothing else changed."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.static.add_noqa import add_noqa
from optlint.static.runner import lint_text

BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3)\n"


def silenced(text: str) -> str:
    return add_noqa(text, lint_text(text, "t.py")).text


def test_each_finding_line_gets_its_codes_and_the_file_is_then_clean():
    text = BAD + "sched = torch.optim.lr_scheduler.StepLR(opt, step=1)\n"
    result = add_noqa(text, lint_text(text, "t.py"))
    assert result.text.splitlines()[1:] == [
        "opt = torch.optim.Adam(params, learning_rate=1e-3)  # noqa: OPT001",
        "sched = torch.optim.lr_scheduler.StepLR(opt, step=1)  # noqa: OPT002",
    ]
    assert result.added == 2 and lint_text(result.text, "t.py") == []
    assert silenced(result.text) == result.text


def test_codes_merge_into_an_existing_noqa_comment_and_other_comments_stay():
    text = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3)  # tuned  # noqa: E501\n"
    assert silenced(text).splitlines()[1] == (
        "opt = torch.optim.Adam(params, learning_rate=1e-3)  # tuned  # noqa: E501, OPT001")


def test_a_noqa_lookalike_inside_a_string_is_not_edited():
    text = 'import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3, name="# noqa: E501")\n'
    assert silenced(text).splitlines()[1].endswith('name="# noqa: E501")  # noqa: OPT001')


def test_lines_that_cannot_take_a_comment_are_skipped():
    text = ('import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3, doc="""a\nb""")\n'
            "sched = torch.optim.lr_scheduler.StepLR(opt, step=1) + \\\n    0\n")
    result = add_noqa(text, lint_text(text, "t.py"))
    assert result.text == text
    assert {f.code for f in result.skipped} == {"OPT001", "OPT002"} and result.added == 0


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_are_kept(newline):
    text = BAD.replace("\n", newline)
    assert silenced(text) == f"import torch{newline}opt = torch.optim.Adam(params, learning_rate=1e-3)  # noqa: OPT001{newline}"


def test_mixed_line_endings_keep_each_line_its_own():
    text = "import torch\r\nopt = torch.optim.Adam(p, learning_rate=1)\rs = torch.optim.StepLR(opt, 1)\nx = 1\r\n"
    assert silenced(text) == ("import torch\r\nopt = torch.optim.Adam(p, learning_rate=1)  # noqa: OPT001\r"
                              "s = torch.optim.StepLR(opt, 1)  # noqa: OPT007\nx = 1\r\n")


def test_cli_adds_noqa_and_the_next_run_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(BAD)
    result = CliRunner().invoke(main, ["check", "--add-noqa", "."])
    assert result.exit_code == 0 and "Added 1 noqa directive." in result.output
    assert CliRunner().invoke(main, ["check", "."]).exit_code == 0
    assert CliRunner().invoke(main, ["check", "--add-noqa", "--fix", "."]).exit_code == 2


def test_cli_adds_noqa_to_a_file_of_cr_line_endings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_bytes(BAD.replace("\n", "\r").encode())
    result = CliRunner().invoke(main, ["check", "--add-noqa", "."])
    assert result.exit_code == 0 and "Added 1 noqa directive." in result.output and "warning" not in result.output
    assert Path("train.py").read_bytes().endswith(b"learning_rate=1e-3)  # noqa: OPT001\r")


def test_cli_leaves_a_file_saved_while_it_ran_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(BAD)

    def silence_then_save(text, findings):
        Path("train.py").write_text(BAD + "x = 1\n")
        return add_noqa(text, findings)

    monkeypatch.setattr("optlint.static.add_noqa.add_noqa", silence_then_save)
    result = CliRunner().invoke(main, ["check", "--add-noqa", "."])
    assert result.exit_code == 2 and Path("train.py").read_text() == BAD + "x = 1\n"
    assert "train.py: the file changed while optlint ran; it was not rewritten" in result.output


def test_cli_does_not_add_noqa_to_a_read_only_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(BAD)
    Path("train.py").chmod(0o444)
    result = CliRunner().invoke(main, ["check", "--add-noqa", "."])
    assert result.exit_code == 2 and Path("train.py").read_text() == BAD
    assert "optlint: error: ./train.py: the file is read-only; it was not rewritten\n" in result.output
