"""The runtime rules: the registry's entries the runtime check reports. Importing this never imports
torch (the CLI checks `--select` with it).

OPT110 and OPT111 are opt-in: reported only when selected by their full code. OPT111 is checked by
the static pass too (kind "static+runtime").
"""

from optlint.registry import registry

RUNTIME_RULES = tuple(info for info in registry().values() if "runtime" in info.kinds)


def selector_problem(selector: str) -> str | None:
    """Why a code or prefix given to the runtime check selects nothing, or None."""
    if any(info.code.startswith(selector.upper()) for info in RUNTIME_RULES):
        return None
    return f"{selector!r} matches no runtime rule ({RUNTIME_RULES[0].code}-{RUNTIME_RULES[-1].code})"
