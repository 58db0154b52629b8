"""What `optlint check` does: configuration -> lint -> fix, diff or add-noqa -> report -> exit status.

cli.py declares the options; this module runs them. Exit status: 0 nothing to report, 1 findings (or,
with --diff, fixes to apply), 2 bad usage or configuration, an unreadable path, a file it would not rewrite
(changed while optlint ran, read-only, hard-linked), or an internal error.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from dataclasses import dataclass, field
from itertools import groupby

import click

from optlint import __version__
from optlint.console import say
from optlint.config import Config, ConfigError, Options, load
from optlint.findings import Finding
from optlint.report import render, statistics
from optlint.static import files
from optlint.static.containers import is_notebook
from optlint.static.gitignore import GitIgnore
from optlint.static.runner import (CACHE_DIR, LintResult, decoded_text, lint_paths, lint_text,
                                   lint_text_or_error)


@dataclass(frozen=True)
class CheckOptions:
    fix: bool = False
    unsafe_fixes: bool = False
    diff: bool = False
    add_noqa: bool = False
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] | None = None
    respect_gitignore: bool | None = None
    output_format: str | None = None
    output_file: str | None = None
    show_source: bool = False
    statistics: bool = False
    quiet: bool = False
    exit_zero: bool = False
    config_file: str | None = None
    isolated: bool = False
    stdin_filename: str | None = None
    jobs: int | None = None
    no_cache: bool = False
    target_torch: str | None = None

    def overrides(self) -> Options:
        return Options(select=self.select, extend_select=self.extend_select or (), ignore=self.ignore or (),
                       exclude=self.exclude, extend_exclude=self.extend_exclude or (),
                       output_format=self.output_format, target_torch=self.target_torch,
                       respect_gitignore=self.respect_gitignore)


@dataclass
class Stdin:
    name: str
    text: str
    fixed: str | None = None
    error: str | None = None  # unreadable (too large): one error line
    problems: list[Finding] = field(default_factory=list)  # undecodable: OPT000


def run(paths: tuple[str, ...], options: CheckOptions) -> int:
    paths = paths or (("-",) if options.stdin_filename else (".",))  # as ruff: --stdin-filename alone reads stdin
    stdin = _read_stdin(options.stdin_filename or "-") if "-" in paths else None
    try:
        config = load([stdin.name if p == "-" else p for p in paths], options.overrides(),
                      config_file=options.config_file, isolated=options.isolated)
    except ConfigError as error:
        say(str(error))
        return 2
    result = lint(paths, config, stdin, options)
    if options.add_noqa:
        return _add_noqa(result, options)
    fixed, diffs = _fix(result, config, options, stdin) if options.fix or options.diff else (0, 0)
    _print_errors(result, options, findings_shown=not options.diff)
    if options.diff:
        if not options.quiet:
            click.echo(f"Would fix {fixed} problem{'s' * (fixed != 1)}.", err=True)
        return 2 if _unreadable_input(result) else 1 if diffs else 0
    if stdin is not None and options.fix:
        click.echo(stdin.fixed if stdin.fixed is not None else stdin.text, nl=False)
    written = _report(result, config, options, stdin, fixed, to_stderr=stdin is not None and options.fix)
    if _unreadable_input(result) or not written:
        return 2
    return 0 if options.exit_zero or not result.findings else 1


def _unreadable_input(result: LintResult) -> bool:
    """Bad input exits 2 like a missing path, --exit-zero or not: an error line, or a file that does not
    decode or parse (OPT000, reported as a finding for its position, unless the configuration ignores it)."""
    return bool(result.errors) or any(finding.code == "OPT000" for finding in result.findings)


def _read_stdin(name: str) -> Stdin:
    """The piped source, decoded the way a file is (BOM, PEP 263), within the size limit; what goes
    wrong is reported like a file's trouble (an error line, or OPT000), and the other files still run."""
    try:
        decoded = decoded_text(files.read_stdin(name), name)
    except files.InputError as error:
        return Stdin(name, "", error=str(error))
    return Stdin(name, "", problems=decoded) if isinstance(decoded, list) else Stdin(name, decoded)


def lint(paths: tuple[str, ...], config: Config, stdin: Stdin | None, options: CheckOptions) -> LintResult:
    named = [p for p in paths if p != "-"]
    speed = {"jobs": options.jobs, "cache_dir": None if options.no_cache else CACHE_DIR}
    gitignore = GitIgnore() if config.respect_gitignore else None
    result = (lint_paths(named, config.rules(), config.settings, config.is_excluded, included=config.is_included,
                         gitignore=gitignore, **speed) if named else LintResult())
    if stdin is not None and stdin.error:
        result.errors.append(stdin.error)
    elif stdin is not None and not (stdin.name != "-" and config.is_excluded(stdin.name)):
        outcome = stdin.problems or lint_text_or_error(stdin.text, stdin.name, config.rules(), config.settings)
        if isinstance(outcome, str):
            result.errors.append(outcome)
        else:
            result.findings += outcome
            result.files_checked += 1
    result.findings = _selected(result.findings, config)
    return result


def _selected(findings, config: Config) -> list[Finding]:
    return sorted((f for f in findings if config.keeps(f)), key=Finding.sort_key)


def _linter(config: Config, filename: str):
    return lambda text: _selected(lint_text(text, filename, config.rules(), config.settings), config)


def _by_file(findings: list[Finding]):
    return groupby(sorted(findings, key=Finding.sort_key), key=lambda f: f.filename)


def _fix(result: LintResult, config: Config, options: CheckOptions, stdin: Stdin | None) -> tuple[int, int]:
    """Fix (or, with --diff, show the fixes of) every file with a wanted fix. Returns (fixed, diffs)."""
    from optlint.static.fix import (FixError, fix_file, fix_notebook, fix_text, unified_diff,  # libcst: only
                                    wanted)  # when fixing

    fixed, diffs, remaining = 0, 0, []
    for filename, group in _by_file(result.findings):
        findings = list(group)
        if not wanted(findings, options.unsafe_fixes):
            remaining += findings
            continue
        lint_one = _linter(config, filename)
        try:
            if stdin is not None and filename == stdin.name:
                before, outcome = stdin.text, fix_text(stdin.text, lint_one, unsafe=options.unsafe_fixes)
                stdin.fixed = outcome.text
            else:
                fixer = fix_notebook if is_notebook(filename) else fix_file
                before, outcome = fixer(filename, lint_one, unsafe=options.unsafe_fixes, write=not options.diff)
        except (FixError, files.InputError) as error:
            result.errors.append(str(error) if isinstance(error, files.InputError) else f"{filename}: {error}")
            remaining += findings
            continue
        if not outcome.converged:
            result.errors.append(f"{filename}: fixes did not settle after several passes; the file holds the last "
                                 f"pass. Please report it to optlint {__version__} with this file.")
        fixed += len(outcome.fixed)
        remaining += outcome.remaining
        if options.diff and outcome.text != before:
            diffs += 1
            click.echo(unified_diff(before, outcome.text, filename), nl=False)
    result.findings = sorted(remaining, key=Finding.sort_key)
    return fixed, diffs


def _add_noqa(result: LintResult, options: CheckOptions) -> int:
    from optlint.static.add_noqa import add_noqa, add_noqa_to_notebook
    from optlint.static.fix import FixError, read_for_rewrite, write_back

    added = 0
    for filename, group in _by_file(result.findings):
        try:
            source = read_for_rewrite(filename)
            silence = add_noqa_to_notebook if is_notebook(filename) else add_noqa
            outcome = silence(source.text, list(group))
            if outcome.text != source.text:
                write_back(source, outcome.text)
        except (FixError, files.InputError) as error:
            result.errors.append(str(error) if isinstance(error, files.InputError) else f"{filename}: {error}")
            continue
        added += outcome.added
        for f in outcome.skipped:
            where = f"cell {f.cell}:{f.row}" if f.cell else f.row
            say(f"{f.filename}:{where}: cannot add `# noqa: {f.code}`: the line ends inside a string or continues "
                "with a backslash", "warning")
    _print_errors(result, options, findings_shown=False)
    if not options.quiet:
        click.echo(f"Added {added} noqa directive{'s' * (added != 1)}.", err=True)
    return 2 if _unreadable_input(result) else 0


def _print_errors(result: LintResult, options: CheckOptions, findings_shown: bool = True) -> None:
    """Each error line; and, where the findings are not printed (--diff, --add-noqa), each file that
    does not decode or parse, which is what makes the exit status 2."""
    unparsable = [] if findings_shown else [f for f in result.findings if f.code == "OPT000"]
    for error in [*result.errors, *(f"{f.filename}:{f.row}:{f.column}: {f.message}" for f in unparsable)]:
        say(error)
    for path in [] if options.quiet else result.skipped:
        say(f"{path}: not a Python file; skipped", "warning")
    if result.files_checked == 0 and not result.errors and not options.quiet:
        say("no Python files found under the given paths (or all are excluded).", "warning")


def _report(result: LintResult, config: Config, options: CheckOptions, stdin: Stdin | None, fixed: int,
            to_stderr: bool) -> bool:
    """Print (or write to --output-file) the report; False when the file cannot be written."""
    color = use_color(sys.stderr if to_stderr else sys.stdout) and not options.output_file
    fmt = config.output_format
    text_of, lines_of = _sources(stdin)
    if options.statistics:
        text = statistics.render(result.findings, "json" if fmt == "json" else "text",
                                 total=None if options.quiet else result.files_checked)
    else:
        unsafe = 0 if options.unsafe_fixes else sum(1 for f in result.findings if f.fix and not f.fix.safe)
        text = render(fmt, result.findings, files_checked=result.files_checked, show_source=options.show_source,
                      source=lines_of, text_of=text_of, color=color, with_summary=not options.quiet, fixed=fixed,
                      unsafe_fixable=unsafe, errors=len(result.errors))
    if options.output_file:
        return _write_report(options.output_file, text)
    if text:
        click.echo(text, err=to_stderr, color=color)
    return True


def _write_report(path: str, text: str) -> bool:
    """The whole report or none of it: a temporary file beside `path`, then os.replace."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".optlint")
    except OSError as error:
        say(f"cannot write the report to {path}: {error.strerror or error}")
        return False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n" if text else "")
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        say(f"cannot write the report to {path}: {error.strerror or error}")
        return False
    return True


def use_color(stream) -> bool:
    """Colour on a terminal only; NO_COLOR (no-color.org) turns it off, FORCE_COLOR on."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (hasattr(stream, "isatty") and stream.isatty())


def _sources(stdin: Stdin | None):
    """(text_of, lines_of): a file's text and its lines as the report shows them, or with a cell number a
    notebook cell's (where its findings' rows and fix offsets are); None: unreadable."""
    @functools.cache
    def text_of(filename: str, cell: int | None = None) -> str | None:
        if stdin is not None and filename == stdin.name:
            return stdin.fixed if stdin.fixed is not None else stdin.text
        try:
            text = files.decode(files.read(filename), filename).text
            return text if cell is None else _cell_text(text, cell)
        except (files.InputError, UnicodeDecodeError, SyntaxError, LookupError):
            return None

    @functools.cache
    def lines_of(filename: str, cell: int | None = None) -> list[str] | None:
        text = text_of(filename, cell)
        return None if text is None else files.split_lines(text)

    return text_of, lines_of


def _cell_text(text: str, cell: int) -> str | None:
    from optlint.static import notebooks  # imported here: a run without notebooks never needs it

    try:
        return notebooks.cell_text(notebooks.read(text), cell)
    except notebooks.NotebookError:
        return None
