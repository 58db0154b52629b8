"""Option values the commands share: comma-separated and repeatable (`--select OPT0,OPT101 --select OPT2`)."""

from __future__ import annotations

import importlib

import click


def comma_separated(values: tuple[str, ...]) -> tuple[str, ...] | None:
    items = tuple(item.strip() for value in values for item in value.split(",") if item.strip())
    return items or None


def rule_codes(checker: str):
    """A click callback for rule codes or prefixes, each checked by `<checker>.selector_problem`: the
    config's for `optlint check`, the runtime codes' for `optlint runtime` (imported on first use: each
    command pays only for its own)."""

    def callback(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]):
        selector_problem = importlib.import_module(checker).selector_problem
        items = comma_separated(values)
        for item in items or ():
            problem = selector_problem(item)
            if problem:
                raise click.BadParameter(problem, ctx, param)
        return items

    return callback
