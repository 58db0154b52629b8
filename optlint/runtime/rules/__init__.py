"""Every module `opt1xx_<name>.py` here defines one runtime rule; they are found here, never listed by hand.

A rule module has a docstring (what it finds), `check(subject)` yielding its findings, and `PASS`: what
the subject is, `"check"` (the default: an `analysis.Analysis` of one optimizer, for `check_setup` and
`optlint runtime`) or `"probe"` (a `probe_report.ProbeReport` of one real step, for `probe_step`).
Its code is its module's name: opt101_param_not_in_optimizer.py reports OPT101. Modules starting with
`_` hold what several rules share. A rule may also define `notes(subject)`, yielding what it sees but
cannot be sure of, for the report's notes. Adding a rule is its module, its page rules/OPT1xx.md, and a fixture.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType


def code(rule: ModuleType) -> str:
    """`OPT101` for optlint.runtime.rules.opt101_param_not_in_optimizer."""
    return rule.__name__.rpartition(".")[2].partition("_")[0].upper()


@functools.cache
def all_rules() -> tuple[ModuleType, ...]:
    modules = [importlib.import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)
               if not info.name.startswith("_")]
    return tuple(sorted(modules, key=code))


def rules_for(pass_name: str, enabled: set[str] | None = None) -> list[ModuleType]:
    """The rules of one pass ("check" or "probe"), those in `enabled` only when it is given, in code order."""
    return [rule for rule in all_rules() if getattr(rule, "PASS", "check") == pass_name
            and (enabled is None or code(rule) in enabled)]


def findings_of(pass_name: str, subject, enabled: set[str] | None = None) -> list:
    """Every finding the rules of `pass_name` report about `subject`, in code order."""
    return [finding for rule in rules_for(pass_name, enabled) for finding in rule.check(subject)]


def notes_of(pass_name: str, subject, enabled: set[str] | None = None) -> list[str]:
    """The notes of the rules of `pass_name` that define `notes(subject)`, in code order."""
    return [note for rule in rules_for(pass_name, enabled) if hasattr(rule, "notes") for note in rule.notes(subject)]
