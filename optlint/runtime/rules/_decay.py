"""What the weight-decay rules (OPT110, OPT111) read alike: a group's decay and how to name it.

The decay torch applies is the group's own `weight_decay` entry: torch copies the constructor's value,
or the class default (AdamW: 0.01), into every group, so an unwritten default counts too.
"""

from __future__ import annotations

import inspect

from optlint.runtime.naming import join_and
from optlint.runtime.simulate import as_float


def decay(group: dict) -> float:
    return as_float(group.get("weight_decay", 0.0))


def groups_and_decay(optimizer, groups: list[int]) -> str:
    """`group 0 (`weight_decay=0.01`, AdamW's default)`, `groups 0 and 2 (`weight_decay=0.05`)`."""
    values = {decay(optimizer.param_groups[g]) for g in groups}
    if len(values) == 1:
        [value] = values
        return f"group{'s' * (len(groups) > 1)} {join_and(groups)} ({_decay_text(optimizer, value)})"
    return "groups " + join_and(f"{g} ({_decay_text(optimizer, decay(optimizer.param_groups[g]))})" for g in groups)


def _decay_text(optimizer, value: float) -> str:
    default = _default_decay(type(optimizer))
    return f"`weight_decay={value:g}`" + (f", {type(optimizer).__name__}'s default" if value == default else "")


def _default_decay(cls) -> float | None:
    try:
        parameter = inspect.signature(cls.__init__).parameters.get("weight_decay")
    except (TypeError, ValueError):
        return None
    return parameter.default if parameter is not None and isinstance(parameter.default, (int, float)) else None
