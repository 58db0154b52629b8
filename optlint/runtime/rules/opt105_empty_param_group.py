"""OPT105: a param group without tensors, whose settings apply to nothing."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.report import setting


def check(analysis: Analysis):
    for index, group in enumerate(analysis.groups):
        if not group["params"]:
            settings = ", ".join(f"`{k}={setting(group[k])}`" for k in ("lr", "weight_decay") if k in group)
            yield Finding(
                "OPT105",
                f"group {index} holds no tensors: its settings ({settings}) apply to nothing. A group built from the "
                "`.parameters()` of a module that owns none (`nn.ReLU`, `nn.Dropout`, pooling, `nn.Identity`), or "
                "from a filter that matched no trainable tensor, is empty.",
                hint="Remove the group, or build it from the module whose weights you meant.",
                extra={"group": index},
            )
