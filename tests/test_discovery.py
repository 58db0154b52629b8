"""Which files `optlint check` lints: what git ignores is skipped (named files are not), and a named file
that is not Python is reported as skipped, not as checked."""

import contextlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.static.gitignore import GitIgnore, global_excludes_file

BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3)\n"


@pytest.fixture
def user_home(tmp_path, monkeypatch) -> Path:
    """A home of the test's own: the machine's git configuration must not decide what is ignored."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    return home


@pytest.fixture
def repo(tmp_path, user_home) -> Path:
    root = tmp_path / "repo"
    (root / ".git" / "info").mkdir(parents=True)
    return root


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def linted(root: Path, *args: str) -> list[str]:
    result = check(root, "--no-cache", *args)
    return sorted({line.split(":")[0] for line in result.stdout.splitlines() if "OPT001" in line})


def check(root: Path, *args: str):
    with contextlib.chdir(root):
        return CliRunner().invoke(main, ["check", *args])


def test_a_run_folder_that_gitignore_names_is_not_linted(repo):
    write(repo, {".gitignore": "wandb/\n", "train.py": BAD, "wandb/run-1/files/train.py": BAD})
    assert linted(repo, ".") == ["./train.py"]
    assert linted(repo, "--no-respect-gitignore", ".") == ["./train.py", "./wandb/run-1/files/train.py"]


def test_the_setting_turns_it_off_and_the_flag_turns_it_back_on(repo):
    write(repo, {".gitignore": "gen_*.py\n", "pyproject.toml": "[tool.optlint]\nrespect-gitignore = false\n",
                 "train.py": BAD, "gen_model.py": BAD})
    assert linted(repo, ".") == ["./gen_model.py", "./train.py"]
    assert linted(repo, "--respect-gitignore", ".") == ["./train.py"]


def test_nested_gitignore_applies_to_its_folder_and_negations_work(repo):
    write(repo, {".gitignore": "*_gen.py\n", "pkg/.gitignore": "!keep_gen.py\nlocal/\n", "a_gen.py": BAD,
                 "pkg/keep_gen.py": BAD, "pkg/other_gen.py": BAD, "pkg/local/x.py": BAD, "local/y.py": BAD})
    assert linted(repo, ".") == ["./local/y.py", "./pkg/keep_gen.py"]


def test_info_exclude_and_the_global_excludes_file_are_respected(repo, user_home):
    (repo / ".git" / "info" / "exclude").write_text("scratch.py\n")
    (user_home / ".gitconfig").write_text('[user]\n\tname = x\n[core]\n\texcludesFile = "~/global-ignore" ; mine\n')
    (user_home / "global-ignore").write_text("notebook_export.py\n")
    write(repo, {"train.py": BAD, "scratch.py": BAD, "sub/notebook_export.py": BAD})
    assert linted(repo, ".") == ["./train.py"]


def test_the_default_global_excludes_file_is_under_the_xdg_config_home(user_home, monkeypatch):
    assert global_excludes_file() == str(user_home / ".config" / "git" / "ignore")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/cfg")
    assert global_excludes_file() == os.path.join("/cfg", "git", "ignore")


def test_a_file_named_on_the_command_line_is_linted_even_if_ignored(repo):
    write(repo, {".gitignore": "wandb/\nscratch.py\n", "scratch.py": BAD, "wandb/train.py": BAD,
                 "wandb/.gitignore": "old.py\n", "wandb/old.py": BAD})
    assert linted(repo, "scratch.py") == ["scratch.py"]
    assert linted(repo, "wandb") == ["wandb/train.py"]  # a named ignored folder: its own .gitignore still holds


def test_nothing_is_ignored_outside_a_repository(tmp_path, user_home):
    root = tmp_path / "plain"
    write(root, {".gitignore": "train.py\n", "train.py": BAD})
    assert linted(root, ".") == ["./train.py"]


def test_gitignore_files_above_the_repository_root_are_not_read(tmp_path, user_home):
    write(tmp_path, {".gitignore": "*.py\n"})
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    write(tmp_path / "repo", {"train.py": BAD})
    assert linted(tmp_path / "repo", ".") == ["./train.py"]


def test_a_gitignore_that_is_a_symbolic_link_is_not_followed(repo, tmp_path):
    (tmp_path / "elsewhere").write_text("*.py\n")
    (repo / ".gitignore").symlink_to(tmp_path / "elsewhere")
    write(repo, {"train.py": BAD})
    assert linted(repo, ".") == ["./train.py"]


def test_a_worktree_reads_the_main_repositorys_info_exclude(tmp_path, user_home):
    main_git = tmp_path / "main" / ".git"
    (main_git / "info").mkdir(parents=True)
    (main_git / "info" / "exclude").write_text("scratch.py\n")
    (main_git / "worktrees" / "wt").mkdir(parents=True)
    (main_git / "worktrees" / "wt" / "commondir").write_text("../..\n")
    worktree = tmp_path / "wt"
    write(worktree, {".git": f"gitdir: {main_git / 'worktrees' / 'wt'}\n", "train.py": BAD, "scratch.py": BAD})
    assert linted(worktree, ".") == ["./train.py"]


def test_ignored_folders_are_pruned_not_walked(repo):
    write(repo, {".gitignore": "/data/\n", "data/train.py": BAD, "src/data/train.py": BAD})
    asked = []
    gitignore = GitIgnore(global_excludes="")
    original = gitignore.ignores
    gitignore.ignores = lambda path, is_dir, floor=None: asked.append(path) or original(path, is_dir, floor)
    from optlint.static.files import discover

    with contextlib.chdir(repo):
        assert list(discover(["."], gitignore=gitignore)) == ["./src/data/train.py"]
    assert "./data/train.py" not in asked


# --- named files that are not Python -----------------------------------------------------------------


def test_a_named_file_that_is_not_python_is_skipped_with_a_warning(tmp_path):
    write(tmp_path, {"notes.txt": "opt = Adam(learning_rate=1)\n", "train.py": BAD})
    result = check(tmp_path, "notes.txt", "train.py")
    assert result.exit_code == 1
    assert "optlint: warning: notes.txt: not a Python file; skipped" in result.stderr.splitlines()
    assert "in 1 file:" in result.stdout


def test_only_files_that_are_not_python_check_nothing_and_say_so(tmp_path):
    write(tmp_path, {"notes.txt": "hello\n"})
    result = check(tmp_path, "notes.txt")
    assert result.exit_code == 0  # as for a folder without Python files: warned, not failed
    assert result.stderr.splitlines() == [
        "optlint: warning: notes.txt: not a Python file; skipped",
        "optlint: warning: no Python files found under the given paths (or all are excluded).",
    ]
    assert "0 files" in result.stdout
    assert check(tmp_path, "-q", "notes.txt").stderr == ""


def test_a_named_script_without_a_suffix_is_python_by_its_shebang(tmp_path):
    write(tmp_path, {"train": "#!/usr/bin/env python3\n" + BAD, "Makefile": "all:\n\ttrue\n"})
    result = check(tmp_path, "--no-cache", "train", "Makefile")
    assert "train:3:" in result.stdout
    assert result.stderr.splitlines() == ["optlint: warning: Makefile: not a Python file; skipped"]
