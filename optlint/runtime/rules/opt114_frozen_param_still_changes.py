"""OPT114 (the one-step probe): a parameter with `requires_grad=False` that the step moved, or the running
statistics of a BatchNorm whose parameters are all frozen, moved because the module is in train mode."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.words import plural

PASS = "probe"


def check(probe):
    parameters = [c for c in probe.frozen_changes if c.group is not None]
    statistics = [c for c in probe.frozen_changes if c.group is None]
    if parameters:
        held = any(c.had_grad for c in parameters)
        why = (" torch steps every parameter whose `.grad` is not None (`zero_grad(set_to_none=False)` keeps a zero "
               "one): momentum and weight decay move it even with a zero gradient."
               if held else "")
        yield Finding(
            "OPT114",
            f"{plural(len(parameters), 'frozen parameter')} (`requires_grad=False`) moved in one {probe.optimizer_name} "
            f"step: {_listed(parameters)}.{why}",
            hint="Leave frozen parameters out of the optimizer (`[p for p in model.parameters() if p.requires_grad]`), "
                 "or zero with `zero_grad(set_to_none=True)` (the default) so that they hold no gradient.",
        )
    if statistics:
        yield Finding(
            "OPT114",
            f"the running statistics of BatchNorms whose parameters are all frozen moved in one step: "
            f"{_listed(statistics)}. They are in train mode, so every forward updates them.",
            hint="Put frozen BatchNorms in eval mode after each `model.train()` (`module.eval()`), or freeze their "
                 "statistics with `track_running_stats=False` where you build them.",
        )


def _listed(changes, shown: int = 4) -> str:
    """`` `backbone.weight` (group 0) by 0.21 ``, the first few, and how many more."""
    entries = [f"`{c.name}`{f' (group {c.group})' if c.group is not None else ''} by {c.change:.3g}"
               for c in changes[:shown]]
    more = len(changes) - shown
    return ", ".join(entries) + (f" and {more} more" if more > 0 else "")
