"""`pip install optlint` without torch: every command's help, `rules`, `explain` and `check` work, and the
runtime commands say in one line what to install. Tested on a wheel installed in a venv that has no torch,
as a user gets it, and in this venv (with torch) by watching what `--help` imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TYPO = "import torch\nopt = torch.optim.Adam(params, learning_rate=0.1)\n"
HELP_FORMS = [[], ["--help"], ["-h"], ["check", "--help"], ["rules", "--help"], ["explain", "--help"],
              ["runtime", "--help"], ["probe", "--help"], ["server", "--help"]]


@pytest.fixture(scope="module")
def torchless_optlint(tmp_path_factory) -> Path:
    """The `optlint` script of a fresh venv holding the project's wheel and its dependencies, and no torch."""
    root = tmp_path_factory.mktemp("torchless")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(REPO)], check=True,
                   capture_output=True)
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    wheel = next((root / "dist").glob("optlint-*.whl"))
    subprocess.run([python, "-m", "pip", "--disable-pip-version-check", "-q", "install", str(wheel)], check=True,
                   capture_output=True)
    assert subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0
    return root / "venv" / "bin" / "optlint"


def run(optlint: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(optlint), *args], cwd=cwd, capture_output=True, text=True)


@pytest.mark.parametrize("args", HELP_FORMS, ids=lambda args: " ".join(args) or "bare")
def test_every_help_works_without_torch(torchless_optlint, tmp_path, args):
    result = run(torchless_optlint, *args, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    if args:
        assert result.returncode == 0
        assert "Usage: optlint" in result.stdout
    else:  # a bare `optlint` is a usage error: the help goes to stderr
        assert result.returncode == 2
        assert "Usage: optlint" in result.stderr


def test_rules_explain_and_check_work_without_torch(torchless_optlint, tmp_path):
    (tmp_path / "train.py").write_text(TYPO)
    assert "OPT001" in run(torchless_optlint, "rules", cwd=tmp_path).stdout
    assert "learning_rate" in run(torchless_optlint, "explain", "OPT001", cwd=tmp_path).stdout
    checked = run(torchless_optlint, "check", "--output-format", "json", "train.py", cwd=tmp_path)
    assert checked.returncode == 1
    assert [finding["code"] for finding in json.loads(checked.stdout)] == ["OPT001"]


@pytest.mark.parametrize("command", ["runtime", "probe"])
def test_runtime_commands_without_torch_say_what_to_install(torchless_optlint, tmp_path, command):
    (tmp_path / "setup.py").write_text("def build():\n    raise AssertionError('never called')\n")
    result = run(torchless_optlint, command, "setup.py:build", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"optlint: error: `optlint {command}` runs the set-up with torch, which is not installed",
        "HINT: pip install 'optlint[runtime]'",
    ]


def test_server_without_pygls_says_what_to_install(torchless_optlint, tmp_path):
    result = run(torchless_optlint, "server", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "optlint: error: `optlint server` needs pygls, which is not installed: pip install 'optlint[server]'"]


@pytest.mark.parametrize("args", HELP_FORMS, ids=lambda args: " ".join(args) or "bare")
def test_help_never_imports_torch_even_when_installed(tmp_path, args):
    probe = ("import json, sys\nfrom optlint.cli import main\n"
             f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
             "print(json.dumps('torch' in sys.modules), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert json.loads(result.stderr.splitlines()[-1]) is False
