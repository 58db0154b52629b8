"""What a real step changed that was meant to stay fixed (OPT114): frozen parameters and frozen BatchNorms.

torch steps every parameter whose `.grad` is a tensor, `requires_grad` or not: after
`zero_grad(set_to_none=False)` a frozen parameter that was trained before holds a zero gradient, and
SGD's momentum buffer or AdamW's decoupled weight decay still move it. A BatchNorm updates its running
statistics on every forward in `train()` mode, whether its parameters are frozen or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class FrozenChange:
    """A tensor meant to stay fixed that the step changed."""

    name: str  # `backbone.weight`, `backbone.bn.running_mean`
    group: int | None  # the param group of a parameter; None for running statistics
    change: float  # ‖Δ‖
    had_grad: bool = False  # a parameter that held a gradient tensor during the step


def frozen_norm_statistics(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """A copy of the running statistics of each BatchNorm in train mode whose parameters are all frozen, by name."""
    return {name: {key: buffer.detach().clone() for key, buffer in _statistics(module).items()}
            for name, module in model.named_modules() if _frozen_in_train_mode(module)}


def changes(groups: list[dict], old: list[list], stepped_groups: list[dict], names: dict[int, str],
            statistics_before: dict, stepped_model: nn.Module) -> list[FrozenChange]:
    """The frozen parameters of `groups` that moved (`old`: their values before; `stepped_groups`: the groups that
    took the step), then the running statistics of frozen BatchNorms that moved; `names`: the model's names by id."""
    found = []
    for g, (group, before, stepped) in enumerate(zip(groups, old, stepped_groups)):
        for original, value, after in zip(group["params"], before, stepped["params"]):
            if after.requires_grad or torch.equal(after.detach(), value.detach()):
                continue
            name = names.get(id(original), "a tensor outside the model")
            found.append(FrozenChange(name, g, _distance(after, value), after.grad is not None))
    modules = dict(stepped_model.named_modules())
    for name, before in statistics_before.items():
        after = _statistics(modules[name]) if name in modules else {}
        for key, value in before.items():
            if key in after and not torch.equal(after[key].detach(), value):
                found.append(FrozenChange(f"{name}.{key}" if name else key, None, _distance(after[key], value)))
    return found


def _frozen_in_train_mode(module: nn.Module) -> bool:
    parameters = list(module.parameters(recurse=False))
    return (isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training and bool(_statistics(module))
            and bool(parameters) and not any(p.requires_grad for p in parameters))


def _statistics(module: nn.Module) -> dict[str, torch.Tensor]:
    return {key: buffer for key in ("running_mean", "running_var")
            if isinstance(buffer := getattr(module, key, None), torch.Tensor)}


def _distance(after: torch.Tensor, before: torch.Tensor) -> float:
    return torch.linalg.vector_norm((after.detach().float() - before.detach().float())).item()
