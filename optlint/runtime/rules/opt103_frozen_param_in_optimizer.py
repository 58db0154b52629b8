"""OPT103: frozen tensors in a group beside trainable ones: they train again with its LR once unfrozen."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis, base_lr
from optlint.runtime.naming import describe
from optlint.runtime.report import setting
from optlint.words import verb


def check(analysis: Analysis):
    coverage = analysis.coverage
    for index, frozen in coverage.frozen.items():
        yield Finding(
            "OPT103",
            f"{describe(coverage.tree.fold(frozen))} {verb(frozen, 'has', 'have')} `requires_grad=False` but "
            f"{verb(frozen, 'sits', 'sit')} in group {index} beside trainable tensors: skipped while frozen, "
            f"{verb(frozen, 'it trains', 'they train')} again with this group's "
            f"`lr={setting(base_lr(analysis.groups[index]))}` the moment anything sets `requires_grad=True`.",
            hint="Build the optimizer from trainable tensors only: "
                 "`[p for p in model.parameters() if p.requires_grad]`.",
        )
