"""`optlint runtime MODULE:FACTORY`: build the user's set-up and check it.

torch is imported inside the command only, so `optlint check` never pays for it. Every bad input is
one `optlint: error: ...` line and a HINT on stderr, exit 2; the traceback only with --verbose.
`optlint probe` (probe_cli.py) builds its set-up with the same functions.

FACTORY is called without arguments and returns the set-up, as a tuple or a dict:
    (model, optimizer)                                  {"model": ..., "optimizer": ...,
    (model, optimizer, scheduler)                        "scheduler": ...,   # optional
    (model, optimizer, batch, loss_fn)                   "batch": ..., "loss_fn": ...}  # for the probe
    (model, optimizer, scheduler, batch, loss_fn)
`optlint runtime` ignores the batch and loss_fn, so one factory serves both commands.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import traceback
from dataclasses import dataclass, fields
from pathlib import Path

import click

from optlint import console
from optlint.report.escape import escape
from optlint.runtime import lr_plot

from optlint.selectors import rule_codes

VERBOSE_HINT = "run with --verbose for the traceback"
USAGE_HINT = "optlint runtime path/to/train.py:build_setup  (the function returns (model, optimizer[, scheduler]))"
SETUP_SHAPES = ("return (model, optimizer[, scheduler]) or (model, optimizer[, scheduler], batch, loss_fn), "
                "or a dict with those keys")


class BadInput(Exception):
    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


@dataclass
class Setup:
    """What a factory returns."""

    model: object
    optimizer: object
    scheduler: object = None
    batch: object = None
    loss_fn: object = None


SETUP_KEYS = tuple(f.name for f in fields(Setup))


class RuntimeCommand(click.Command):
    """Turns click's own usage errors (a bad --epochs value) into the one-line error form, and says in one line
    that torch is missing before the command runs (`--help` needs no torch)."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(BadInput(exc.format_message(), f"run `{ctx.command_path} --help` for the options"), verbose=False)

    def invoke(self, ctx):
        if importlib.util.find_spec("torch") is None:
            fail(BadInput(f"`{ctx.command_path}` runs the set-up with torch, which is not installed",
                          "pip install 'optlint[runtime]'"), verbose=False)
        return super().invoke(ctx)


@click.command(cls=RuntimeCommand)
@click.argument("target", metavar="MODULE:FACTORY")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "meta"]), default="auto", show_default=True,
              help="Where the factory builds the model: auto is cuda when available; meta allocates no weights.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs to preview (default 5; with --steps-per-epoch, the run's length, which OPT113 checks).")
@click.option("--steps-per-epoch", type=click.IntRange(min=1), default=None,
              help="Optimizer steps per epoch (default 1).")
@click.option("--interval", type=click.Choice(["auto", "epoch", "step"]), default="auto", show_default=True,
              help="When the scheduler steps: auto is every step for OneCycleLR/CyclicLR and the Hugging Face "
                   "schedules, every epoch otherwise (a guess, which the report says).")
@click.option("--select", metavar="CODES", multiple=True, callback=rule_codes("optlint.runtime.codes"),
              help="Rule codes or prefixes to report, comma-separated. Opt-in rules need their full code: "
                   "--select OPT1,OPT110,OPT111 adds the weight-decay checks to the default ones.")
@click.option("--ignore", metavar="CODES", multiple=True, callback=rule_codes("optlint.runtime.codes"),
              help="Rule codes or prefixes to leave out, comma-separated.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--plot", "plot_path", metavar="[FILE]", is_flag=False, flag_value="-", default=None,
              help="Draw the LR of every group over the simulated steps: to FILE (PNG, needs matplotlib: "
                   "pip install 'optlint[plot]'), or, with no FILE, as a compact chart in the terminal.")
@click.option("--verbose", is_flag=True, help="Show the traceback when the user's code raises.")
def runtime(target: str, device: str, epochs: int | None, steps_per_epoch: int | None, interval: str, select, ignore,
            output_format: str, plot_path: str | None, verbose: bool) -> None:
    """Check a real model, optimizer and scheduler: which tensors each param group trains, and the
    learning rate every group will get, epoch by epoch.

    MODULE is a dotted module or a path to a .py file; FACTORY a function in it, called without
    arguments, returning (model, optimizer) or (model, optimizer, scheduler); a factory written for
    `optlint probe`, which also returns a batch and a loss function, works as well.

    Exit status: 0 no error finding, 1 error findings, 2 bad input.
    """
    try:
        with running_user_code(target):
            report = check_target(target, device=device, epochs=epochs, steps_per_epoch=steps_per_epoch,
                                  interval=interval, select=select, ignore=ignore)
    except BadInput as exc:
        fail(exc, verbose)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(str(report))
    if plot_path == "-":
        click.echo("\n" + lr_plot.terminal_charts(report))
    elif plot_path:
        try:
            save_plot(lambda: lr_plot.plot_png(report, plot_path), plot_path)
        except BadInput as exc:
            fail(exc, verbose)
    sys.exit(0 if report.ok else 1)


def save_plot(draw, path: str) -> None:
    """Run `draw`, turning a missing matplotlib or an unwritable path into one clear BadInput; say where it went."""
    try:
        draw()
    except ImportError as exc:
        raise BadInput("--plot needs matplotlib, which is not installed", "pip install 'optlint[plot]'") from exc
    except OSError as exc:
        raise BadInput(f"cannot write the plot to {path}: {exc.strerror or exc}", "pass a writable .png path") from exc
    click.echo(f"optlint: wrote the plot to {escape(path)}", err=True)


def check_target(target: str, *, device: str, epochs: int | None, steps_per_epoch: int | None, interval: str,
                 select=None, ignore=None):
    from optlint.runtime.api import check_plan, preview_plan

    factory_name, setup, recorded = build_target(target, device)
    try:
        plan = preview_plan(epochs, steps_per_epoch, interval)
        return check_plan(setup.model, setup.optimizer, setup.scheduler, plan, select=select, ignore=ignore,
                          lrs_before=recorded)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"{factory_name}() returned a set-up optlint cannot check: {exc}",
                       "return the model, the optimizer built from it and, if any, its scheduler") from exc
    except SystemExit as exc:
        raise exited(f"checking the set-up from {factory_name}()", exc) from exc
    except Exception as exc:  # the user's scheduler code runs during the check: report it like the factory
        raise BadInput(f"checking the set-up from {factory_name}() raised {one_line(exc)}", VERBOSE_HINT) from exc


def exited(what: str, exc: SystemExit) -> BadInput:
    """User code called sys.exit(): a check that ended there checked nothing, whatever the status."""
    return BadInput(f"{what} exited (status {exc.code}) before the check ran",
                    "return the set-up from the factory; leave sys.exit() to `if __name__ == \"__main__\":`")


@contextlib.contextmanager
def running_user_code(target: str):
    """The user's code runs as under `python train.py`: its prints go to stderr, so that stdout holds the report
    alone (--output-format json stays parseable), and a top-level `parse_args()` sees no argument of optlint's."""
    argv = sys.argv
    sys.argv = [target.rpartition(":")[0] or target]
    try:
        with contextlib.redirect_stdout(sys.stderr), file_descriptor_1_to_2():
            yield
    finally:
        sys.argv = argv


@contextlib.contextmanager
def file_descriptor_1_to_2():
    """Point file descriptor 1 at stderr while user code runs: what it writes there (os.write, C extensions,
    child processes, sys.__stdout__) must not reach the report on stdout."""
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1: nothing can reach stdout
        yield
        return
    _flush_real_stdout()
    os.dup2(2, 1)
    try:
        yield
    finally:
        _flush_real_stdout()  # what user code left in the buffer goes to stderr too
        os.dup2(saved, 1)
        os.close(saved)


def _flush_real_stdout() -> None:
    if sys.__stdout__ is not None:
        sys.__stdout__.flush()


def build_target(target: str, device: str, *, meta: bool = True) -> tuple[str, Setup, dict[int, list[float]]]:
    """Import MODULE, call FACTORY under `torch.device(device)`: its name, the set-up it returned, and the
    group LRs recorded before each optimizer's first scheduler was built. `meta`: the command takes meta."""
    import torch

    from optlint.runtime.observe import recording_lrs_before_schedulers

    module_name, factory_name = _split(target)
    device = _device(torch, device, meta)
    factory = _factory(_load(module_name), module_name, factory_name)
    try:
        with torch.device(device), recording_lrs_before_schedulers() as recorded:
            built = factory()
    except SystemExit as exc:
        raise exited(f"{factory_name}()", exc) from exc
    except Exception as exc:
        raise BadInput(f"{factory_name}() raised {one_line(exc)}", VERBOSE_HINT) from exc
    return factory_name, _unpack(built, factory_name), recorded


def _split(target: str) -> tuple[str, str]:
    module_name, sep, factory_name = target.rpartition(":")
    if not sep or not module_name or not factory_name.isidentifier():
        raise BadInput(f"expected MODULE:FACTORY, got {target!r}", USAGE_HINT)
    return module_name, factory_name


def _device(torch, device: str, meta: bool) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, but no device"
        raise BadInput(f"--device cuda: no CUDA device is available (torch {torch.__version__}, {build})",
                       "use --device cpu" + (", or --device meta to check a large model without allocating its "
                                             "weights" if meta else ""))
    return device


def _load(module_name: str):
    is_path = module_name.endswith(".py") or "/" in module_name or "\\" in module_name
    try:
        return _load_path(Path(module_name)) if is_path else _import(module_name)
    except BadInput:
        raise
    except SystemExit as exc:
        raise BadInput(f"importing {module_name} exited (status {exc.code})",
                       "move the script's top-level code under `if __name__ == \"__main__\":`") from exc
    except Exception as exc:
        raise BadInput(f"importing {module_name} raised {one_line(exc)}", VERBOSE_HINT) from exc


def _load_path(path: Path):
    if not path.is_file():
        raise BadInput(f"no such file: {path}", "pass a path to a .py file, or a dotted module name")
    name = f"_optlint_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # as `python path/to/file.py` does: its siblings import
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _import(module_name: str):
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # as `python -m` does: modules of the current directory import
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            hint = "pass a dotted module importable from the current directory, or a path to a .py file"
            raise BadInput(f"no module named {module_name!r}", hint) from exc
        raise


def _factory(module, module_name: str, factory_name: str):
    factory = getattr(module, factory_name, None)
    if factory is None:
        functions = sorted(n for n, v in vars(module).items()
                           if inspect.isfunction(v) and v.__module__ == module.__name__ and not n.startswith("_"))
        close = difflib.get_close_matches(factory_name, functions, n=1)
        known = f"functions defined in it: {', '.join(functions)}" if functions else "it defines no function"
        hint = f"did you mean {close[0]!r}? {known}" if close else known
        raise BadInput(f"{module_name} has no {factory_name!r}", hint)
    if not callable(factory):
        raise BadInput(f"{module_name}:{factory_name} is {_a(type(factory).__name__)}, not a function",
                       "point at the function that builds the model, optimizer and scheduler")
    required = _required_parameters(factory)
    if required:
        raise BadInput(f"{factory_name}() needs arguments ({', '.join(required)}); optlint calls it with none",
                       "give them defaults, or add a function without arguments that calls it")
    return factory


def _required_parameters(factory) -> list[str]:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in parameters
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _unpack(built, factory_name: str) -> Setup:
    import torch

    from optlint.runtime.unwrap import unwrap_model, unwrap_optimizer

    setup = _as_setup(built, factory_name)
    optimizers = setup.optimizer if isinstance(setup.optimizer, (list, tuple)) and setup.optimizer else [setup.optimizer]
    for role, value, cls in (("model", unwrap_model(setup.model), torch.nn.Module),
                             *(("optimizer", unwrap_optimizer(o)[0], torch.optim.Optimizer) for o in optimizers)):
        if not isinstance(value, cls):
            raise BadInput(f"{factory_name}() returned {_returned(value)} where the {role} belongs",
                           SETUP_SHAPES)
    return setup


def _as_setup(built, factory_name: str) -> Setup:
    if isinstance(built, dict):
        unknown = [key for key in built if key not in SETUP_KEYS]
        if unknown or not {"model", "optimizer"} <= built.keys():
            close = difflib.get_close_matches(str(unknown[0]), SETUP_KEYS, n=1) if unknown else []
            problem = f"an unknown key {unknown[0]!r}" if unknown else "no 'model' or no 'optimizer'"
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise BadInput(f"{factory_name}() returned a dict with {problem}", f"{hint}keys: {', '.join(SETUP_KEYS)}")
        return Setup(**built)
    if not isinstance(built, (tuple, list)) or len(built) not in (2, 3, 4, 5):
        shape = f"{len(built)} values" if isinstance(built, (tuple, list)) else _returned(built)
        raise BadInput(f"{factory_name}() returned {shape}", SETUP_SHAPES)
    if len(built) == 4:
        from optlint.runtime.unwrap import is_scheduler

        if is_scheduler(built[2]):
            raise BadInput(f"{factory_name}() returned 4 values with a scheduler third: 4 values are "
                           "(model, optimizer, batch, loss_fn)", SETUP_SHAPES)
        return Setup(built[0], built[1], None, *built[2:])
    return Setup(*built)


def _returned(value) -> str:
    return "None" if value is None else _a(type(value).__name__)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def fail(exc: BadInput, verbose: bool):
    hint = exc.hint
    if verbose and exc.__cause__ is not None:
        traceback.print_exception(exc.__cause__, file=sys.stderr)
        hint = hint.replace(f"{VERBOSE_HINT}; ", "").replace(VERBOSE_HINT, "")  # the traceback is above
    console.fail(str(exc), hint)
