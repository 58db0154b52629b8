"""--fix: round trips over every fixture, bytes kept (encoding, BOM, line endings, permissions), atomic writes."""

import difflib
import os
import stat
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.findings import Edit, Finding, Fix
from optlint.static import files
from optlint.static.fix import MAX_PASSES, FixError, apply_fixes, fix_file, fix_text, wanted
from optlint.static.runner import lint_file, lint_text

FIXTURES = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "static").rglob("*.py"))
BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3, weightDecay=0.1)\n"
FIXED = "import torch\nopt = torch.optim.Adam(params, lr=1e-3, weight_decay=0.1)\n"


def linter(filename: str):
    return lambda text: lint_text(text, filename)


def rows_of(text: str, start: int, end: int) -> set[int]:
    first = text.count("\n", 0, start) + 1
    return set(range(first, text.count("\n", 0, end) + 2))


def changed_rows(before: str, after: str) -> set[int]:
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    return {row + 1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal" for row in range(i1, max(i2, i1 + 1))}


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f"{p.parent.name}/{p.name}" for p in FIXTURES])
def test_fix_round_trip_over_every_fixture(fixture, tmp_path):
    target = tmp_path / fixture.name
    target.write_bytes(fixture.read_bytes())
    original = fixture.read_text(encoding="utf-8")
    fixable = wanted(lint_file(str(target)))
    intended = {row for f in fixable for e in f.fix.edits for row in rows_of(original, e.start, e.end)}

    _, result = fix_file(str(target), linter(str(target)))
    fixed = target.read_text(encoding="utf-8")

    assert changed_rows(original, fixed) <= intended
    assert (fixed != original) == bool(fixable)
    cst.parse_module(fixed)
    compile(fixed, str(target), "exec", dont_inherit=True)
    assert result.converged and not wanted(result.remaining)
    assert [(f.row, f.code) for f in lint_file(str(target))] == [(f.row, f.code) for f in result.remaining]
    # A second run changes nothing.
    _, again = fix_file(str(target), linter(str(target)))
    assert again.fixed == () and target.read_text(encoding="utf-8") == fixed


def test_fixing_a_bad_fixture_removes_exactly_the_fixed_findings():
    bad = [p for p in FIXTURES if p.parent.name == "bad"]
    assert any(wanted(lint_file(str(p))) for p in bad), "no fixture exercises a fix"
    for path in bad:
        before = lint_file(str(path))
        result = fix_text(path.read_text(encoding="utf-8"), linter(str(path)))
        fixed_codes = sorted(f.code for f in result.fixed)
        assert sorted(f.code for f in before) == sorted(fixed_codes + [f.code for f in result.remaining])


CASES = {
    "crlf": (BAD.replace("\n", "\r\n").encode(), FIXED.replace("\n", "\r\n").encode()),
    "cr": (BAD.replace("\n", "\r").encode(), FIXED.replace("\n", "\r").encode()),
    "bom": (b"\xef\xbb\xbf" + BAD.encode(), b"\xef\xbb\xbf" + FIXED.encode()),
    "latin-1 cookie": (
        "# -*- coding: latin-1 -*-\n# Réglages\n".encode("latin-1") + BAD.encode(),
        "# -*- coding: latin-1 -*-\n# Réglages\n".encode("latin-1") + FIXED.encode(),
    ),
    "form feed and U+2028 before the finding": (
        ('s = "a\x0cb\u2028c"\n' + BAD).encode(), ('s = "a\x0cb\u2028c"\n' + FIXED).encode()),
    "no newline at the end": (BAD.rstrip("\n").encode(), FIXED.rstrip("\n").encode()),
}


@pytest.mark.parametrize("case", CASES)
def test_fix_keeps_encoding_bom_and_line_endings(case, tmp_path):
    before, after = CASES[case]
    target = tmp_path / "train.py"
    target.write_bytes(before)
    fix_file(str(target), linter(str(target)))
    assert target.read_bytes() == after


def test_fix_keeps_permissions_and_symlinks(tmp_path):
    real = tmp_path / "real.py"
    real.write_text(BAD)
    real.chmod(0o751)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    fix_file(str(link), linter(str(link)))
    assert link.is_symlink() and real.read_text() == FIXED
    assert stat.S_IMODE(real.stat().st_mode) == 0o751


def test_failure_between_write_and_rename_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "train.py"
    target.write_text(BAD)

    def crash(src, dst):
        assert Path(src).read_text() == FIXED  # the new text was fully written first
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(FixError, match="No space left on device"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == BAD
    assert os.listdir(tmp_path) == ["train.py"]


def test_a_symlink_elsewhere_stays_a_link_and_only_its_target_is_rewritten(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    real, link = tmp_path / "real" / "train.py", tmp_path / "links" / "train.py"
    real.write_text(BAD)
    link.symlink_to(real)
    fix_file(str(link), linter(str(link)))
    assert link.is_symlink() and os.readlink(link) == str(real) and real.read_text() == FIXED
    assert os.listdir(tmp_path / "real") == ["train.py"] and os.listdir(tmp_path / "links") == ["train.py"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_fix_keeps_the_owner_and_group(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(BAD)
    os.chown(target, 4242, 4343)
    fix_file(str(target), linter(str(target)))
    assert target.read_text() == FIXED and (target.stat().st_uid, target.stat().st_gid) == (4242, 4343)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_file_whose_owner_cannot_be_kept_is_not_rewritten(tmp_path, monkeypatch):
    target = tmp_path / "train.py"
    target.write_text(BAD)
    os.chown(target, 4242, 4343)
    monkeypatch.setattr(os, "fchown", lambda *args: (_ for _ in ()).throw(PermissionError(1, "Operation not permitted")))
    with pytest.raises(FixError, match=r"^cannot keep the file's owner and group \(Operation not permitted\); it was"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == BAD and target.stat().st_uid == 4242 and os.listdir(tmp_path) == ["train.py"]


def test_a_read_only_file_is_not_rewritten_even_by_root(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(BAD)
    target.chmod(0o444)
    with pytest.raises(FixError, match="^the file is read-only; it was not rewritten$"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == BAD and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_file_this_user_may_not_write_is_not_rewritten(tmp_path, monkeypatch):
    target = tmp_path / "train.py"
    target.write_text(BAD)  # 0644, as if another user's: os.access is what says this user may not write it
    monkeypatch.setattr(os, "access", lambda path, mode, **kwargs: mode != os.W_OK)
    with pytest.raises(FixError, match="read-only"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == BAD


def test_a_hard_linked_file_is_neither_split_nor_rewritten(tmp_path):
    target, other = tmp_path / "train.py", tmp_path / "backup.py"
    target.write_text(BAD)
    os.link(target, other)
    with pytest.raises(FixError, match="^the file has 2 hard links, which a rewrite would split or all change"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == other.read_text() == BAD and target.stat().st_ino == other.stat().st_ino


def test_an_edit_saved_just_before_the_replace_is_kept(tmp_path, monkeypatch):
    target = tmp_path / "train.py"
    target.write_text(BAD)
    sync = os.fsync

    def save_meanwhile(handle):  # the last step before the check: the new text is written
        sync(handle)
        target.write_text(BAD + "# the user's edit\n")

    monkeypatch.setattr(os, "fsync", save_meanwhile)
    with pytest.raises(FixError, match=r"^the file changed while optlint ran; it was not rewritten"):
        fix_file(str(target), linter(str(target)))
    assert target.read_text() == BAD + "# the user's edit\n" and os.listdir(tmp_path) == ["train.py"]


@pytest.fixture
def train_py(tmp_path, monkeypatch) -> Path:
    """`train.py` with two fixable findings, in the working directory."""
    monkeypatch.chdir(tmp_path)
    Path("train.py").write_text(BAD)
    return Path("train.py")


def test_cli_reports_a_failed_write_and_exits_2(train_py, monkeypatch):
    monkeypatch.setattr(files.os, "replace", lambda *names, **folders: (_ for _ in ()).throw(PermissionError(13, "denied")))
    result = CliRunner().invoke(main, ["check", "--fix", "train.py"])
    assert result.exit_code == 2
    assert "optlint: error: train.py: cannot write the file (denied); it is unchanged" in result.output
    assert train_py.read_text() == BAD


def test_cli_leaves_a_file_saved_while_it_ran_and_exits_2(train_py, monkeypatch):
    def fix_then_save(*args, **kwargs):
        result = fix_text(*args, **kwargs)
        train_py.write_text(BAD + "x = 1\n")
        return result

    monkeypatch.setattr("optlint.static.fix.fix_text", fix_then_save)
    result = CliRunner().invoke(main, ["check", "--fix", "train.py"])
    assert result.exit_code == 2 and train_py.read_text() == BAD + "x = 1\n"
    assert ("optlint: error: train.py: the file changed while optlint ran; it was not rewritten (run optlint again)\n"
            in result.output)


def finding(start: int, end: int, replacement: str, code="OPT001", safe=True) -> Finding:
    return Finding(code, "m", fix=Fix("t", (Edit(start, end, replacement),), safe))


STEPS = "import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\nsched = torch.optim.lr_scheduler.StepLR(opt, 10)\n"


def test_swapped_steps_take_their_own_comments_along_in_a_file_of_cr_endings():
    loop = "for x in data:\r    sched.step()  # decay the lr\r    opt.step()\r"
    source = STEPS.replace("\n", "\r") + loop
    assert fix_text(source, linter("t.py"), unsafe=True).text == STEPS.replace("\n", "\r") + (
        "for x in data:\r    opt.step()\r    sched.step()  # decay the lr\r")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_split_import_uses_the_files_line_ending(newline):
    source = f"import torch{newline}from torch.optim import AdamW, OneCycleLR, SGD{newline}x = 1{newline}"
    assert fix_text(source, linter("t.py")).text == (f"import torch{newline}from torch.optim import AdamW, SGD{newline}"
                                                     f"from torch.optim.lr_scheduler import OneCycleLR{newline}x = 1{newline}")


def test_split_import_in_a_mixed_file_uses_its_own_lines_ending():
    source = "import torch\r\nfrom torch.optim import AdamW, OneCycleLR\nx = 1\r\n"
    assert fix_text(source, linter("t.py")).text == (
        "import torch\r\nfrom torch.optim import AdamW\nfrom torch.optim.lr_scheduler import OneCycleLR\nx = 1\r\n")


def test_overlapping_fixes_wait_for_the_next_pass():
    text, applied = apply_fixes("abcdef", [finding(1, 3, "X"), finding(2, 4, "Y"), finding(4, 5, "Z")])
    assert text == "aXdZf" and len(applied) == 2
    # Two insertions at one place are a conflict too: their order would be a guess.
    assert apply_fixes("ab", [finding(1, 1, "X"), finding(1, 1, "Y")])[0] == "aXb"


def test_unsafe_fixes_only_on_request():
    lint = lambda text: [finding(0, 1, "y", safe=False)] if text.startswith("x") else []  # noqa: E731
    assert fix_text("x = 1\n", lint).text == "x = 1\n"
    assert fix_text("x = 1\n", lint, unsafe=True).text == "y = 1\n"


def test_a_fix_that_breaks_the_syntax_is_never_written(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(BAD)
    start = BAD.index("learning_rate")
    lint = lambda text: [finding(start, start + 1, "(")] if "learning_rate" in text else []  # noqa: E731
    with pytest.raises(FixError, match="does not parse"):
        fix_file(str(target), lint)
    assert target.read_text() == BAD


def test_a_fix_that_breaks_compilation_is_refused():
    text = "def f(a, b):\n    return a\n"
    start = text.index("b)")
    lint = lambda t: [finding(start, start + 1, "a")] if "b)" in t else []  # noqa: E731
    with pytest.raises(FixError, match="does not compile"):  # duplicate argument: parses, does not compile
        fix_text(text, lint)


def test_fixes_that_never_settle_stop_after_a_few_passes():
    passes = []
    lint = lambda text: passes.append(text) or [finding(0, 1, "b" if text[0] == "a" else "a")]  # noqa: E731
    result = fix_text("a = 1\n", lint)
    assert not result.converged and len(passes) == MAX_PASSES + 1


def test_cli_fix_then_second_run_changes_nothing(train_py):
    first = CliRunner().invoke(main, ["check", "--fix", "train.py"])
    assert first.exit_code == 0
    assert "Found 2 problems in 1 file (2 fixed, 0 remaining)." in first.output
    assert train_py.read_text() == FIXED
    second = CliRunner().invoke(main, ["check", "--fix", "train.py"])
    assert second.exit_code == 0 and "All checks passed" in second.output


def test_cli_diff_shows_the_fix_and_writes_nothing(train_py):
    result = CliRunner().invoke(main, ["check", "--diff", "train.py"])
    assert result.exit_code == 1
    assert "-opt = torch.optim.Adam(params, learning_rate=1e-3, weightDecay=0.1)\n" in result.output
    assert "+opt = torch.optim.Adam(params, lr=1e-3, weight_decay=0.1)\n" in result.output
    assert train_py.read_text() == BAD
    train_py.write_text(FIXED)
    assert CliRunner().invoke(main, ["check", "--diff", "train.py"]).exit_code == 0


def test_cli_fix_on_stdin_prints_the_fixed_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--fix", "-q", "-"], input=BAD)
    assert result.exit_code == 0
    assert result.stdout == FIXED


def test_remaining_findings_keep_the_exit_status_at_1(train_py):
    train_py.write_text("import torch\nopt = torch.optim.Adam(params, learning_rate=1, zzz=2)\n")
    result = CliRunner().invoke(main, ["check", "--fix", "train.py"])
    assert result.exit_code == 1
    assert "(1 fixed, 1 remaining)" in result.output and "zzz" in result.output
    assert CliRunner().invoke(main, ["check", "--fix", "--exit-zero", "train.py"]).exit_code == 0
