"""Lint many files: discover -> read -> cache -> decode -> prefilter -> engine. One bad file never stops the run.

The cheap steps run here, one file after the other; only the files the prefilter lets through reach
libcst, spread over worker processes that start while the walk goes on (workers.py). libcst (a third of a second to import) is imported
only when such a file exists, so linting a file without optimizer code costs little more than
starting Python.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optlint import __version__
from optlint.findings import Finding
from optlint.static import files
from optlint.static.containers import is_document, open_container
from optlint.static.syntax import python_syntax_error
from optlint.static.workers import Workers

if TYPE_CHECKING:
    from optlint.static.cache import Cache
    from optlint.static.containers import Container

CACHE_DIR = ".optlint_cache"


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line each: unreadable paths, internal errors
    skipped: list[str] = field(default_factory=list)  # named files that are not Python
    files_checked: int = 0


@dataclass
class _Parse:
    """A file the prefilter let through: its text goes to libcst."""

    path: str
    text: str
    container: Container | None  # a notebook or document: `text` is its view
    digest: str | None


def lint_text(text: str, filename: str, rules=None, settings=None, document=None) -> list[Finding]:
    """Findings for a text named by the user (stdin, a file being fixed, an editor's document): always
    checked for syntax. `document`: an optlint.static.reparse.Document holding the text's last parse."""
    if not _needs_parse(text, filename, files.configured_names(settings), named=True):
        return []
    from optlint.static.engine import lint_source

    return lint_source(text, filename, rules, settings, document)


def lint_text_or_error(text: str, filename: str, rules=None, settings=None) -> list[Finding] | str:
    """lint_text, for stdin: what stops a file (too deep, an internal error) is its error line, as for a file."""
    return _guarded(lint_text, text, filename, rules, settings)


def lint_file(path: str, rules=None, settings=None) -> list[Finding]:
    """Findings for one file; raises files.InputError when it cannot be read."""
    source = _python_of(decoded_text(files.read(path), path), path)
    if isinstance(source, list):
        return source
    text, container = source
    findings = lint_text(text, path, rules, settings)
    return container.place(findings) if container is not None else findings


def _python_of(source: str | list[Finding], path: str) -> tuple[str, Container | None] | list[Finding]:
    """The Python to lint in a decoded file, and its container (a notebook's or document's code is a view
    of it), or the file's OPT000 findings."""
    if isinstance(source, list):
        return source
    container = open_container(source, path)
    if isinstance(container, list):
        return container
    return (source if container is None else container.view), container


def lint_paths(
    paths: list[str],
    rules=None,
    settings=None,
    excluded=files.is_default_excluded,
    *,
    included=files.is_not_included,
    jobs: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    gitignore=None,
) -> LintResult:
    """Lint every file under `paths`, in a stable order. `jobs`: worker processes (default: the
    cores); `cache_dir`: where results are kept between runs (None, or no key to sign them: no cache);
    `included`: files a walk lints besides Python files and notebooks (see files.discover); `gitignore`:
    a GitIgnore whose ignored paths the walk skips."""
    cache = _open_cache(cache_dir, rules, settings) if cache_dir is not None else None
    project = _start_project(settings, cache)
    try:
        return _lint_discovered(paths, rules, settings, excluded, included, jobs, cache, project, gitignore)
    finally:
        _end_project()


def _lint_discovered(paths, rules, settings, excluded, included, jobs, cache, project, gitignore) -> LintResult:
    names, named = files.configured_names(settings), {files.same_file_key(path) for path in paths}
    result, outcomes = LintResult(), []
    with Workers(_lint_parsed, jobs, _import_engine, _died) as workers:
        for item in files.discover(paths, excluded, included, gitignore):
            is_named = isinstance(item, str) and files.same_file_key(item) in named
            if is_named and not is_lintable(item):
                result.skipped.append(item)
                continue
            outcome = _scan(item, cache, names, named=is_named)
            if isinstance(outcome, _Parse):
                workers.submit(len(outcome.text), outcome.path, outcome.text, rules, settings)
            outcomes.append(outcome)
        parsed = iter(workers.results())
    for outcome in outcomes:
        if isinstance(outcome, _Parse):
            parse, (outcome, dependencies, summaries) = outcome, next(parsed)
            if parse.container is not None and isinstance(outcome, list):
                outcome = parse.container.place(outcome)
            if cache is not None and isinstance(outcome, list):
                cache.put(parse.digest, parse.path, outcome, dependencies)
                cache.put_summaries(summaries)
        if isinstance(outcome, str):
            result.errors.append(outcome)
        else:
            result.findings.extend(outcome)
            result.files_checked += 1
    if cache is not None:
        cache.save()
    return result


def _start_project(settings, cache: Cache | None):
    """The run's view of the project's modules, shared by the workers forked from here: summaries and
    file hashes come from the cache, which asks it whether a file's imports still find the same files."""
    from optlint.static.project.index import Project, install

    project = Project(settings, cache)
    install(project)
    if cache is not None:
        cache.fresh = project.fresh
    return project


def _end_project() -> None:
    from optlint.static.project.index import install

    install(None)


def _open_cache(directory: str | os.PathLike, rules, settings) -> Cache | None:
    from optlint.static.cache import open_cache  # imported here: `--no-cache` never needs it (nor hmac)

    return open_cache(directory, rules, settings)


def is_lintable(path: str) -> bool:
    """A file optlint lints when named: by its suffix (files.SUFFIXES, or a Markdown or reStructuredText
    document), or, without a suffix, by a `#!...python` first line (pre-commit's `types: [python]`
    names such scripts too)."""
    if path.endswith(files.SUFFIXES) or is_document(path):
        return True
    if os.path.splitext(path)[1]:
        return False
    try:
        with open(path, "rb") as handle:
            first = handle.readline(256)
    except OSError:
        return True  # reading it is where its error gets reported
    return first.startswith(b"#!") and b"python" in first


def _scan(item: str | files.InputError, cache: Cache | None, names: tuple[str, ...],
          named: bool) -> list[Finding] | str | _Parse:
    """A file's findings when the cheap steps decide them, an error line, or the text to parse."""
    if isinstance(item, files.InputError):
        return str(item)
    if cache is not None and not named and (known := cache.recall(item)) is not None:
        return known
    try:
        data = files.read(item)
    except files.InputError as error:
        return str(error)
    # A named file is also checked for syntax: its entries must not stand in for a walked file's, or back.
    digest = cache.content_digest(data) + ":named" * named if cache is not None else None
    if digest is not None and (known := cache.get(digest, item)) is not None:
        return known
    source = _python_of(decoded_text(data, item), item)
    if isinstance(source, tuple) and _needs_parse(source[0], item, names, named):
        return _Parse(item, *source, digest)
    findings = [] if isinstance(source, tuple) else source
    if digest is not None:
        cache.put(digest, item, findings)
    return findings


def _needs_parse(text: str, path: str, names: tuple[str, ...], named: bool) -> bool:
    """Can the text hold a finding, or, for a file the user named, is it not valid Python for CPython?"""
    if files.can_hold_finding(text, names):
        return True
    if not named:
        return False
    try:
        return python_syntax_error(text, path) is not None
    except RecursionError:  # the parser says how deep is too deep
        return True


def decoded_text(data: bytes, path: str) -> str | list[Finding]:
    """The text, or an OPT000 finding when it cannot be decoded."""
    try:
        return files.decode(data, path).text
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error).split("(")[0].strip()
        return [Finding("OPT000", f"Cannot decode the file: {reason}", path,
                        hint="Save it as UTF-8, or declare its encoding in a PEP 263 coding comment.")]


def _import_engine() -> None:
    """libcst, the engine and every rule module, imported once before the workers fork: they inherit them."""
    import optlint.static.engine  # noqa: F401
    from optlint.static.rules import all_rules

    all_rules()


def _lint_parsed(path: str, text: str, rules, settings) -> tuple[list[Finding] | str, list, dict]:
    from optlint.static.engine import lint_source
    from optlint.static.project.index import current

    project = current()
    view = project.view(path)
    outcome = _guarded(functools.partial(lint_source, project=view), text, path, rules, settings)
    return outcome, view.recorded() if view is not None else [], project.take_made()


def _guarded(lint, text: str, path: str, rules, settings) -> list[Finding] | str:
    try:
        return lint(text, path, rules, settings)
    except RecursionError:
        return f"{path}: too deeply nested for optlint to analyse; skipped"
    except Exception as error:  # noqa: BLE001 - one file's crash must not stop the run
        return _internal_error(path, error)


def _died(error: BaseException, arguments: tuple) -> tuple[str, list, dict]:
    """The outcome of a file whose worker died (killed, out of memory)."""
    return _internal_error(arguments[0], error), [], {}


def _internal_error(path: str, error: BaseException) -> str:
    return (f"{path}: internal error in optlint {__version__}: {type(error).__name__}: {error}. "
            "Please report it with this file.")
