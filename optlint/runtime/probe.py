"""`probe_step`: one real optimizer step, and how far it moved each param group.

The step runs on a deep copy of the model and optimizer, made together so that the copied optimizer
holds the copied parameters and its state. The originals then serve as the "before" of ‖Δw‖, so
the probe costs one copy of the weights and optimizer state, the gradients, and one forward and
backward pass. The global RNG is restored afterwards (dropout in the probe does not shift the run).
With `in_place=True` the real model and optimizer take the step, as a training loop would.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from optlint.runtime import frozen, rules
from optlint.runtime.analysis import group_labels
from optlint.runtime.coverage import coverage_of
from optlint.runtime.probe_report import GroupProbe, ProbeReport
from optlint.runtime.simulate import as_float, lr_list
from optlint.runtime.unwrap import unwrap_model, unwrap_optimizer
from optlint.words import plural

SIGN_LIKE_TOLERANCE = 0.1  # ‖Δw‖ within 10% of lr·√n


def probe_step(model, optimizer, loss_fn, batch, *, in_place: bool = False) -> ProbeReport:
    """Run one optimizer step and report, per param group, ‖Δw‖/‖w‖, the gradient norm and the share
    of parameters that received no gradient.

    loss_fn: `loss_fn(model, batch)` returning the scalar loss (or an output with a `.loss`, as Hugging
        Face models return); or a torch loss module such as `nn.CrossEntropyLoss()`, with
        `batch = (inputs, targets)`: the loss is then `loss_fn(model(inputs), targets)`. A loss_fn that is
        an `nn.Module` is copied with the model, so trainable loss parameters are stepped on the copy.
    in_place: False (the default) steps a deep copy and leaves `model` and `optimizer` exactly as they
        were; True steps the real objects.

    The model runs in the mode it is in (call `model.train()` first for training-time dropout and
    batch norm). The LR is each group's current `lr`, as its scheduler left it. One step shows one
    update: see the notes of the report.
    """
    module = unwrap_model(model)
    optimizer = unwrap_optimizer(optimizer)[0]
    _check_objects(module, optimizer, loss_fn)
    groups = optimizer.param_groups
    coverage = coverage_of(module, groups)
    fresh = not optimizer.state
    group_lrs = lr_list(optimizer)  # before the step: an Adafactor's relative step depends on the steps taken
    statistics = frozen.frozen_norm_statistics(module)
    if in_place:
        old = [[p.detach().clone() for p in group["params"]] for group in groups]
        loss, stepped, stepped_model = _backward(module, optimizer, loss_fn, batch), optimizer, module
        optimizer.step()
    else:
        old = [group["params"] for group in groups]  # the originals do not move
        with torch.random.fork_rng(devices=_cuda_devices(groups)):
            loss, stepped, stepped_model = _step_on_copy(module, optimizer, loss_fn, batch)
    labels = group_labels(coverage, groups)
    probes = [_measure(g, labels[g], group_lrs[g], group["params"], old[g], stepped.param_groups[g]["params"],
                       coverage, fresh) for g, group in enumerate(groups)]
    report = ProbeReport(type(optimizer).__name__, loss, in_place, probes)
    report.frozen_changes = frozen.changes(groups, old, stepped.param_groups, coverage.names, statistics,
                                           stepped_model)
    report.findings = rules.findings_of("probe", report)
    return report


def compute_loss(loss_fn, model: nn.Module, batch) -> torch.Tensor:
    if isinstance(loss_fn, nn.modules.loss._Loss):
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(f"with a torch loss module ({type(loss_fn).__name__}) the batch must be (inputs, targets)")
        inputs, targets = batch
        output = loss_fn(model(inputs), targets)
    else:
        output = loss_fn(model, batch)
    loss = getattr(output, "loss", output)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"loss_fn must return the scalar loss tensor, got {_what(loss)}")
    return loss


def _backward(model, optimizer, loss_fn, batch) -> float:
    _zero_grads(optimizer)
    loss = compute_loss(loss_fn, model, batch)
    loss.backward()
    return as_float(loss.detach())


def _step_on_copy(model, optimizer, loss_fn, batch):
    originals = _tensors(model, optimizer)
    grads, versions = [t.grad for t in originals], _grad_versions(originals)
    copied = (model, optimizer, loss_fn) if isinstance(loss_fn, nn.Module) else (model, optimizer)
    try:
        model_copy, optimizer_copy, *rest = copy.deepcopy(copied)
    except Exception as exc:  # noqa: BLE001 - whatever the model holds that cannot be copied
        raise TypeError(f"the model and optimizer cannot be deep-copied ({type(exc).__name__}: {exc}); "
                        "probe a copy you make yourself with in_place=True") from exc
    _carry_frozen_grads(optimizer, optimizer_copy)
    loss = _backward(model_copy, optimizer_copy, rest[0] if rest else loss_fn, batch)
    if _grad_versions(originals) != versions:
        for tensor, grad in zip(originals, grads):
            tensor.grad = grad
        raise ValueError("loss_fn computed the loss with the original model, not the copy it was given: the "
                         "original's gradients changed. Use the model argument: loss_fn(model, batch)")
    optimizer_copy.step()
    return loss, optimizer_copy, model_copy


def _carry_frozen_grads(optimizer, optimizer_copy) -> None:
    """A deep copy of a Parameter has no `.grad`: the copy of a frozen one gets its gradient tensor back, since
    whether it holds one decides whether torch steps it."""
    for group, copied in zip(optimizer.param_groups, optimizer_copy.param_groups):
        for tensor, twin in zip(group["params"], copied["params"]):
            if tensor.grad is not None and not tensor.requires_grad:
                twin.grad = tensor.grad.detach().clone()


def _zero_grads(optimizer) -> None:
    """Trainable tensors lose their gradient (so that the probe sees which get none); a frozen one that holds a
    gradient tensor keeps it, zeroed, as `zero_grad(set_to_none=False)` leaves it: torch steps it (OPT114)."""
    for group in optimizer.param_groups:
        for tensor in group["params"]:
            if tensor.grad is not None and tensor.requires_grad:
                tensor.grad = None
            elif tensor.grad is not None:
                tensor.grad.detach_().zero_()


def _measure(index: int, label: str, lr: float, originals: list, old: list, after: list, coverage,
             fresh: bool) -> GroupProbe:
    """The numbers of one group: `originals` are its real tensors (for their names), `old` their values
    before the step, `after` the tensors that took it (the real ones, or their copies)."""
    trainable = [i for i, tensor in enumerate(after) if tensor.requires_grad]
    new = [after[i] for i in trainable]
    missing = [i for i in trainable if after[i].grad is None]
    weight_norm = _norm([old[i] for i in trainable])
    update_norm = _norm([after[i].detach().float() - old[i].detach().float() for i in trainable])
    with_grad = [t.grad for t in new if t.grad is not None]
    elements = sum(t.numel() for t in new)
    no_grad = sum(after[i].numel() for i in missing)
    names = [coverage.names[id(originals[i])] for i in missing if id(originals[i]) in coverage.names]
    unnamed = len(missing) - len(names)
    entries = coverage.tree.fold(names)
    outside = [plural(unnamed, "tensor") + " outside the model"] if unnamed else []
    folded = [str(entry) for entry in entries] + outside
    quoted = ", ".join([entry.quoted() for entry in entries] + outside)
    sign_like = fresh and lr > 0 and elements > no_grad and math.isclose(
        update_norm, lr * math.sqrt(elements - no_grad), rel_tol=SIGN_LIKE_TOLERANCE)
    return GroupProbe(index, label, lr, len(trainable), elements, len(after) - len(trainable), weight_norm,
                      update_norm, _norm(with_grad), no_grad, tuple(folded), sign_like, quoted)


def _norm(tensors: list[torch.Tensor]) -> float:
    """The 2-norm of all the tensors together (sparse gradients by their stored values)."""
    total = 0.0
    for tensor in tensors:
        values = tensor.coalesce().values() if tensor.is_sparse else tensor.detach()
        total += torch.linalg.vector_norm(values, dtype=torch.float32).item() ** 2
    return math.sqrt(total)


def _tensors(model: nn.Module, optimizer) -> list[torch.Tensor]:
    every = {id(p): p for p in model.parameters()}
    every.update((id(p), p) for group in optimizer.param_groups for p in group["params"])
    return list(every.values())


def _grad_versions(tensors: list[torch.Tensor]) -> list[tuple[int, int] | None]:
    """Which gradient each tensor holds, and how often it was written in place."""
    return [None if t.grad is None else (id(t.grad), t.grad._version) for t in tensors]


def _cuda_devices(groups: list[dict]) -> list[int]:
    return sorted({p.device.index or 0 for group in groups for p in group["params"] if p.is_cuda})


def _check_objects(model, optimizer, loss_fn) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {_what(model)}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {_what(optimizer)}")
    if isinstance(optimizer, torch.optim.LBFGS):
        raise TypeError("LBFGS steps with a closure that re-evaluates the loss many times: the probe measures "
                        "single-gradient steps")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable as loss_fn(model, batch), got {_what(loss_fn)}")


def _what(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return type(value).__name__

