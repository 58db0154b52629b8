"""Bad input through the real command line: every case runs `python -m optlint check` in a subprocess.

Each case lints its odd input together with `other.py`, a file with one known finding, and checks
the exit code, the findings (JSON output), and stderr: nothing, or exactly one `optlint: error:`
line per unreadable input, never a traceback. `other.py` being reported proves that the odd input
did not stop the run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
OTHER = "import torch\nopt = torch.optim.Adam(params, lrr=0.1)\n"  # OPT001 at row 2
OTHER_FINDING = ("other.py", 2, "OPT001")
TYPO = "opt = torch.optim.Adam(params, lrr=0.1)"
# Without CAP_DAC_OVERRIDE even root obeys file modes: a real "permission denied" in a root container.
WITHOUT_ROOT_OVERRIDE = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")


def run_check(args, cwd, stdin: bytes | None = None, prefix=(), python_flags=(), timeout=120):
    command = [*prefix, sys.executable, *python_flags, "-m", "optlint", "check", "--output-format", "json", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=cwd, input=stdin if stdin is not None else b"", capture_output=True,
                          timeout=timeout, env=env)


def findings_of(stdout: bytes) -> set[tuple[str, int, str]]:
    return {(Path(f["filename"]).as_posix(), f["location"]["row"], f["code"]) for f in json.loads(stdout)}


@dataclass
class Case:
    """`make` writes the odd input under a folder and returns the command-line arguments for it."""

    make: Callable[[Path], list[str]]
    exit_code: int
    error: str | None = None  # a piece of the one stderr line; None: stderr stays empty
    findings: set = field(default_factory=set)  # (file, row, code) beside other.py's finding
    stdin: bytes | None = None
    messages: tuple[str, ...] = ()  # pieces of the findings' messages
    at: tuple[int, int] | None = None  # (row, column) of the odd input's OPT000


def write(name: str, content: bytes | str) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return [name]

    return make


def symlink(name: str, target: str, *, also: str | None = None) -> Callable[[Path], list[str]]:
    def make(folder: Path) -> list[str]:
        (folder / name).symlink_to(target)
        if also is not None:
            (folder / also).symlink_to(name)
        return [name]

    return make


def directory_named_py(folder: Path) -> list[str]:
    (folder / "x.py").mkdir()
    (folder / "x.py" / "inner.py").write_text(f"import torch\n\n{TYPO}\n")
    return ["x.py"]


def walked_folder_with_odd_entries(folder: Path) -> list[str]:
    """A walked tree holding a folder named x.py, an editor's dangling lock link and a FIFO: only real
    .py files are linted, the rest is skipped silently as any linter skips them."""
    tree = folder / "src"
    (tree / "x.py").mkdir(parents=True)
    (tree / "x.py" / "inner.py").write_text(f"import torch\n{TYPO}\n")
    (tree / ".#train.py").symlink_to("root@host.1234")
    os.mkfifo(tree / "pipe.py")
    return ["src"]


def fifo(folder: Path) -> list[str]:
    os.mkfifo(folder / "pipe.py")
    return ["pipe.py"]


def fifty_megabytes(folder: Path) -> list[str]:
    line = b"lr = torch.optim.lr_scheduler.StepLR(optimizer, 10)  # padding\n"
    with open(folder / "huge.py", "wb") as handle:
        handle.write(b"import torch\n")
        for _ in range(50 * 2**20 // len(line) + 1):
            handle.write(line)
    return ["huge.py"]


PREAMBLE = "import torch\nopt = torch.optim.Adam(params)\n"

CASES = {
    "missing path": Case(lambda folder: ["missing.py"], 2, "missing.py: no such file or directory"),
    "directory named x.py": Case(directory_named_py, 1, findings={("x.py/inner.py", 3, "OPT001")}),
    "walked tree with odd entries": Case(walked_folder_with_odd_entries, 1,
                                         findings={("src/x.py/inner.py", 2, "OPT001")}),
    "fifo given by name": Case(fifo, 2, "pipe.py: not a regular file"),
    "symlink loop": Case(symlink("loop_a.py", "loop_b.py", also="loop_b.py"), 2, "loop_a.py: symbolic link loop"),
    "broken symlink": Case(symlink("dangling.py", "nowhere.py"), 2, "dangling.py: broken symbolic link"),
    "binary file": Case(write("blob.py", bytes(range(256)) * 40), 2, findings={("blob.py", 1, "OPT000")},
                        messages=("Cannot decode the file",)),
    "null bytes in utf-8": Case(write("nul.py", PREAMBLE + "x = 1\0\n"), 2, findings={("nul.py", 1, "OPT000")},
                                messages=("null bytes",)),
    "empty file": Case(write("empty.py", b""), 1),
    "byte order mark": Case(write("bom.py", b"\xef\xbb\xbf" + f"import torch\n{TYPO}\n".encode()), 1,
                            findings={("bom.py", 2, "OPT001")}),
    "crlf line endings": Case(write("crlf.py", f"import torch\r\n\r\n{TYPO}\r\n"), 1,
                              findings={("crlf.py", 3, "OPT001")}),
    "lone cr line endings": Case(write("cr.py", f"import torch\r\r{TYPO}\r"), 1, findings={("cr.py", 3, "OPT001")}),
    "latin-1 with a coding cookie": Case(
        write("latin.py", f"# -*- coding: latin-1 -*-\nimport torch\n# caf\xe9 cr\xe8me\n{TYPO}\n".encode("latin-1")),
        1, findings={("latin.py", 4, "OPT001")}),
    "undecodable without a cookie": Case(write("cp1252.py", "import torch\n# café\n".encode("latin-1")), 2,
                                         findings={("cp1252.py", 1, "OPT000")}),
    "unknown coding cookie": Case(write("klingon.py", "# coding: klingon\nimport torch\n"), 2,
                                  findings={("klingon.py", 1, "OPT000")}, messages=("unknown encoding",)),
    "syntax error": Case(write("broken.py", "import torch\nopt = torch.optim.Adam(model.parameters(), lr=0.1\n"), 2,
                         findings={("broken.py", 2, "OPT000")}, messages=("'(' was never closed",), at=(2, 23)),
    "form feeds and tabs": Case(
        write("ff.py", f"import torch\n\f\nclass Net:\n\tdef setup(self):\n\t\tself.{TYPO}\n\f# end\n"), 1,
        findings={("ff.py", 5, "OPT001")}),
    "valid python libcst cannot parse": Case(  # a line joined to the next `def` after an indented block
        write("joined.py", PREAMBLE + "def f():\n    pass\n\\\ndef g():\n    pass\n"), 2,
        "joined.py: internal error in optlint"),
    "50 MB file": Case(fifty_megabytes, 2, "huge.py: larger than 2 MB"),
    "brackets nested past Python's limit": Case(write("parens.py", PREAMBLE + "x = " + "(" * 5000 + ")" * 5000 + "\n"),
                                                2, findings={("parens.py", 3, "OPT000")},
                                                messages=("too many nested parentheses",)),
    "unary operators nested past Python's limit": Case(write("unary.py", PREAMBLE + "x = " + "-" * 100_000 + "1\n"),
                                                       2, "unary.py: too deeply nested"),
    "boolean chain python keeps flat": Case(write("chain.py", PREAMBLE + "x = a" + " or a" * 20_000 + "\n"),
                                            2, "chain.py: too deeply nested"),
    "stdin with --stdin-filename": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 1,
                                        findings={("piped.py", 2, "OPT001")}, stdin=OTHER.encode()),
    "stdin over the size limit": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 2,
                                      "piped.py: larger than 2 MB", stdin=b"import torch\n" + b"x = 1\n" * 2**20),
    "undecodable stdin": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 2,
                              findings={("piped.py", 1, "OPT000")}, stdin="import torch\n# café\n".encode("latin-1")),
    "stdin nested past Python's limit": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 2,
                                             "piped.py: too deeply nested",
                                             stdin=(PREAMBLE + "x = " + "-" * 100_000 + "1\n").encode()),
    "stdin brackets nested past Python's limit": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 2,
                                                      findings={("piped.py", 3, "OPT000")},
                                                      stdin=(PREAMBLE + "x = " + "(" * 5000 + ")" * 5000).encode()),
    "/dev/stdin named": Case(lambda folder: ["/dev/stdin"], 1, findings={("-", 2, "OPT001")}, stdin=OTHER.encode()),
    "latin-1 stdin with a cookie": Case(lambda folder: ["-", "--stdin-filename", "piped.py"], 1,
                                        findings={("piped.py", 3, "OPT001")},
                                        stdin=f"# coding: latin-1\nimport torch\n{TYPO}  # \xe9\n".encode("latin-1")),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_gives_a_clear_answer_and_the_run_goes_on(case: Case, tmp_path):
    (tmp_path / "other.py").write_text(OTHER)
    args = case.make(tmp_path)
    started = time.monotonic()
    result = run_check([*args, "other.py"], tmp_path, stdin=case.stdin)
    assert time.monotonic() - started < 60
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    if case.error is None:
        assert stderr == ""
    else:
        assert len(stderr.splitlines()) == 1 and stderr.startswith("optlint: error: "), stderr
        assert case.error in stderr
    assert result.returncode == case.exit_code, stderr
    reported = json.loads(result.stdout)
    assert findings_of(result.stdout) == case.findings | {OTHER_FINDING}
    for piece in case.messages:
        assert any(piece in f["message"] for f in reported), [f["message"] for f in reported]
    if case.at is not None:
        syntax_error = next(f for f in reported if f["code"] == "OPT000")
        assert (syntax_error["location"]["row"], syntax_error["location"]["column"]) == case.at


@pytest.mark.parametrize(("flags", "exit_code"), [((), 2), (("--exit-zero",), 2), (("--ignore", "OPT000"), 0)])
def test_a_file_that_does_not_parse_is_bad_input(flags, exit_code, tmp_path):
    """Exit 2 as for a path that cannot be read, findings or not; only ignoring OPT000 lets it pass."""
    (tmp_path / "broken.py").write_text("import torch\nopt = torch.optim.Adam(model.parameters(), lr=0.1\n")
    result = run_check([*flags, "broken.py"], tmp_path)
    assert result.returncode == exit_code, result.stderr
    assert findings_of(result.stdout) == ({("broken.py", 2, "OPT000")} if exit_code else set())


def test_bom_crlf_and_tabs_move_no_column(tmp_path):
    """The same finding at the same row and column whatever the file's BOM or line endings."""
    variants = {
        "plain.py": f"import torch\n{TYPO}\n".encode(),
        "bom.py": b"\xef\xbb\xbf" + f"import torch\n{TYPO}\n".encode(),
        "crlf.py": f"import torch\r\n{TYPO}\r\n".encode(),
        "cr.py": f"import torch\r{TYPO}\r".encode(),
    }
    for name, content in variants.items():
        (tmp_path / name).write_bytes(content)
    result = run_check(list(variants), tmp_path)
    positions = {f["filename"]: (f["location"]["row"], f["location"]["column"]) for f in json.loads(result.stdout)}
    assert set(positions) == set(variants)
    assert len(set(positions.values())) == 1, positions


def test_the_linted_files_own_warnings_are_not_printed(tmp_path):
    """Python warns about some valid code when it parses it (invalid escapes, `is` with a literal);
    optlint parses the user's files, and those warnings are not its to print, even under -W always."""
    (tmp_path / "warns.py").write_text('import torch\nopt = torch.optim.Adam(p)\npattern = "\\d+"\nsame = opt is 1\n')
    result = run_check(["warns.py"], tmp_path, python_flags=("-W", "always"))
    assert result.stderr.decode() == ""
    assert result.returncode == 0


@pytest.mark.parametrize(("args", "name"), [(["-", "other.py"], "-"), (["--stdin-filename", "piped.py"], "piped.py")],
                         ids=["dash", "stdin-filename"])
@pytest.mark.parametrize("stdin", ["closed", "write-only"])
def test_stdin_that_cannot_be_read_is_one_line_and_exit_2(args, name, stdin, tmp_path):
    """Started with stdin closed (`<&-`), or open for writing only (`0>file`)."""
    (tmp_path / "other.py").write_text(OTHER)
    with open(tmp_path / "out", "wb") as write_only:
        result = subprocess.run([sys.executable, "-m", "optlint", "check", *args], cwd=tmp_path, capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                                **({"preexec_fn": lambda: os.close(0)} if stdin == "closed" else {"stdin": write_only}))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"optlint: error: {name}: ") and "stdin" in line, line
    assert ("other.py:2:" in result.stdout) == ("other.py" in args)


def test_invalid_output_format_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "other.py").write_text(OTHER)
    result = subprocess.run([sys.executable, "-m", "optlint", "check", "--output-format", "xml", "other.py"],
                            cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "optlint: error: Invalid value for '--output-format': 'xml' is not one of 'text', 'json', 'sarif', 'github', 'gitlab', 'junit'. "
        "(see 'python -m optlint check --help')"
    ]


def _unreadable(path: Path) -> tuple[str, ...]:
    """The command prefix under which `path` cannot be read (root reads anything unless told not to)."""
    path.chmod(0)
    if not os.access(path, os.R_OK):
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, which reads any file, and setpriv is not there to drop that power")
    probe = subprocess.run([*WITHOUT_ROOT_OVERRIDE, sys.executable, "-c", f"open({str(path)!r}).close()"],
                           capture_output=True)
    if probe.returncode == 0:
        pytest.skip("running as root, which reads any file even without CAP_DAC_OVERRIDE here")
    return WITHOUT_ROOT_OVERRIDE


def test_unreadable_file_is_one_line_and_the_run_goes_on(tmp_path):
    (tmp_path / "other.py").write_text(OTHER)
    secret = tmp_path / "secret.py"
    secret.write_text(OTHER)
    prefix = _unreadable(secret)
    try:
        result = run_check(["secret.py", "other.py"], tmp_path, prefix=prefix)
    finally:
        secret.chmod(0o644)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == ["optlint: error: secret.py: Permission denied"]
    assert findings_of(result.stdout) == {OTHER_FINDING}


def test_unreadable_folder_is_one_line_and_the_walk_goes_on(tmp_path):
    tree = tmp_path / "src"
    (tree / "a_locked").mkdir(parents=True)
    (tree / "a_locked" / "hidden.py").write_text(OTHER)
    (tree / "z_open").mkdir()
    (tree / "z_open" / "other.py").write_text(OTHER)
    prefix = _unreadable(tree / "a_locked")
    try:
        result = run_check(["src"], tmp_path, prefix=prefix)
    finally:
        (tree / "a_locked").chmod(0o755)
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == ["optlint: error: src/a_locked: Permission denied"]
    assert findings_of(result.stdout) == {("src/z_open/other.py", 2, "OPT001")}
