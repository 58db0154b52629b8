"""What a check imports and reads is what its files need: one plain Python file outside a repository
pays for no notebook or document reader, no result cache (`--no-cache`), no .gitignore matching, no
requirement parsing and no git configuration (benchmarks/README.md, the single-file start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from optlint.static import gitignore
from optlint.static.gitignore import GitIgnore

REPO = Path(__file__).resolve().parent.parent
TRAINING = "import torch\n\noptimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)\n"
NOTEBOOK = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": [TRAINING], "outputs": [],
                                  "execution_count": None}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
ONLY_FOR_OTHER_FILES = {"pathspec", "packaging", "hmac", "optlint.static.markdown", "optlint.static.notebooks",
                        "optlint.static.cache"}


def modules_after_check(folder: Path, *args: str) -> set[str]:
    probe = ("import json, sys\nfrom optlint.cli import main\ntry:\n"
             f"    main(['check', *{list(args)!r}])\nexcept SystemExit:\n    pass\n"
             "print(json.dumps(sorted(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(folder / "cache"),
           "HOME": str(folder / "home"), "XDG_CONFIG_HOME": str(folder / "config")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=folder, capture_output=True, text=True, check=True, env=env)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_plain_python_file_outside_a_repository_imports_only_what_it_needs(tmp_path):
    (tmp_path / "train.py").write_text(TRAINING)
    modules = modules_after_check(tmp_path, "--no-cache", "train.py")
    assert "libcst" in modules  # it was linted
    assert not modules & ONLY_FOR_OTHER_FILES


@pytest.mark.parametrize(("files", "args", "needed"), [
    ({"train.ipynb": NOTEBOOK}, ["--no-cache", "train.ipynb"], "optlint.static.notebooks"),
    ({"README.md": f"```python\n{TRAINING}```\n"}, ["--no-cache", "README.md"], "optlint.static.markdown"),
    ({"train.py": TRAINING}, ["train.py"], "hmac"),  # the signed results cache
    ({"train.py": TRAINING, ".git/HEAD": "", ".gitignore": "build/\n"}, ["--no-cache", "."], "pathspec"),
    ({"train.py": TRAINING, "pyproject.toml": '[project]\nname = "x"\ndependencies = ["torch>=2.4"]\n'},
     ["--no-cache", "train.py"], "packaging"),
])
def test_each_deferred_module_is_imported_when_a_file_needs_it(tmp_path, files, args, needed):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert needed in modules_after_check(tmp_path, *args)


def test_the_git_configuration_is_read_only_inside_a_repository(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(gitignore, "global_excludes_file", lambda: asked.append(True) or None)
    (tmp_path / "outside").mkdir()
    ignore = GitIgnore()
    assert not ignore.ignores(str(tmp_path / "outside" / "train.py"), is_dir=False)
    assert asked == []
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert not ignore.ignores(str(tmp_path / "repo" / "train.py"), is_dir=False)
    assert asked == [True]
