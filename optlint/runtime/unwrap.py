"""The torch objects inside the wrappers training frameworks put around them.

Names and identities must match what the user wrote. Model wrappers keep the user's module as a
child: `DistributedDataParallel`/`DataParallel` in `.module`, `torch.compile` in `_orig_mod`, FSDP1
in `_fsdp_wrapped_module`, activation checkpointing in `_checkpoint_wrapped_module`; their children's
parameter names carry that attribute (`_fsdp_wrapped_module.encoder.layer.0._fsdp_wrapped_module.weight`),
which is dropped here (`encoder.layer.0.weight`). FSDP2 (`fully_shard`) keeps the module and its names,
and swaps the parameters for DTensors: an optimizer built before sharding holds the old tensors.
Accelerate and Lightning wrap optimizers (`.optimizer`, `._optimizer`) and schedulers (`.scheduler`);
schedulefree's `ScheduleFreeWrapper` keeps its optimizer in `.base`. DeepSpeed's engine keeps the
module in `.module`; its optimizers are seen through as zero.py says.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim import lr_scheduler

from optlint.runtime import zero

# Wrappers whose child attribute is a common word: recognised by class.
CLASS_WRAPPERS = (nn.parallel.DistributedDataParallel, nn.DataParallel)
CLASS_WRAPPER_CHILD = "module"
# Wrappers of libraries never imported here, recognised by a class's module and name: (module, class).
NAMED_WRAPPERS = {("deepspeed.runtime.engine", "DeepSpeedEngine")}
# Wrappers whose child attribute is private to them: recognised by the child's name (no import of
# torch.distributed.fsdp or torch._dynamo needed).
PRIVATE_CHILDREN = ("_orig_mod", "_fsdp_wrapped_module", "_checkpoint_wrapped_module")
# Substrings of a parameter name that a wrapper may have put there; names without any skip the module walk.
WRAPPER_MARKS = tuple(f"{child}." for child in (*PRIVATE_CHILDREN, CLASS_WRAPPER_CHILD))
# Where optimizer wrappers keep the torch optimizer: Accelerate and Lightning, schedulefree's ScheduleFreeWrapper.
OPTIMIZER_CHILDREN = ("optimizer", "_optimizer", "base")
SCHEDULER_TYPES = (lr_scheduler.LRScheduler, lr_scheduler.ReduceLROnPlateau)


def is_scheduler(obj) -> bool:
    return isinstance(obj, SCHEDULER_TYPES)


def unwrap_model(model):
    """The user's module inside the wrappers around it (DDP in torch.compile in ...)."""
    while (child := wrapped_child(model)) is not None:
        model = model._modules[child]
    return model


def wrapped_child(module) -> str | None:
    """The attribute under which `module`, a wrapper, keeps the user's module; None when it is no wrapper."""
    children = getattr(module, "_modules", None) or {}
    if isinstance(module, CLASS_WRAPPERS) or any((cls.__module__, cls.__name__) in NAMED_WRAPPERS
                                                 for cls in type(module).__mro__):
        return CLASS_WRAPPER_CHILD
    return next((name for name in PRIVATE_CHILDREN if isinstance(children.get(name), nn.Module)), None)


def user_named_parameters(model) -> list[tuple[str, object]]:
    """`model.named_parameters(remove_duplicate=True)`, named without the wrappers' attributes."""
    pairs = list(model.named_parameters(remove_duplicate=True))
    names = "\n".join(name for name, _ in pairs)
    if not any(mark in names for mark in WRAPPER_MARKS):
        return pairs
    hidden = {_joined(path, child) for path, module in model.named_modules()
              if (child := wrapped_child(module)) is not None}
    if not hidden:
        return pairs
    return [(_without(name, hidden), p) for name, p in pairs]


def _joined(path: str, child: str) -> str:
    return f"{path}.{child}" if path else child


def _without(name: str, hidden: set[str]) -> str:
    """The name without the components that are wrappers' children: `a._orig_mod.w` -> `a.w`."""
    kept, path = [], ""
    for part in name.split("."):
        path = _joined(path, part)
        if path not in hidden:
            kept.append(part)
    return ".".join(kept)


def unwrap_optimizer(optimizer) -> tuple[object, list]:
    """The innermost torch optimizer, and every object on the way to it (all the same optimizer). Inside a
    DeepSpeed optimizer, the torch optimizer as the model's parameters see it (zero.py)."""
    chain = [optimizer]
    while True:
        if zero.is_deepspeed_optimizer(chain[-1]):
            return zero.model_view(chain[-1]), [*chain, chain[-1].optimizer]
        inner = _inner(chain[-1], OPTIMIZER_CHILDREN)
        optimizer_like = isinstance(inner, torch.optim.Optimizer) or zero.is_deepspeed_optimizer(inner)
        if inner is None or not optimizer_like or any(inner is c for c in chain):
            return chain[-1], chain
        chain.append(inner)


def unwrap_scheduler(scheduler):
    while scheduler is not None and not is_scheduler(scheduler) and _inner(scheduler, ("scheduler",)) is not None:
        scheduler = scheduler.scheduler
    return scheduler


def _inner(obj, attributes: tuple[str, ...]):
    for attribute in attributes:
        inner = getattr(obj, attribute, None)
        if inner is not None:
            return inner
    return None
