"""Where a finding is, as CI services want it: the path the repository names the file by, and the rule's page.

GitHub places annotations and code-scanning results by repository-relative path, GitLab too, so the
formats for them (github, gitlab, junit, sarif) share one root: the git repository of the current
directory (the nearest folder with `.git`), else the current directory itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from optlint.registry import docs_dir
from optlint.static.gitignore import repository_root


def report_root() -> str:
    cwd = os.getcwd()
    return repository_root(cwd) or cwd


def relative_to_root(filename: str) -> str | None:
    """`filename` relative to report_root(), with `/` separators; None when it lies outside. Stdin is `-`."""
    if filename == "-":
        return filename
    absolute = os.path.abspath(filename)
    try:
        relative = os.path.relpath(absolute, report_root())
    except ValueError:  # another drive
        return None
    if relative == ".." or relative.startswith(".." + os.sep):
        return None
    return Path(relative).as_posix()


def repository_path(filename: str) -> str:
    """The path relative to the root, else as given (normalised: no `./`)."""
    return relative_to_root(filename) or Path(os.path.normpath(filename)).as_posix()


def rule_url(code: str) -> str | None:
    """The rule's page as installed with optlint (a file URI: there is no documentation site), or None."""
    page = docs_dir() / f"{code}.md"
    return page.resolve().as_uri() if page.is_file() else None
