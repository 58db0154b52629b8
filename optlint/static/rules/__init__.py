"""Every module in this package defines one rule; they are found here, never listed by hand."""

from __future__ import annotations

import functools
import importlib
import pkgutil


@functools.cache
def all_rules() -> tuple[type, ...]:
    from optlint.static.libcst_import import import_libcst

    import_libcst()  # the rules need libcst: only once a file is parsed or a finding is kept
    from optlint.static.rule import Rule

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return tuple(sorted(_leaf_subclasses(Rule), key=lambda r: r.code))


def _leaf_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.extend(_leaf_subclasses(sub) if sub.__subclasses__() else [sub])
    return [c for c in found if c.__module__.startswith(__name__)]
