"""The one-line messages every command prints on stderr: `optlint: error: ...`, with an optional `HINT:` line.

Whatever paths or values a message quotes are escaped, so it stays one line and puts no control character on
the terminal (see optlint.report.escape)."""

from __future__ import annotations

import sys

import click

from optlint.report.escape import escape


def say(message: str, level: str = "error") -> None:
    """`optlint: error: ...` on stderr, one line whatever paths or values the message quotes."""
    click.echo(f"optlint: {level}: {escape(message)}", err=True)


def fail(message: str, hint: str | None = None) -> None:
    """One clear line on stderr, and a `HINT:` line when there is a hint; exit 2."""
    say(message)
    if hint:
        click.echo(f"HINT: {escape(hint)}", err=True)
    sys.exit(2)
