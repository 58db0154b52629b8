"""Codes of the runtime rules. Importing this never imports torch (the CLI lists them)."""

from optlint.findings import RuleInfo, Severity

E, W = Severity.ERROR, Severity.WARNING


def _rule(code: str, name: str, severity: Severity, summary: str, default_enabled: bool = True) -> RuleInfo:
    return RuleInfo(code, name, severity, summary, kind="runtime", default_enabled=default_enabled)


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
    _rule("OPT112", "param-group-added-after-scheduler", E, "The optimizer has groups the scheduler does not know."),
)
