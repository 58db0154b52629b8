"""What a linted file or path holds is shown, never obeyed, in every output format and error line.

A file name, a string in the code, or a configuration value may hold terminal escape sequences (OSC 52
writes the clipboard), line breaks, bidi controls (Trojan Source), or a line starting with `::` that
GitHub Actions would run as a workflow command. The property: no such raw character reaches stdout or
stderr (only the line feeds the formats themselves write), and no output line starts with `::` but the
github format's own annotations.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.cli import main
from optlint.findings import Finding
from optlint.report import FORMATS, render, statistics

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))

REPO = Path(__file__).resolve().parents[2]
# What a terminal or a log viewer acts on. DEL is left out: terminals ignore it, and JSON keeps it raw.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x80-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ANNOTATION = re.compile(r"::(error|warning) file=[^:,]*,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                        r"title=OPT\d{3} [a-z-]+::")
OSC52 = "\x1b]52;c;cHduZWQ=\x07"
PAYLOAD = f"\n::error::injected\n::add-mask::secret\r{OSC52}\x1b[2J\u202eevil\u2066\u2028\x85\x00\t"
NAME_PAYLOAD = PAYLOAD.replace("\x00", "")  # no file name can hold a NUL
# OPT008 quotes the code of both groups' parameters, string arguments and all.
OVERLAP = 'import torch\nopt = torch.optim.Adam([{{"params": m.parameters(prefix="""{0}""")}}, ' \
          '{{"params": m.parameters(prefix="""{0}""")}}])\n'
EVIL_NAME = f"evil\n::error file=x::{OSC52}\u202e.py"
OUTPUTS = [*FORMATS, "statistics"]


def assert_nothing_raw(output: str, fmt: str | None = None, annotations: int | None = None) -> None:
    """`fmt` github: the lines starting with `::` are exactly its `annotations` well-formed ones."""
    assert not RAW_CONTROL.search(output), repr(RAW_CONTROL.findall(output))
    commands = [line for line in output.split("\n") if line.startswith("::")]
    if fmt == "github":
        assert all(ANNOTATION.match(line) for line in commands), commands
        assert annotations is None or len(commands) == annotations, commands
    else:
        assert commands == [], commands


def _args(fmt: str) -> list[str]:
    return ["--statistics"] if fmt == "statistics" else ["--output-format", fmt, "--show-source"]


def run_check(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "optlint", "check", "--isolated", "--no-cache", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


def _decoded(result: subprocess.CompletedProcess) -> tuple[str, str]:
    return result.stdout.decode(), result.stderr.decode()


@pytest.fixture
def evil_files(tmp_path) -> Path:
    """An overlap finding quoting the payload, under a name holding it, and one named like a command."""
    (tmp_path / EVIL_NAME).write_text(OVERLAP.format(PAYLOAD))
    (tmp_path / "::warning::named.py").write_text(OVERLAP.format("p"))
    return tmp_path


@pytest.mark.parametrize("fmt", OUTPUTS)
def test_file_names_and_quoted_code_are_escaped_in_every_format(fmt, evil_files):
    stdout, stderr = _decoded(run_check([*_args(fmt), EVIL_NAME, "::warning::named.py"], evil_files))
    assert stderr == ""
    assert_nothing_raw(stdout, fmt, annotations=2)
    assert "injected" in stdout or fmt == "statistics"


def test_json_keeps_the_true_values(evil_files):
    """JSON (and SARIF, by the same json.dumps) escapes by its own rules: the name and code come back intact."""
    stdout, _ = _decoded(run_check(["--output-format", "json", EVIL_NAME], evil_files))
    [finding] = json.loads(stdout)
    assert finding["filename"] == EVIL_NAME and "::error::injected\n::add-mask::secret\r" in finding["message"]


def test_text_format_shows_the_escapes_where_the_code_had_the_characters(evil_files):
    stdout, _ = _decoded(run_check(["--show-source", "::warning::named.py", EVIL_NAME], evil_files))
    assert stdout.startswith("./::warning::named.py:2:")
    assert "evil\\n::error file=x::\\x1b]52;c;cHduZWQ=\\x07\\u202e.py:5:49: OPT008" in stdout  # \\r ends row 4
    assert '(prefix="""\\n::error::injected\\n::add-mask::secret\\r\\x1b]52' in stdout


def test_colour_codes_are_the_only_escape_sequences(evil_files):
    stdout, _ = _decoded(run_check(["--show-source", EVIL_NAME], evil_files, env={"FORCE_COLOR": "1"}))
    assert "\x1b[1m" in stdout
    assert_nothing_raw(re.sub(r"\x1b\[[0-9;]*m", "", stdout))


def _stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    _, stderr = _decoded(result)
    assert_nothing_raw(stderr)
    lines = stderr.splitlines()
    assert all(line.startswith(("optlint: error: ", "optlint: warning: ")) for line in lines), lines
    return lines


@pytest.mark.parametrize("args", [_args("text"), _args("github"), ["--diff", "--quiet"]],
                         ids=["text", "github", "diff"])
def test_error_lines_are_one_escaped_line_each(args, tmp_path):
    """A missing path, a file too deep to analyse, and one that does not parse (its OPT000 is an error
    line with --diff), each named with the payload: one escaped line each (stderr is the same in every format)."""
    missing, deep, broken = (f"{stem}{NAME_PAYLOAD}.py" for stem in ("missing", "deep", "broken"))
    (tmp_path / deep).write_text("x = " + "-" * 100_000 + "1\n")
    (tmp_path / broken).write_text("import torch\nopt = torch.optim.Adam(\n")
    result = run_check([*args, missing, deep, broken], tmp_path)
    lines = _stderr_lines(result)
    assert len(lines) == (3 if "--diff" in args else 2) and result.returncode == 2, lines
    assert_nothing_raw(result.stdout.decode(), args[1] if args[0] == "--output-format" else None)


def test_a_bad_configuration_value_is_one_escaped_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nselect = ["OPT\\u001b]52;c;aGk=\\u0007\\n::error::x"]\n')
    (tmp_path / "train.py").write_text("x = 1\n")
    result = subprocess.run([sys.executable, "-m", "optlint", "check", "train.py"], cwd=tmp_path,
                            capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    [line] = _stderr_lines(result)
    assert "`OPT\\x1b]52;c;aGk=\\x07\\n::error::x`" in line


# Generated cases: names and code made of the characters that drive terminals and CI logs.
DANGEROUS = st.sampled_from(["::", "::error file=a,line=1::x", "::add-mask::", "\n", "\r", "\r\n", "\x1b[2J",
                             "\x1b]52;c;aGk=\x07", "\x1b]8;;http://x\x1b\\", "\x07", "\x00", "\x7f", "\x85",
                             "\x9b31m", "\u2028", "\u2029", "\u202e", "\u2066", "\u2069", "\t", "%0A", "%", ","])
TEXT = st.lists(st.one_of(DANGEROUS, st.text(max_size=5)), max_size=8).map("".join)
# What a file system takes as a name: no "/" and no NUL, at most 255 bytes.
FILE_NAME = TEXT.map(lambda s: s.replace("/", "").replace("\0", "")[:60] + ".py")


@FUZZ
@given(filename=TEXT, message=TEXT, hint=st.none() | TEXT, line=TEXT,
       column=st.integers(1, 30), width=st.integers(0, 30))
def test_no_format_lets_a_control_character_through(filename, message, hint, line, column, width):
    finding = Finding("OPT001", message, filename, 1, column, 1, column + width, hint=hint)
    for fmt in FORMATS:
        shown = render(fmt, [finding], show_source=True, source=lambda _: [line], files_checked=1)
        assert_nothing_raw(shown, fmt, annotations=1)
    assert_nothing_raw(statistics.render([finding]))


@settings(FUZZ, max_examples=FUZZ.max_examples // 15)  # 8 runs of the command each
@given(name=FILE_NAME, code=TEXT)
def test_no_linted_file_or_path_gets_through_the_command_line(name, code):
    """In process, for speed: the named file's finding in every format, and a missing path's error line."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        Path(path).write_text(OVERLAP.format(code.replace('"', "'").replace("\\", "")), newline="")
        for fmt in OUTPUTS:
            result = CliRunner().invoke(main, ["check", "--isolated", "--no-cache", *_args(fmt), path,
                                               path + "-missing"])
            assert result.exit_code == 2, result.output
            assert "OPT0" in result.stdout  # the file's OPT008, or OPT000 when the code does not parse
            assert_nothing_raw(result.stdout, fmt)
            assert_nothing_raw(result.stderr)
            assert result.stderr.count("\n") == 1 and result.stderr.startswith("optlint: error: ")
