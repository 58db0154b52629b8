"""Did-you-mean for hyper-parameter names, shared by the static (OPT001-003) and runtime (OPT106) rules.

`close_match` answers only when a name is a misspelling or a well-known alias of exactly one real
name; legitimate metadata keys (`name`, `layer_id`, `lr_scale`) match nothing.
"""

from __future__ import annotations

import difflib
import re

# Names other frameworks (Keras, TF, Caffe, papers) use for torch's hyper-parameters.
ALIASES = {
    "learningrate": "lr",
    "learningrates": "lr",
    "lrate": "lr",
    "rate": "lr",
    "baselr": "lr",
    "lr0": "lr",
    "wd": "weight_decay",
    "weightdecayrate": "weight_decay",
    "l2": "weight_decay",
    "beta": "betas",
    "beta1": "betas",
    "beta2": "betas",
    "epsilon": "eps",
    "momentumfactor": "momentum",
    "nesterovmomentum": "nesterov",
}

# Aliases that name one element of a tuple hyper-parameter: `beta1=0.9` means `betas=(0.9, ...)`, so renaming
# the key alone would hand torch a float where it unpacks a pair.
ELEMENT_ALIASES = frozenset({"beta", "beta1", "beta2"})

# Aliases long enough that a near-miss of one is a typo of it, not another word (`rate`, `l2` are not).
_LONG_ALIASES = {alias: name for alias, name in ALIASES.items() if len(alias) >= 7}


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def renaming_is_the_fix(name: str) -> bool:
    """Whether writing the meant name in place of `name` keeps the value right (not so for one element of a tuple)."""
    return normalise(name) not in ELEMENT_ALIASES


def close_match(name: str, valid: list[str] | tuple[str, ...] | frozenset[str]) -> str | None:
    """The one real name `name` most likely means, or None."""
    if name in valid:
        return None
    by_normal = {normalise(v): v for v in valid}
    key = normalise(name)
    if key in by_normal:
        return by_normal[key]
    alias = ALIASES.get(key)
    if alias in valid:
        return alias
    matches = difflib.get_close_matches(key, list(by_normal), n=2, cutoff=0.8)
    if len(matches) == 1 or (len(matches) == 2 and _clearly_better(key, *matches)):
        return by_normal[matches[0]]
    misspelt = difflib.get_close_matches(key, list(_LONG_ALIASES), n=1, cutoff=0.9)  # `learing_rate`
    if misspelt and _LONG_ALIASES[misspelt[0]] in valid:
        return _LONG_ALIASES[misspelt[0]]
    return None


def _clearly_better(key: str, first: str, second: str) -> bool:
    ratio = lambda other: difflib.SequenceMatcher(None, key, other).ratio()  # noqa: E731
    return ratio(first) - ratio(second) >= 0.1
