"""The command line: `optlint check | rules | explain | runtime | probe | server`.

Exit codes: 0 no findings, 1 findings, 2 bad input or an internal error, 128 + the signal's number
when interrupted (130 for Ctrl-C, 143 for SIGTERM, as a shell reports a process those signals
end). Never a traceback for bad input or an interruption: one line on stderr.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import sys
import threading

import click

from optlint import __version__
from optlint.registry import doc_page, registry
from optlint.report import FORMATS
from optlint.console import fail
from optlint.globs import GlobError, Globs
from optlint.selectors import comma_separated, rule_codes


class UsageError(click.UsageError):
    exit_code = 2


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: not an Exception, so that no `except Exception` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals_unwind():
    """SIGINT and SIGTERM unwind the stack like an exception, so that a run stops its worker
    processes on the way out (click would turn a KeyboardInterrupt into "Aborted!" and exit 1,
    which means "findings"). Signals ignored by whoever started optlint stay ignored; the previous
    handlers come back after (the command may run inside a test)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, _interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


class OneLineErrors(click.Group):
    """A bad option or value is one line on stderr and exit 2, like every other input error
    (click's own display takes four lines: usage, hint, blank line, error).

    The runtime commands and the language server are imported only when named (or listed by --help):
    `optlint check` never pays for them."""

    lazy_commands = {"runtime": "optlint.runtime.cli", "probe": "optlint.runtime.probe_cli",
                     "server": "optlint.server.command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_commands])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy_commands:
            return getattr(importlib.import_module(self.lazy_commands[name]), name)
        return super().get_command(ctx, name)

    def main(self, *args, **kwargs):
        try:
            with _signals_unwind():
                code = super().main(*args, standalone_mode=False, **kwargs)
        except Interrupted as interruption:
            click.echo(f"optlint: interrupted by {signal.Signals(interruption.signum).name}", err=True)
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
            # Now, without finalising the interpreter: a signal that cut short the import of libcst's
            # native parser leaves it in a state whose finalisation aborts (SIGABRT, exit -6).
            os._exit(128 + interruption.signum)
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


class SectionedCommand(click.Command):
    """A command whose --help lists its options under headings, as ruff's does."""

    def __init__(self, *args, sections: dict[str, tuple[str, ...]], **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = sections

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = {param.name: param.get_help_record(ctx) for param in self.get_params(ctx)
                   if isinstance(param, click.Option)}
        placed = {name for names in self.sections.values() for name in names}
        groups = {**self.sections, "Miscellaneous": tuple(name for name in records if name not in placed)}
        for title, names in groups.items():
            rows = [records[name] for name in names if records.get(name)]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


_rule_selectors = rule_codes("optlint.config")


def _target_torch(ctx: click.Context, param: click.Parameter, value: str | None):
    from optlint.target_torch import TargetError, validated

    try:
        return None if value is None else validated(value)
    except TargetError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def _path_patterns(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
    patterns = comma_separated(values)
    try:
        Globs(patterns or ())
    except GlobError as error:
        raise click.BadParameter(str(error)) from None
    return patterns


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="optlint", message="%(prog)s %(version)s")
def main() -> None:
    """optlint: find the silent mistakes in how PyTorch optimizers and LR schedulers are set up.

    \b
    optlint check train.py src/      lint source files (never imports torch)
    optlint check --fix .            ... and apply the safe fixes
    optlint runtime train:build      check the real model/optimizer/scheduler
    optlint probe train:build        take one real step on a copy: how far each group moves
    optlint explain OPT011           show what a rule catches and how to fix it
    optlint server                   the language server for editors (LSP over stdio)
    """


CHECK_SECTIONS = {
    "Rule selection": ("select", "extend_select", "ignore"),
    "File selection": ("exclude", "extend_exclude", "respect_gitignore", "stdin_filename"),
    "Fixes": ("fix", "unsafe_fixes", "diff", "add_noqa"),
    "Output": ("output_format", "output_file", "show_source", "statistics", "quiet", "exit_zero"),
    "Configuration": ("config_file", "isolated", "target_torch"),
    "Speed": ("jobs", "no_cache"),
}


@main.command(cls=SectionedCommand, sections=CHECK_SECTIONS,
              short_help="Lint files and directories (never imports torch).")
# Not readable=True: an unreadable path is reported by files.py, and the others are still linted.
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--select", metavar="CODES", multiple=True, callback=_rule_selectors,
              help="Rule codes or prefixes to enable, comma-separated (e.g. OPT011,OPT01). Replaces the "
                   "configured set; opt-in rules need their full code.")
@click.option("--extend-select", metavar="CODES", multiple=True, callback=_rule_selectors,
              help="Like --select, but adds to the configured set.")
@click.option("--ignore", metavar="CODES", multiple=True, callback=_rule_selectors,
              help="Rule codes or prefixes to disable, comma-separated.")
@click.option("--exclude", metavar="GLOBS", multiple=True, callback=_path_patterns,
              help="Paths to skip, comma-separated globs. Replaces the default list (.git, .venv, venv, build, "
                   "dist, node_modules, ...).")
@click.option("--extend-exclude", metavar="GLOBS", multiple=True, callback=_path_patterns,
              help="Like --exclude, but adds to the configured list.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip the files that .gitignore, .git/info/exclude and git's global excludes file ignore "
                   "(the default; files named on the command line are always linted).")
@click.option("--stdin-filename", metavar="PATH",
              help="The name to report (and to match exclusions and per-file ignores) when reading the source "
                   "from '-' (read from stdin when no path is given).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes in place, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix or --diff, also apply the fixes that are plausible but not certain.")
@click.option("--diff", is_flag=True,
              help="Print the fixes as a unified diff and write nothing. Exit 1 when there is something to fix.")
@click.option("--add-noqa", is_flag=True,
              help="Add `# noqa: CODE` to every line with a finding, to adopt optlint in an existing codebase.")
@click.option("--output-format", type=click.Choice(FORMATS), metavar="FORMAT",
              help="How findings are printed: text (the default), json (ruff's fields), sarif (GitHub code "
                   "scanning), github (workflow annotations), gitlab (Code Quality report) or junit (XML).")
@click.option("--output-file", "-o", metavar="PATH", type=click.Path(dir_okay=False),
              help="Write the report to this file (replaced whole when done) instead of stdout.")
@click.option("--show-source", is_flag=True, help="Show each finding's line with a caret under it (text format).")
@click.option("--statistics", is_flag=True, help="Show how many findings each rule has, instead of the findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings and nothing else: no summary, no warnings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (errors still exit 2).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Worker processes for the files that need parsing (default: one per core).")
@click.option("--no-cache", is_flag=True, help="Lint every file afresh; do not read or write .optlint_cache.")
@click.option("--config", "config_file", metavar="PATH", type=click.Path(dir_okay=False),
              help="Use this pyproject.toml's [tool.optlint] instead of searching upwards from the paths.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--target-torch", metavar="VERSION", callback=_target_torch,
              help="The torch minor release the rules speak for, e.g. 2.6 (default: the project's own torch "
                   "requirement in pyproject.toml, else the newest known).")
def check(paths: tuple[str, ...], **options) -> None:
    """Lint the given files and directories (default: the current directory; stdin with --stdin-filename).

    Settings come from the nearest pyproject.toml with a [tool.optlint] table, found by walking up from
    the paths; the options below override it.

    \b
    Exit status:
      0  no findings (or --exit-zero)
      1  findings remain; with --diff: there is something to fix
      2  bad usage or configuration, a path that cannot be read, a file that does not decode or
         parse (OPT000), or an internal error; --exit-zero does not change it
    """
    from optlint.static import files
    from optlint.static.command import CheckOptions, run

    paths = tuple("-" if files.names_stdin(path) else path for path in paths)  # `optlint check /dev/stdin`
    if options["isolated"] and options["config_file"]:
        raise UsageError("--isolated and --config cannot be used together.")
    if options["add_noqa"] and (options["fix"] or options["diff"] or "-" in paths):
        raise UsageError("--add-noqa cannot be combined with --fix, --diff or '-' (stdin).")
    sys.exit(run(paths, CheckOptions(**options)))


def _rule_dict(info, explanation: str | None = None) -> dict:
    data = {"code": info.code, "name": info.name, "severity": str(info.severity), "kind": info.kind,
            "summary": info.summary, "default_enabled": info.default_enabled}
    return data if explanation is None else {**data, "explanation": explanation}


def _page(code: str) -> str:
    return doc_page(code).rstrip() + "\n"


@main.command("rules", short_help="List every rule.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="A table for people, or JSON for tools.")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, severity, kind (static or runtime)."""
    if output_format == "json":
        click.echo(json.dumps([_rule_dict(info) for info in registry().values()], indent=2))
        return
    for info in registry().values():
        default = "" if info.default_enabled else "  (opt-in)"
        click.echo(f"{info.code}  {info.name:<40} {info.severity:<8} {info.kind}{default}")


@main.command(short_help="Explain a rule (or --all).")
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Explain every rule.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The page as Markdown text, or JSON with the rule's metadata.")
def explain(code: str | None, show_all: bool, output_format: str) -> None:
    """Explain a rule: what it does, why it is bad, an example, the fix, and what torch does.

    \b
    optlint explain OPT011
    optlint explain --all --output-format json
    """
    if show_all == bool(code):
        raise UsageError("give one rule code, or --all.")
    codes = list(registry()) if show_all else [_known_code(code)]
    if output_format == "json":
        pages = [_rule_dict(registry()[c], _page(c)) for c in codes]
        click.echo(json.dumps(pages if show_all else pages[0], indent=2))
    else:
        click.echo("\n".join(_page(c) for c in codes).rstrip())


def _known_code(code: str) -> str:
    code = code.upper()
    if code in registry():
        return code
    prefixed = [known for known in registry() if known.startswith(code)]
    if prefixed:
        fail(f"'{code}' is a prefix, not a rule code: it names {', '.join(prefixed)}. "
             f"Explain one of them (optlint explain {prefixed[0]}), or all with --all.")
    from difflib import get_close_matches

    close = get_close_matches(code, registry(), n=1)
    hint = f" Did you mean {close[0]}?" if close else " Run `optlint rules` to list them."
    fail(f"unknown rule code '{code}'.{hint}")
