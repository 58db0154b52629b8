"""OPT104: tensors outside the model while trainable parameters of it are left out: the optimizer holds a
copy or a replaced module. Extras beside a fully covered model (a loss module's weights, a learnable
temperature, optimized inputs) are deliberate and not flagged."""

from __future__ import annotations

from optlint.findings import Finding
from optlint.runtime.analysis import Analysis
from optlint.runtime.coverage import Coverage
from optlint.runtime.naming import describe, join_and
from optlint.words import plural, verb

COPY_OF_MODEL = "a deepcopy, a re-instantiated model, an EMA twin"


def check(analysis: Analysis):
    coverage = analysis.coverage
    if not coverage.foreign:
        return
    left_out = [coverage.params[key] for key in coverage.left_out()]
    if not any(p.requires_grad for p in left_out):
        return
    foreign = coverage.foreign
    groups = sorted({coverage.group_of[key] for key in foreign})
    yield Finding(
        "OPT104",
        f"{plural(len(foreign), 'tensor')} in group {join_and(groups)} "
        f"{verb(foreign, 'is not a parameter', 'are not parameters')} of the model{_same_shapes(coverage, left_out)}: "
        f"{verb(foreign, 'it belongs', 'they belong')} to a module replaced after the optimizer was built, or to "
        f"another copy of the model ({COPY_OF_MODEL}); stepping {verb(foreign, 'it', 'them')} never changes this "
        "model.",
        hint="Build the optimizer from the model you train, after the last copy, re-instantiation or sharding "
             "(`fully_shard`): `torch.optim.AdamW(model.parameters(), ...)`.",
    )


def _same_shapes(coverage: Coverage, left_out: list) -> str:
    """` (same shapes as `head.weight`, `head.bias`)` when each foreign tensor matches a left-out parameter."""
    by_shape: dict[tuple, list] = {}
    for p in left_out:
        by_shape.setdefault(tuple(p.shape), []).append(p)
    twins = []
    for tensor in coverage.foreign.values():
        candidates = by_shape.get(tuple(tensor.shape))
        if not candidates:
            return ""
        twins.append(coverage.names[id(candidates.pop(0))])
    if len(twins) == len(coverage.names):
        return " (the same shapes as all of the model's parameters)"
    return f" (same shapes as {describe(coverage.tree.fold(twins))})"
