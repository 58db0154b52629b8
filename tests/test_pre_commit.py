"""The pre-commit hook, run by the real pre-commit (`pre-commit try-repo`) in a throw-away git repository.

pre-commit builds the hook's own virtualenv from this checkout (pip needs a package index for libcst
and click, nothing else): the hook must fail on a bad file, pass on a good one, and leave torch out.
try-repo deletes that virtualenv when it ends, so a `sitecustomize` put on PYTHONPATH reports from
inside it what the `optlint` process could import.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is not installed: pip install -e '.[dev]'")
from pre_commit.clientlib import load_manifest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BAD = "import torch\n\nopt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)\n"
GOOD = "import torch\n\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
BAD_NOTEBOOK = json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Train"]},
                                     {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                      "source": ["%matplotlib inline\n", *BAD.splitlines(keepends=True)]}],
                           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"
PROBE = """
import importlib.util, json, os, sys
if os.path.basename(sys.argv[0]) == "optlint" and "py_env" in sys.prefix:
    found = {name: importlib.util.find_spec(name) is not None for name in ("optlint", "torch")}
    with open(os.environ["OPTLINT_HOOK_PROBE"], "a") as out:
        out.write(json.dumps({"prefix": sys.prefix, **found}) + "\\n")
"""
NOT_SOURCE = (".git", ".venv", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "build", "dist",
              ".optlint_cache")


def git_env(tmp_path: Path) -> dict[str, str]:
    """Git and pre-commit isolated from the user's configuration and caches."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE)
    return {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_GLOBAL": str(empty),
            "PYTHONPATH": str(probe), "OPTLINT_HOOK_PROBE": str(tmp_path / "probe.jsonl"),
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1"}


def git(*args: str, cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A committed snapshot of this checkout (so pre-commit installs it once) and a user repository."""
    tmp = tmp_path_factory.mktemp("pre-commit")
    env = git_env(tmp)
    hook_repo = tmp / "optlint"
    shutil.copytree(ROOT, hook_repo, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    user_repo = tmp / "project"
    user_repo.mkdir()
    (user_repo / "bad.py").write_text(BAD)
    (user_repo / "good.py").write_text(GOOD)
    (user_repo / "bad.ipynb").write_text(BAD_NOTEBOOK)
    for repo in (hook_repo, user_repo):
        git("init", "-q", cwd=repo, env=env)
        git("add", "-A", cwd=repo, env=env)
        git("commit", "-q", "-m", "snapshot", cwd=repo, env=env)
    return hook_repo, user_repo, env


def try_repo(sandbox, *files: str) -> subprocess.CompletedProcess:
    hook_repo, user_repo, env = sandbox
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "optlint", "--verbose", "--files", *files],
        cwd=user_repo, env=env, capture_output=True, text=True, timeout=900)


def test_manifest_is_valid_for_pre_commit():
    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    static = hooks["optlint"]
    assert (static["entry"], static["language"], static["types_or"], static["require_serial"]) == (
        "optlint check", "python", ["python", "pyi", "jupyter"], True)
    assert hooks["optlint-runtime"]["stages"] == ["manual"]


def test_hook_fails_on_a_bad_file(sandbox):
    result = try_repo(sandbox, "bad.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bad.py:3:44: OPT001" in result.stdout


def test_hook_lints_a_staged_notebook_by_its_type(sandbox):
    result = try_repo(sandbox, "bad.ipynb")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bad.ipynb:cell 2:4:44: OPT001" in result.stdout


def test_hook_passes_on_a_good_file_and_its_environment_has_no_torch(sandbox):
    report = Path(sandbox[2]["OPTLINT_HOOK_PROBE"])
    report.unlink(missing_ok=True)
    result = try_repo(sandbox, "good.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
    runs = [json.loads(line) for line in report.read_text().splitlines()]
    assert runs, "the hook's optlint never ran inside a pre-commit virtualenv"
    assert all(run["optlint"] and not run["torch"] for run in runs), runs
    assert all(not run["prefix"].startswith(sys.prefix) for run in runs)  # not this test's own environment
