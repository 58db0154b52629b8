"""Which paths git ignores: `.gitignore` files, `.git/info/exclude` and the global excludes file.

Matching is pathspec's GitIgnoreSpec (git's wildmatch rules, negations and all). Sources, from the most
to the least specific, as git ranks them: the `.gitignore` of the path's own folder, then each folder's
up to the repository's root (the nearest folder holding `.git`), then `info/exclude`, then the global
file. The first source with a matching pattern decides; within one, the last matching pattern does.

Only what lies inside the repository is read: no `.gitignore` above its root, none outside a
repository at all (git's own rule), and none that is a symbolic link (git refuses those too since
2.32: a link could point anywhere on the disk). The global file is `core.excludesFile` of the user's
git configuration, read here rather than by running git, so that linting needs no git and runs no
program; `[include]` files of that configuration are not followed.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path

# pathspec matches with backtracking regexes: a path segment with k `*` runs costs about n**k steps on
# an n-character name, so `*a*a*a*a*a*b` in a cloned repository's .gitignore would hang the run for
# hours. Such a pattern is not used (its files get linted: more findings, never fewer); real ones
# (`*.py`, `*_pb2.py`, `.*.sw?`) have one or two.
MAX_STARS_PER_SEGMENT = 3
STARS = re.compile(r"\*+")
GIT_CONFIG_SECTION = re.compile(r'\s*\[\s*([^\]\s"]+)\s*("[^"]*")?\s*\]')
GIT_CONFIG_EXCLUDES = re.compile(r"\s*excludesfile\s*=\s*(.*)", re.IGNORECASE)


class GitIgnore:
    """`ignores(path, is_dir)` for paths met while walking; each ignore file is read once per run."""

    def __init__(self, global_excludes: str | None = None):
        self._given_global_excludes = global_excludes
        self._spec = functools.cache(_read_spec)
        self._root = functools.cache(repository_root)

    @functools.cached_property
    def _global_excludes(self) -> str | None:
        """Found on first need: a run outside any repository never reads the user's git configuration."""
        given = self._given_global_excludes
        return given if given is not None else global_excludes_file()

    def ignores(self, path: str, is_dir: bool, floor: str | None = None) -> bool:
        """Whether git ignores `path`. `floor`: a folder named on the command line that git ignores; the
        sources above it are not asked (they would ignore all of it), only those inside it."""
        absolute = os.path.abspath(path)
        root = self._root(os.path.dirname(absolute))
        if root is None:
            return False
        floor = os.path.abspath(floor) if floor else None
        for base, spec in self._sources(os.path.dirname(absolute), root):
            if floor is not None and not _within(base, floor):
                continue
            relative = Path(os.path.relpath(absolute, base)).as_posix() + ("/" if is_dir else "")
            verdict = spec.check_file(relative).include
            if verdict is not None:
                return verdict
        return False

    def _sources(self, directory: str, root: str):
        """(folder the patterns are relative to, spec), the most specific first."""
        while True:
            spec = self._spec(os.path.join(directory, ".gitignore"), in_tree=True)
            if spec is not None:
                yield directory, spec
            if directory == root:
                break
            directory = os.path.dirname(directory)
        for shared in (info_exclude_file(root), self._global_excludes):
            spec = self._spec(shared, in_tree=False) if shared else None
            if spec is not None:
                yield root, spec


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def repository_root(directory: str) -> str | None:
    """The nearest folder at or above `directory` holding `.git` (a folder, or a worktree's file)."""
    directory = os.path.abspath(directory)
    while not os.path.lexists(os.path.join(directory, ".git")):
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return directory


def _read_spec(path: str, in_tree: bool):
    """The patterns of one ignore file, or None: absent, unreadable, or (in the work tree) a symbolic link."""
    try:
        if in_tree and not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    from pathspec import GitIgnoreSpec  # only where an ignore file exists

    return GitIgnoreSpec.from_lines(line for line in lines if _matches_fast(line))


def _matches_fast(pattern: str) -> bool:
    return all(len(STARS.findall(segment)) <= MAX_STARS_PER_SEGMENT for segment in pattern.split("/"))


def info_exclude_file(root: str) -> str | None:
    """`info/exclude` of the repository's git folder; a worktree's or submodule's `.git` file names it."""
    git = os.path.join(root, ".git")
    if os.path.isfile(git):
        git = _linked_git_dir(git, root)
        if git is None:
            return None
        common = _first_line(os.path.join(git, "commondir"))  # a worktree shares its main repository's
        git = os.path.join(git, common) if common else git
    return os.path.join(git, "info", "exclude")


def _linked_git_dir(git_file: str, root: str) -> str | None:
    line = _first_line(git_file) or ""
    return os.path.join(root, line[len("gitdir:"):].strip()) if line.startswith("gitdir:") else None


def _first_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return None


def global_excludes_file() -> str | None:
    """`core.excludesFile` from the user's git configuration, else git's default `git/ignore` under
    $XDG_CONFIG_HOME (~/.config). $GIT_CONFIG_GLOBAL replaces ~/.gitconfig, as it does for git."""
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    configs = [os.environ["GIT_CONFIG_GLOBAL"]] if os.environ.get("GIT_CONFIG_GLOBAL") else [
        os.path.join(xdg, "git", "config"), os.path.join(os.path.expanduser("~"), ".gitconfig")]
    configured = None
    for config in configs:  # the later file wins, as in git
        configured = _configured_excludes(config) or configured
    return os.path.expanduser(configured) if configured else os.path.join(xdg, "git", "ignore")


def _configured_excludes(config: str) -> str | None:
    try:
        with open(config, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    section, value = None, None
    for line in lines:
        header = GIT_CONFIG_SECTION.match(line)
        if header:
            section = (header.group(1).lower(), header.group(2))
            continue
        setting = GIT_CONFIG_EXCLUDES.fullmatch(line)
        if setting and section == ("core", None):
            value = _config_value(setting.group(1)) or None
    return value


def _config_value(raw: str) -> str:
    """A git config value: a comment (`#`, `;`) outside quotes ends it, quotes are dropped."""
    out, quoted = [], False
    for char in raw:
        if char == '"':
            quoted = not quoted
        elif char in "#;" and not quoted:
            break
        else:
            out.append(char)
    return "".join(out).strip()
