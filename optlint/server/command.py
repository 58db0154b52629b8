"""`optlint server`: the language server over stdio. pygls is imported only when it runs."""

from __future__ import annotations

import importlib.util

import click

from optlint.console import fail


@click.command(short_help="Run the language server (LSP over stdio) for editors.")
def server() -> None:
    """Run optlint as a Language Server Protocol server over stdin/stdout, for any editor with an LSP
    client: findings while typing (from the same configuration as `optlint check`), quick fixes,
    `# noqa` edits, rule pages on hover, and notebooks. Never imports torch.
    """
    if importlib.util.find_spec("pygls") is None:
        fail("`optlint server` needs pygls, which is not installed: pip install 'optlint[server]'")
    from optlint.server.app import create_server

    create_server().start_io()
