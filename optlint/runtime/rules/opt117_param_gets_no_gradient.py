"""OPT117 (the one-step probe): trainable tensors of a group that the step's backward pass never reached."""

from __future__ import annotations

from optlint.findings import Finding

PASS = "probe"


def check(probe):
    for g in probe.groups:
        if not g.no_grad_names:
            continue
        whole = "none of its tensors received a gradient" if g.no_grad_elements == g.elements else (
            f"{g.no_grad_quoted} received no gradient")
        yield Finding(
            "OPT117",
            f"group {g.index} (`{g.label}`): {whole}: not used in forward (or detached from the loss), so the "
            "optimizer never changes them.",
            hint="Use them in the forward pass that computes the loss, or freeze them with `requires_grad_(False)` "
                 "and leave them out of the optimizer.",
        )
