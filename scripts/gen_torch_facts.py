"""Generate the torch facts tables optlint/torch_facts/<minor>.json, by introspection of torch.

The static linter never imports torch: everything it knows about torch comes from these tables,
one per minor release (RELEASES). Each table is measured from that release itself: the installed
torch directly, every other release in a scratch venv under ~/.cache/optlint-facts (its wheels are
installed with their dependencies, since `import torch` from a CUDA wheel needs the CUDA libraries,
and the venv is deleted afterwards). A release's table is cached there too, keyed by this script's
own hash, so a rerun downloads only what a changed generator must measure again.
`tests/test_torch_facts.py` regenerates the installed torch's table and fails when it drifts.

    python scripts/gen_torch_facts.py               # every release (downloads; ~2 min a release)
    python scripts/gen_torch_facts.py --installed   # only the installed torch's table
    python scripts/gen_torch_facts.py --check       # exit 1 when the installed torch's table is stale
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import sys
import typing
import warnings
from pathlib import Path

TABLES = Path(__file__).resolve().parent.parent / "optlint" / "torch_facts"
CACHE = Path(os.environ.get("OPTLINT_FACTS_CACHE", Path.home() / ".cache" / "optlint-facts"))

# The latest patch of every minor release optlint knows (optlint.facts.KNOWN_MINORS reads the
# table names, so adding a release here and running `make facts` is all a new torch needs).
RELEASES = ("2.1.2", "2.2.2", "2.3.1", "2.4.1", "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.1", "2.10.0",
            "2.11.0", "2.12.1", "2.13.0")

# Steps taken after add_param_group: long enough for every recipe below to finish a cycle, since
# some classes fail only at a cycle boundary (CosineAnnealingLR at T_max + 1).
HORIZON = 12

# How to build each scheduler class on a scratch optimizer. These are inputs (valid constructor
# arguments), not facts: every fact below is measured from what torch then does.
SCHEDULER_RECIPES = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lr_lambda=lambda e: 0.9**e),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.9),
    "StepLR": lambda s, o: s.StepLR(o, step_size=2),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[2, 4]),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=4),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=4),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=4),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=4),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, step_size_up=3),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=1e-2, total_steps=HORIZON + 1),
    "ReduceLROnPlateau": lambda s, o: s.ReduceLROnPlateau(o),
    "SequentialLR": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=2), s.ExponentialLR(o, gamma=0.9)], milestones=[2]
    ),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.9)]
    ),
}

# Arguments for torch.nn classes whose constructor requires some. A class that cannot be built
# from these is left out of the table (the linter then knows nothing about it: no finding).
NN_REQUIRED_ARG = {"int": 4, "float": 0.5, "bool": True, "str": "mean"}


def signature_facts(cls) -> dict:
    params = inspect.signature(cls.__init__).parameters
    names = [n for n in params if n != "self"]
    return {
        "keywords": [n for n in names if params[n].kind not in (params[n].VAR_POSITIONAL, params[n].VAR_KEYWORD)],
        "positional": [
            n for n in names if params[n].kind in (params[n].POSITIONAL_ONLY, params[n].POSITIONAL_OR_KEYWORD)
        ],
        "var_keyword": any(params[n].kind is params[n].VAR_KEYWORD for n in names),
    }


def optimizer_facts(torch) -> dict:
    optim = torch.optim
    facts = {}
    for name in sorted(dir(optim)):
        cls = getattr(optim, name)
        if not (inspect.isclass(cls) and issubclass(cls, optim.Optimizer)) or cls is optim.Optimizer:
            continue
        entry = signature_facts(cls)
        shape = (2, 2) if name == "Muon" else (2,)
        opt = cls([torch.zeros(shape, requires_grad=True)], **_required_lr(cls))
        entry["group_keys"] = sorted(opt.param_groups[0])
        facts[name] = entry
    return facts


def _required_lr(cls) -> dict:
    """`lr=` for the optimizers whose `lr` has no default (SGD before torch 2.2)."""
    default = inspect.signature(cls.__init__).parameters["lr"].default
    return {"lr": 1e-3} if not isinstance(default, (float, int)) else {}


def _new_group_behaviour(torch, make) -> str:
    """Step a scheduler after add_param_group; compare the new group's LR with a fresh build."""
    def run(add_late: bool):
        a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([a], lr=1e-3, momentum=0.9)
        if not add_late:
            opt.add_param_group({"params": [b], "lr": 1e-4})
        sched = make(torch.optim.lr_scheduler, opt)
        if add_late:
            opt.add_param_group({"params": [b], "lr": 1e-4})
        lrs = []
        for _ in range(HORIZON):
            opt.step()
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(1.0)
            else:
                sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        return lrs

    try:
        late = run(add_late=True)
    except Exception as exc:  # noqa: BLE001 - the kind of failure is the fact we record
        return f"raises:{type(exc).__name__}"
    return "ok" if late == run(add_late=False) else "rescales"


def scheduler_facts(torch) -> dict:
    sched_mod = torch.optim.lr_scheduler
    base = getattr(sched_mod, "LRScheduler", sched_mod._LRScheduler)
    facts = {}
    for name in sorted(dir(sched_mod)):
        cls = getattr(sched_mod, name)
        if not inspect.isclass(cls) or name.startswith("_") or cls is base:
            continue
        if not (issubclass(cls, base) or cls is sched_mod.ReduceLROnPlateau):
            continue
        entry = signature_facts(cls)
        step_params = inspect.signature(cls.step).parameters
        entry["step_arguments"] = [n for n in step_params if n != "self"]
        if name in SCHEDULER_RECIPES:
            entry["added_group"] = _new_group_behaviour(torch, SCHEDULER_RECIPES[name])
            entry["added_group_keys"] = _keys_added_by(torch, SCHEDULER_RECIPES[name])
            if "verbose" in entry["keywords"]:
                entry["verbose"] = _verbose_behaviour(torch, name)
        facts[name] = entry
    return facts


class _CalledWith:
    """The lr_scheduler module, with `name` called with extra keywords (for a recipe to build)."""

    def __init__(self, module, name: str, **keywords):
        self._module, self._name, self._keywords = module, name, keywords

    def __getattr__(self, attr: str):
        value = getattr(self._module, attr)
        return functools.partial(value, **self._keywords) if attr == self._name else value


def _verbose_behaviour(torch, name: str) -> str:
    """What `verbose=True` does: "warns" (a deprecation warning naming it, torch 2.2-2.6) or "silent"."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3, momentum=0.9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SCHEDULER_RECIPES[name](_CalledWith(torch.optim.lr_scheduler, name, verbose=True), opt)
    return "warns" if any("verbose" in str(w.message) for w in caught) else "silent"


def _keys_added_by(torch, make) -> list[str]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3, momentum=0.9)
    before = set(opt.param_groups[0])
    make(torch.optim.lr_scheduler, opt)
    return sorted(set(opt.param_groups[0]) - before)


def _required_arg_type(annotation) -> str | None:
    """The NN_REQUIRED_ARG key for an annotation: `int`, or the first such member of a Union
    (`kernel_size: int | tuple[int, ...]` of the pooling and convolution classes)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        name = getattr(candidate, "__name__", None)
        if name in NN_REQUIRED_ARG:
            return name
    return None


def _build_module(cls, **overrides):
    params = inspect.signature(cls.__init__).parameters
    args = {}
    for name, p in params.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        annotation = _required_arg_type(p.annotation)
        if annotation is None:
            return None
        args[name] = NN_REQUIRED_ARG[annotation]
    try:
        return cls(**args, **overrides)
    except Exception:  # noqa: BLE001 - a class we cannot build is simply left out
        return None


def nn_module_facts(torch) -> dict:
    """For each torch.nn module class: does it own parameters, and which bool flag changes that."""
    nn = torch.nn
    facts = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(dir(nn)):
            cls = getattr(nn, name)
            if not (inspect.isclass(cls) and issubclass(cls, nn.Module)) or name.startswith("_"):
                continue
            module = _build_module(cls)
            if module is not None:
                facts[name] = _module_facts(torch, cls, module)
        facts["Module"]["methods_returning_self"] = _methods_returning_self(torch)
    return facts


def _methods_returning_self(torch) -> list[str]:
    """`model.to(device)`, `model.train()`, ...: the nn.Module methods whose result is the module."""
    found = []
    for name, method in inspect.getmembers(torch.nn.Module, inspect.isfunction):
        if name.startswith("_"):
            continue
        if _annotated_as_self(method):
            found.append(name)
            continue
        module = torch.nn.Linear(1, 1)
        try:
            returned = getattr(module, name)(torch.device("cpu"))
        except Exception:  # noqa: BLE001 - a method that takes other arguments
            continue
        if returned is module:
            found.append(name)
    return sorted(found)


def _annotated_as_self(method) -> bool:
    """`-> Self` (torch >= 2.4), or `def train(self: T, ...) -> T` with a TypeVar (older torch)."""
    signature = inspect.signature(method)
    returned = signature.return_annotation
    if returned is typing.Self:
        return True
    first = next(iter(signature.parameters.values()), None)
    return isinstance(returned, typing.TypeVar) and first is not None and first.annotation is returned


def _module_facts(torch, cls, module) -> dict:
    entry = {"parameterless": not _owns_parameters(module)}
    # The bool flags whose non-default value flips that: BatchNorm's affine=False removes the
    # parameters, InstanceNorm's affine=True adds them.
    flipped_key = "has_parameters_when" if entry["parameterless"] else "parameterless_when"
    flags = {}
    for flag, p in inspect.signature(cls.__init__).parameters.items():
        if isinstance(p.default, bool):
            flipped = _build_module(cls, **{flag: not p.default})
            if flipped is not None and _owns_parameters(flipped) == entry["parameterless"]:
                flags[flag] = not p.default
    if flags:
        entry[flipped_key] = flags
    # Containers own what they are given (Sequential, ModuleList, a bare Module used as a
    # namespace): empty when built bare, so "parameterless" says nothing about them.
    if cls.forward is torch.nn.Module.forward or hasattr(cls, "__setitem__"):
        entry["container"] = True
        if _iterates_parameters(torch, cls):
            entry["iterable_of_parameters"] = True  # ParameterList: valid as an optimizer's params
    return entry


def _iterates_parameters(torch, cls) -> bool:
    """Whether iterating the container yields the parameters it was built with."""
    parameter = torch.nn.Parameter(torch.zeros(1))
    try:
        items = list(cls([parameter]))
    except Exception:  # noqa: BLE001 - a container of modules, or of named entries
        return False
    return len(items) == 1 and items[0] is parameter


def _owns_parameters(module) -> bool:
    return any(True for _ in module.parameters())


def generate() -> dict:
    import torch

    return {
        "torch_version": torch.__version__.split("+")[0],
        "optim_namespace": sorted(n for n in dir(torch.optim) if not n.startswith("_")),
        "optimizers": optimizer_facts(torch),
        "schedulers": scheduler_facts(torch),
        "nn_modules": nn_module_facts(torch),
    }


def render(facts: dict) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def minor(version: str) -> str:
    return ".".join(version.split("+")[0].split(".")[:2])


def table_path(version: str) -> Path:
    return TABLES / f"{minor(version)}.json"


def _installed_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("torch")
    except Exception:  # noqa: BLE001 - no torch installed: every table comes from a scratch venv
        return None


def _measured_in_scratch_venv(release: str) -> str:
    """The table of `release`, generated by this script inside a fresh venv holding that torch."""
    venv = CACHE / f"venv-{release}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    try:
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-cache-dir", f"torch=={release}"],
                       check=True)
        emitted = venv / "facts.json"
        subprocess.run([str(python), __file__, "--emit", str(emitted)], check=True)
        return emitted.read_text()
    finally:
        shutil.rmtree(venv, ignore_errors=True)


def _table_of(release: str, installed: str | None) -> str:
    if installed is not None and minor(installed) == minor(release):
        return render(generate())
    cached = CACHE / f"{release}-{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]}.json"
    if not cached.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_text(_measured_in_scratch_venv(release))
    return cached.read_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the installed torch's table is stale")
    parser.add_argument("--installed", action="store_true", help="rewrite only the installed torch's table")
    parser.add_argument("--emit", type=Path, help=argparse.SUPPRESS)  # used inside a scratch venv
    args = parser.parse_args()
    if args.emit:
        args.emit.write_text(render(generate()))
        return 0
    installed = _installed_version()
    if args.check or args.installed:
        if installed is None:
            print("torch is not installed", file=sys.stderr)
            return 2
        text, table = render(generate()), table_path(installed)
        if args.check:
            stale = not table.exists() or table.read_text() != text
            print(f"{table.name} is {'stale: run make facts' if stale else 'up to date'}")
            return 1 if stale else 0
        table.write_text(text)
        print(f"wrote {table}")
        return 0
    TABLES.mkdir(exist_ok=True)
    for release in RELEASES:
        table_path(release).write_text(_table_of(release, installed))
        print(f"wrote {table_path(release)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
