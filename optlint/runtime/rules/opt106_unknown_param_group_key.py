"""OPT106: a param-group key that misspells a hyper-parameter, the runtime twin of OPT003.

torch keeps unknown keys and ignores them, so `{'params': ..., 'learning_rate': 1e-5}` runs with the
optimizer's default `lr`. Keys that match nothing (`name`, `layer_id`) are user metadata: never flagged.
"""

from __future__ import annotations

from optlint import facts
from optlint.findings import Finding
from optlint.runtime.analysis import Analysis, base_lr
from optlint.runtime.report import setting
from optlint.spelling import close_match


def check(analysis: Analysis):
    optimizer = analysis.optimizer
    valid = valid_group_keys(optimizer)
    for index, group in enumerate(analysis.groups):
        for key in group:
            meant = close_match(key, valid) if isinstance(key, str) else None
            if meant is not None:
                yield _finding(index, key, meant, group, optimizer)


def valid_group_keys(optimizer) -> frozenset[str]:
    """The torch facts' keys for torch's own classes; any class's own defaults are valid too."""
    table = facts.load()
    cls = type(optimizer)
    own = frozenset(k for k in optimizer.defaults if isinstance(k, str))
    if cls.__module__.startswith(facts.OPTIM) and cls.__name__ in table.optimizers:
        return table.valid_group_keys(cls.__name__) | own
    return own | table.scheduler_group_keys | facts.EXTRA_VALID_GROUP_KEYS


def _finding(index: int, key: str, meant: str, group: dict, optimizer) -> Finding:
    if meant in group:
        default = " (the optimizer's default)" if group[meant] is optimizer.defaults.get(meant, object()) else ""
        value = base_lr(group) if meant == "lr" else group[meant]
        runs = f": the group runs with `{meant}={setting(value)}`{default}"
    else:
        runs = ""
    return Finding(
        "OPT106",
        f"group {index} has key `{key}`, which `{type(optimizer).__name__}` ignores{runs}. Did you mean `{meant}`?",
        hint=f"Rename `{key}` to `{meant}` in the group dict.",
    )
