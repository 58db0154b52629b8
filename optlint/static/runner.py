"""Lint many files: discover -> read -> decode -> prefilter -> engine. One bad file never stops the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable

from optlint import __version__
from optlint.findings import Finding
from optlint.static import files
from optlint.static.engine import lint_source
from optlint.static.rule import Rule


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line each: unreadable paths, internal errors
    files_checked: int = 0


def lint_text(text: str, filename: str, rules: Iterable[type[Rule]] | None = None, settings=None) -> list[Finding]:
    if not files.can_hold_finding(text):
        return []
    return lint_source(text, filename, rules, settings)


def lint_file(path: str, rules=None, settings=None) -> list[Finding]:
    """Findings for one file; raises files.InputError when it cannot be read."""
    return lint_bytes(files.read(path), path, rules, settings)


def lint_bytes(data: bytes, name: str, rules=None, settings=None) -> list[Finding]:
    try:
        source = files.decode(data, name)
    except (UnicodeDecodeError, SyntaxError, LookupError) as error:
        reason = error.reason if isinstance(error, UnicodeDecodeError) else str(error).split("(")[0].strip()
        return [Finding("OPT000", f"Cannot decode the file: {reason}", name,
                        hint="Save it as UTF-8, or declare its encoding in a PEP 263 coding comment.")]
    return lint_text(source.text, name, rules, settings)


def lint_stdin(stream: BinaryIO, name: str, rules=None, settings=None) -> LintResult:
    """The source piped to `optlint check -`, decoded and guarded like any file."""
    result = LintResult()
    _lint_into(result, name, lambda: lint_bytes(files.read_stream(stream, name), name, rules, settings))
    return result


def lint_paths(paths: list[str], rules=None, settings=None, excluded=lambda p: False) -> LintResult:
    result = LintResult()
    for item in files.discover(paths, excluded):
        if isinstance(item, files.InputError):
            result.errors.append(str(item))
        else:
            _lint_into(result, item, lambda: lint_file(item, rules, settings))
    return result


def _lint_into(result: LintResult, name: str, lint: Callable[[], list[Finding]]) -> None:
    """One file's findings, or its error line: one bad file never stops the run."""
    try:
        result.findings.extend(lint())
        result.files_checked += 1
    except files.InputError as error:
        result.errors.append(str(error))
    except RecursionError:
        result.errors.append(f"{name}: too deeply nested for optlint to analyse; skipped")
    except Exception as error:  # noqa: BLE001 - one file's crash must not stop the run
        result.errors.append(
            f"{name}: internal error in optlint {__version__}: {type(error).__name__}: {error}. "
            "Please report it with this file."
        )
