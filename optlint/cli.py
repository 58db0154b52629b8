"""The command line: `optlint check | rules | explain | runtime`.

Exit codes: 0 no findings, 1 findings, 2 bad input or an internal error. Never a traceback for bad
input: one line on stderr.
"""

from __future__ import annotations

import sys

import click

from optlint import __version__
from optlint.findings import registry


class UsageError(click.UsageError):
    exit_code = 2


def fail(message: str) -> None:
    """One clear line on stderr, exit 2."""
    click.echo(f"optlint: error: {message}", err=True)
    sys.exit(2)


class OneLineErrors(click.Group):
    """A bad option or value is one line on stderr and exit 2, like every other input error
    (click's own display takes four lines: usage, hint, blank line, error)."""

    def main(self, *args, **kwargs):
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as error:
            if type(error).show is not click.UsageError.show:  # the help a bare `optlint` prints
                error.show()
                sys.exit(error.exit_code)
            see = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
            fail(f"{error.format_message()}{see}")
        except click.ClickException as error:
            fail(error.format_message())
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="optlint", message="%(prog)s %(version)s")
def main() -> None:
    """optlint: catch silent mistakes in PyTorch optimizer and LR-scheduler set-ups.

    \b
    optlint check train.py src/      lint source files (never imports torch)
    optlint runtime train:build      check the real model/optimizer/scheduler
    optlint explain OPT011           show what a rule catches and how to fix it
    """


@main.command()
# Not readable=True: an unreadable path is reported by files.py, and the others are still linted.
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="How findings are printed.")
@click.option("--stdin-filename", metavar="PATH", help="The name to report when reading the source from '-'.")
def check(paths: tuple[str, ...], output_format: str, stdin_filename: str | None) -> None:
    """Lint Python files and directories (default: the current directory).

    Exit status: 0 no findings, 1 findings, 2 a path could not be read or optlint failed.
    """
    from optlint.report import render
    from optlint.static.runner import lint_paths, lint_stdin

    paths = paths or (".",)
    if "-" in paths:
        result = lint_stdin(sys.stdin.buffer, stdin_filename or "-")
        others = [p for p in paths if p != "-"]
        if others:
            rest = lint_paths(others)
            result.findings += rest.findings
            result.errors += rest.errors
            result.files_checked += rest.files_checked
    else:
        result = lint_paths(list(paths))
    for error in result.errors:
        click.echo(f"optlint: error: {error}", err=True)
    findings = sorted(result.findings, key=lambda f: f.sort_key())
    click.echo(render(output_format, findings, files_checked=result.files_checked))
    sys.exit(2 if result.errors else 1 if findings else 0)


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, name, severity, kind."""
    for info in registry().values():
        default = "" if info.default_enabled else "  (opt-in)"
        click.echo(f"{info.code}  {info.name:<40} {info.severity:<8} {info.kind}{default}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain a rule: what it does, why it is bad, an example and the fix."""
    from optlint.findings import doc_page

    code = code.upper()
    if code not in registry():
        from difflib import get_close_matches

        close = get_close_matches(code, registry(), n=1)
        hint = f" Did you mean {close[0]}?" if close else " Run `optlint rules` to list them."
        fail(f"unknown rule code '{code}'.{hint}")
    page = doc_page(code)
    if page is None:
        info = registry()[code]
        page = f"# {info.code} {info.name}\n\n{info.summary}\n"
    click.echo(page.rstrip())
