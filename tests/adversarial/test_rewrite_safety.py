"""`--fix` and `--add-noqa` never lose or misplace a byte: generated files (LF, CRLF, CR or mixed line
endings, a BOM or not, trailing whitespace, no newline at the end) with generated modes, owners and
hard links. Each file is made of lines whose fixed form is known, so the whole expected result is:
every byte outside the edits is the original's, each line keeps its own ending (a line break an edit
inserts takes it too), and the file keeps its mode, owner and links, or is refused and left whole.
`make fuzz`-style runs: HYPOTHESIS_PROFILE=fuzz.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.cli import main
from optlint.static.runner import lint_text

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
REWRITES = settings(FUZZ, max_examples=FUZZ.max_examples // 3)  # each example lints and rewrites a file
BOM = b"\xef\xbb\xbf"
ENDINGS = ("\n", "\r\n", "\r")
AS_ROOT = os.geteuid() == 0


@dataclass(frozen=True)
class Line:
    body: str
    fixed: tuple[str, ...]  # what --fix makes of it: itself, another line, or two lines
    may_trail: bool = True  # trailing whitespace would change the code (a continued or swapped line)


HEADER = (Line("import torch", ("import torch",)),
          Line("opt = torch.optim.SGD(m.parameters(), lr=0.1)", ("opt = torch.optim.SGD(m.parameters(), lr=0.1)",)),
          Line("sched = torch.optim.lr_scheduler.StepLR(opt, 10)",
               ("sched = torch.optim.lr_scheduler.StepLR(opt, 10)",)))


def same(body: str, may_trail: bool = True) -> Line:
    return Line(body, (body,), may_trail)


BLOCKS = (
    (same("x = 1"),), (same("# a comment"),), (same(""),), (same('y = "a\tb"  # keep'),),
    (same('s = """a', may_trail=False), same('b"""')),
    (same("z = (1,", may_trail=False), same("     2)")),
    (Line("opt2 = torch.optim.Adam(p, learning_rate=1e-3)", ("opt2 = torch.optim.Adam(p, lr=1e-3)",)),),
    (Line("s2 = torch.optim.ExponentialLR(opt, gamma=0.9)", ("s2 = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)",)),),
    (Line("from torch.optim import AdamW, OneCycleLR, SGD",
          ("from torch.optim import AdamW, SGD", "from torch.optim.lr_scheduler import OneCycleLR")),),
    (Line("print(sched.get_lr())", ("print(sched.get_last_lr())",)),),
    (Line('opt3 = torch.optim.SGD([{"params": w, "learning_rate": 1e-4}], lr=0.1)',
          ('opt3 = torch.optim.SGD([{"params": w, "lr": 1e-4}], lr=0.1)',)),),
    (same("for x in data:"), Line("    sched.step()  # decay", ("    opt.step()",), False),
     Line("    opt.step()", ("    sched.step()  # decay",), False)),
)


@dataclass(frozen=True)
class Case:
    lines: tuple[Line, ...]
    endings: tuple[str, ...]  # each line's own; "" for a last line without one
    trailing: tuple[str, ...]
    bom: bool
    mode: int
    owner: tuple[int, int] | None  # another user's file (root only)
    hard_link: bool

    def original(self) -> bytes:
        return self._bytes((line.body, trailing) for line, trailing in zip(self.lines, self.trailing))

    def fixed(self, text: str) -> bytes:
        # an inserted line break is the line's own, or (last line) the file's first, as libcst's default
        default = next((e for e in self.endings if e), "\n")
        return self._bytes(((ending or default).join(line.fixed), trailing)
                           for line, ending, trailing in zip(self.lines, self.endings, self.trailing))

    def silenced(self, text: str) -> bytes:
        """Each line with a finding gains its codes (its trailing whitespace goes), the others are kept."""
        codes: dict[int, set[str]] = {}
        for finding in lint_text(text, "t.py"):
            codes.setdefault(finding.row, set()).add(finding.code)
        return self._bytes((f"{line.body}  # noqa: {', '.join(sorted(codes[row]))}", "") if row in codes
                           else (line.body, trailing)
                           for row, (line, trailing) in enumerate(zip(self.lines, self.trailing), 1))

    def _bytes(self, rows) -> bytes:
        text = "".join(body + trailing + ending for (body, trailing), ending in zip(rows, self.endings))
        return (BOM if self.bom else b"") + text.encode()


@st.composite
def cases(draw) -> Case:
    blocks = draw(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=8))
    lines = HEADER + tuple(line for block in blocks for line in block)
    convention = draw(st.sampled_from(("\n", "\r\n", "\r", "mixed")))
    endings = [draw(st.sampled_from(ENDINGS)) if convention == "mixed" else convention for _ in lines]
    if draw(st.booleans()):
        endings[-1] = ""  # no newline at the end
    trailing = tuple(draw(st.sampled_from(("", " \t"))) if line.may_trail else "" for line in lines)
    for row, line in enumerate(lines[1:]):  # "\r" then an empty line's "\n" is one "\r\n": say so
        if endings[row] == "\r" and not line.body + trailing[row + 1] and endings[row + 1].startswith("\n"):
            endings[row] = "\r\n"
    owner = draw(st.sampled_from((None, (4242, 4343)))) if AS_ROOT else None
    return Case(lines, tuple(endings), trailing, draw(st.booleans()),
                draw(st.sampled_from((0o644, 0o600, 0o755, 0o640, 0o444, 0o400))), owner, draw(st.booleans()))


def written(case: Case, folder: Path) -> Path:
    path = folder / "train.py"
    path.write_bytes(case.original())
    if case.owner:
        os.chown(path, *case.owner)
    path.chmod(case.mode)
    if case.hard_link:
        os.link(path, folder / "copy.py.bak")
    return path


def kept_status(path: Path) -> tuple[int, int, int, int]:
    status = path.stat()
    return status.st_mode, status.st_uid, status.st_gid, status.st_nlink


def check_rewrite(case: Case, option: str, expected_of) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = written(case, Path(folder))
        before = kept_status(path)
        result = CliRunner().invoke(main, ["check", *option.split(), "--isolated", "--no-cache", str(path)])
        after = path.read_bytes()
        expected = expected_of(case.original().removeprefix(BOM).decode())
        refused = case.hard_link or not case.mode & 0o222
        assert kept_status(path) == before and sorted(os.listdir(folder)) == sorted(
            ["train.py", *["copy.py.bak"] * case.hard_link])
        if refused and expected != case.original():
            assert result.exit_code == 2 and after == case.original(), result.output
            assert "it was not rewritten" in result.output
        else:
            assert result.exit_code == 0 and after == expected, result.output
            text = after.removeprefix(BOM).decode()
            cst.parse_module(text)
            assert lint_text(text, "t.py") == []


@REWRITES
@given(cases())
def test_fix_changes_only_the_fixed_code(case: Case):
    check_rewrite(case, "--fix --unsafe-fixes", case.fixed)


@REWRITES
@given(cases())
def test_add_noqa_changes_only_the_silenced_lines(case: Case):
    check_rewrite(case, "--add-noqa", case.silenced)

