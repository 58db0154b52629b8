"""Which attributes of library models (torchvision, timm, transformers) hold parameterless modules.

The table (library_facts.json) is generated from the libraries' source by
scripts/gen_library_facts.py and never hand-edited. It is read only when a file calls something of
one of these libraries, once per process. Nothing here imports a library.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

LIBRARIES = frozenset({"torchvision", "timm", "transformers"})


@functools.cache
def _table() -> dict:
    return json.loads((resources.files("optlint") / "library_facts.json").read_text(encoding="utf-8"))


def class_built_by(qualname: str, keywords: frozenset[str], double_star: bool) -> str | None:
    """The library class a call of `qualname` (`torchvision.models.resnet34`) surely returns an instance of."""
    if qualname.partition(".")[0] not in LIBRARIES:
        return None
    factory = _table()["factories"].get(qualname)
    if factory is None:
        return None
    changes_with = set(factory.get("unless_keywords", ()))
    if changes_with and (double_star or changes_with & keywords):
        return None
    return factory["class"]


def parameterless_attribute(library_class: str, attribute: str) -> list[str] | None:
    """The torch.nn classes `<instance>.<attribute>` may hold, when each owns no parameters."""
    return _table()["classes"].get(library_class, {}).get(attribute)
