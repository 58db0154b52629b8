"""Codes of the runtime rules. Importing this never imports torch (the CLI lists them).

OPT110 and OPT111 are opt-in: reported only when selected by their full code. OPT111 is checked by
the static pass too; its one declaration here is shared with that rule (kind "static+runtime").
"""

from optlint.findings import RuleInfo, Severity

E, W = Severity.ERROR, Severity.WARNING


def _rule(code: str, name: str, severity: Severity, summary: str, default_enabled: bool = True) -> RuleInfo:
    return RuleInfo(code, name, severity, summary, kind="runtime", default_enabled=default_enabled)


ADAM_WITH_WEIGHT_DECAY = RuleInfo(
    "OPT111", "adam-with-weight-decay", W,
    "Adam, NAdam or RAdam with weight_decay > 0 adds L2 to the gradient; AdamW's decoupled decay was likely meant.",
    kind="static+runtime", default_enabled=False,
)

RUNTIME_RULES = (
    _rule("OPT101", "param-not-in-optimizer", E, "A trainable parameter of the model is in no param group."),
    _rule("OPT102", "param-in-multiple-groups", E, "One tensor is in two groups, or twice in one group."),
    _rule("OPT103", "frozen-param-in-optimizer", W, "A parameter with requires_grad=False sits in a group."),
    _rule("OPT104", "foreign-tensor-in-optimizer", E, "A group holds a tensor that is not a parameter of the model."),
    _rule("OPT105", "empty-param-group", W, "A param group holds no tensors."),
    _rule("OPT106", "unknown-param-group-key", E, "A group key misspells a hyper-parameter of the optimizer."),
    _rule("OPT107", "scheduler-overrides-group-lrs", W, "Groups with different LRs end up with the same LR."),
    _rule("OPT108", "invalid-scheduled-lr", E, "A simulated learning rate is negative, NaN or infinite."),
    _rule("OPT109", "scheduler-bound-to-other-optimizer", E, "The scheduler drives a different optimizer."),
    _rule("OPT110", "weight-decay-on-norm-or-bias", W,
          "A group with weight decay holds biases, normalisation weights or embeddings.", default_enabled=False),
    ADAM_WITH_WEIGHT_DECAY,
    _rule("OPT112", "param-group-added-after-scheduler", E, "The optimizer has groups the scheduler does not know."),
)


def selector_problem(selector: str) -> str | None:
    """Why a code or prefix given to the runtime check selects nothing, or None."""
    if any(info.code.startswith(selector.upper()) for info in RUNTIME_RULES):
        return None
    return f"{selector!r} matches no runtime rule ({RUNTIME_RULES[0].code}-{RUNTIME_RULES[-1].code})"
