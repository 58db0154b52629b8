"""OPT101: trainable parameters of the model that no param group holds (no optimizer, with several)."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.coverage import REQUIRES_GRAD
from optlint.runtime.naming import describe
from optlint.words import plural, verb


def check(analysis: Analysis):
    coverage = analysis.coverage
    missing = [coverage.names[key] for key in coverage.left_out() if coverage.params[key].requires_grad]
    if not missing:
        return
    trainable_here = [p for key, p in coverage.params.items() if key not in coverage.trained_elsewhere]
    if len(missing) == sum(map(REQUIRES_GRAD, trainable_here)):
        fact = f"none of the model's {plural(len(missing), 'trainable parameter')} is in a param group"
        hint = "Build the optimizer from this model: `torch.optim.AdamW(model.parameters(), ...)`."
    else:
        folded = coverage.tree.fold(missing)
        where_none = "param group of any optimizer" if coverage.trained_elsewhere else "param group"
        fact = (f"{plural(len(missing), 'trainable parameter')} of the model {verb(missing, 'is', 'are')} in no "
                f"{where_none}: {describe(folded)}")
        hint = f"Add {_group_for(folded)} to the optimizer's groups, or freeze them with `requires_grad_(False)` " \
               "if they stay fixed."
    who = "no optimizer updates" if coverage.trained_elsewhere else "the optimizer never updates"
    what = "it, so it keeps its initial value" if len(missing) == 1 else "them, so they keep their initial values"
    yield Finding("OPT101", f"{fact}: {who} {what}.", hint=hint)


def _group_for(folded) -> str:
    """`` `{'params': model.head.parameters()}` `` when the first entry is a whole module, else `them`."""
    module = folded[0].text.removesuffix(".*")
    if folded[0].text.endswith(".*") and all(part.isidentifier() for part in module.split(".")):
        return f"`{{'params': model.{module}.parameters()}}`"
    return "them"
