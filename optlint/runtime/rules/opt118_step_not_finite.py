"""OPT118 (the one-step probe): the loss, or a group's gradient, is NaN or infinite."""

from __future__ import annotations

import math

from optlint.findings import Finding

PASS = "probe"


def check(probe):
    if not math.isfinite(probe.loss):
        yield Finding(
            "OPT118",
            f"the loss is {probe.loss}: every gradient of the step, and every ratio read from it, is meaningless.",
            hint="Fix the forward pass or the batch before reading any ratio.",
        )
    for g in probe.groups:
        if not math.isfinite(g.grad_norm):
            yield Finding(
                "OPT118",
                f"group {g.index} (`{g.label}`): the gradient is not finite ({g.grad_norm}): one step with it turns "
                "the group's weights into NaN or inf.",
                hint="Find the operation that overflows (a log of 0, a division by 0, float16 without a loss scaler).",
            )
