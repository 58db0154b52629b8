"""DeepSpeed's optimizers, seen as the torch optimizer of the model's own parameters.

A ZeRO optimizer (`DeepSpeedZeroOptimizer` for stages 1 and 2, `DeepSpeedZeroOptimizer_Stage3`,
`BF16_Optimizer`, `FP16_Optimizer`) wraps the torch optimizer in `.optimizer`, whose groups hold flat fp32
partitions (stages 1-2) or nothing between steps (stage 3): by identity none is the model's. DeepSpeed
keeps, per group, the model's parameters each group trains (`bit16_groups`; stage 3: `fp16_groups` per
sub-group and `sub_group_to_group_id`): the view below is the torch optimizer's class and settings with
those parameters, which the checks read. DeepSpeed is never imported: its classes are known by module.
"""

from __future__ import annotations

import collections

DEEPSPEED_OPTIMIZER = ("deepspeed.runtime.base_optimizer", "DeepSpeedOptimizer")
# The attributes in which DeepSpeed's optimizers keep each group's model parameters, one list per group.
GROUP_PARAMETERS = ("bit16_groups", "bf16_groups", "fp16_groups")


def is_deepspeed_optimizer(obj) -> bool:
    return any((cls.__module__, cls.__name__) == DEEPSPEED_OPTIMIZER for cls in type(obj).__mro__)


def model_view(deepspeed_optimizer):
    """An optimizer of the wrapped torch optimizer's class whose groups have its settings and hold the model's
    parameters they train. Raises TypeError when DeepSpeed's bookkeeping is not one this knows: the partitions
    alone would read as a model that nothing trains."""
    torch_optimizer = deepspeed_optimizer.optimizer
    parameters = _group_parameters(deepspeed_optimizer, len(torch_optimizer.param_groups))
    if parameters is None:
        raise TypeError(f"{type(deepspeed_optimizer).__name__} keeps its groups' parameters in none of "
                        f"{', '.join(GROUP_PARAMETERS)} (ZeRO stage 3: fp16_groups and sub_group_to_group_id): "
                        "optlint cannot map its partitions back to the model's parameters")
    cls = type(torch_optimizer)
    view = cls.__new__(cls)
    vars(view).update(defaults=torch_optimizer.defaults, state=collections.defaultdict(dict),
                      param_groups=[{**group, "params": params}
                                    for group, params in zip(torch_optimizer.param_groups, parameters)])
    return view


def _group_parameters(deepspeed_optimizer, groups: int) -> list[list] | None:
    sub_group_to_group = getattr(deepspeed_optimizer, "sub_group_to_group_id", None)
    if isinstance(sub_group_to_group, dict):  # stage 3: each group is split into sub-groups
        parameters = [[] for _ in range(groups)]
        for sub_group, params in enumerate(deepspeed_optimizer.fp16_groups):
            parameters[sub_group_to_group[sub_group]].extend(params)
        return parameters
    for attribute in GROUP_PARAMETERS:
        parameters = getattr(deepspeed_optimizer, attribute, None)
        if isinstance(parameters, list) and len(parameters) == groups:
            return [list(params) for params in parameters]
    return None
