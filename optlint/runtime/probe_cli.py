"""`optlint probe MODULE:FACTORY`: one real optimizer step on a copy of the factory's set-up.

The factory is loaded, called and checked exactly as for `optlint runtime` (see runtime/cli.py); it must
also return a batch and a loss function. torch is imported inside the command only.
"""

from __future__ import annotations

import json
import sys

import click

from optlint.runtime.cli import (SETUP_SHAPES, VERBOSE_HINT, BadInput, RuntimeCommand, build_target, fail, one_line,
                                 running_user_code, save_plot)

PROBE_SHAPES = ("return (model, optimizer[, scheduler], batch, loss_fn), or a dict with 'batch' and 'loss_fn'; "
                "loss_fn(model, batch) returns the loss")


@click.command(cls=RuntimeCommand, short_help="Take one real optimizer step on a copy: how far each group moves.")
@click.argument("target", metavar="MODULE:FACTORY")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where the factory builds the model: auto is cuda when available.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--plot", "plot_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Also draw ‖Δw‖/‖w‖ per group as a bar chart (PNG, log scale); needs matplotlib "
                   "(pip install 'optlint[plot]').")
@click.option("--verbose", is_flag=True, help="Show the traceback when the user's code raises.")
def probe(target: str, device: str, output_format: str, plot_path: str | None, verbose: bool) -> None:
    """Run ONE real optimizer step on a deep copy of the set-up and report, per param group, the
    update-to-weight ratio ‖Δw‖/‖w‖, the gradient norm and the share of parameters that received no
    gradient. The model and optimizer the factory built are never stepped.

    MODULE is a dotted module or a path to a .py file; FACTORY a function in it, called without
    arguments, returning (model, optimizer, batch, loss_fn), (model, optimizer, scheduler, batch,
    loss_fn), or a dict with the keys model, optimizer, scheduler (optional), batch and loss_fn.
    loss_fn(model, batch) returns the scalar loss; a torch loss module (nn.CrossEntropyLoss()) with
    batch = (inputs, targets) works too. A scheduler only sets the LRs this step uses.

    \b
    Rule of thumb: ratios around 1e-3 per step. Far above (> 1e-2) the group's LR is probably too high
    for it; far below (< 1e-4) it barely trains. One step shows one update, nothing more: an adaptive
    optimizer's first step is about lr*sign(g) per element, whatever the gradient's size.

    Exit status: 0 nothing wrong, 1 parameters that received no gradient or numbers that are not
    finite, 2 bad input.
    """
    try:
        with running_user_code(target):
            report = probe_target(target, device)
        if plot_path:
            save_plot(lambda: report.plot(plot_path), plot_path)
    except BadInput as exc:
        fail(exc, verbose)
    click.echo(json.dumps(report.to_dict(), indent=2) if output_format == "json" else str(report))
    sys.exit(0 if report.ok else 1)


def probe_target(target: str, device: str):
    from optlint.runtime.probe import probe_step
    from optlint.runtime.unwrap import unwrap_scheduler

    factory_name, setup, _ = build_target(target, device, meta=False)
    if setup.batch is None or setup.loss_fn is None:
        raise BadInput(f"{factory_name}() returned no batch and loss function to take a step with", PROBE_SHAPES)
    if isinstance(setup.optimizer, (list, tuple)):
        raise BadInput(f"{factory_name}() returned {len(setup.optimizer)} optimizers; the probe steps one",
                       "return the optimizer to probe (optlint runtime checks several at once)")
    try:
        report = probe_step(setup.model, setup.optimizer, setup.loss_fn, setup.batch)
    except Exception as exc:  # the user's forward and loss run here: report them like the factory
        raise BadInput(f"the step on the set-up from {factory_name}() raised {one_line(exc)}",
                       f"{VERBOSE_HINT}; {SETUP_SHAPES}") from exc
    if setup.scheduler is not None:
        report.scheduler_name = type(unwrap_scheduler(setup.scheduler)).__name__
    return report
