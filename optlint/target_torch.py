"""The torch release the rules speak for: `target-torch = "2.6"`, `--target-torch 2.6`, or by default
the project's own torch requirement in its pyproject.toml (`torch>=2.4` -> "2.4", the oldest known
minor release it admits), else the newest known (optlint.facts.known_versions).

A requirement is read from `[project] dependencies`, `[project.optional-dependencies]` and
`[dependency-groups]`; with several, the oldest release any of them admits is the target, since the
project says it runs there. Markers (`; python_version < "3.12"`) are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from optlint import facts

MINOR = re.compile(r"\d+\.\d+")


class TargetError(ValueError):
    """A target-torch value optlint has no table for (the message is one line)."""


def validated(value: str) -> str:
    if MINOR.fullmatch(value) and value in facts.known_versions():
        return value
    raise TargetError(f"unknown torch version `{value}`: optlint knows torch {facts.known_range()} "
                      f'(a minor release, e.g. "{facts.newest()}")')


def nearest_pyproject(start: Path) -> Path | None:
    return next((d / "pyproject.toml" for d in (start, *start.parents) if (d / "pyproject.toml").is_file()), None)


def from_requirements(pyproject: dict) -> str | None:
    """The torch release the project's requirements have the rules speak for. A requirement with a lower bound
    (`torch>=2.4`, `torch~=2.3.1`) means the code must run on the oldest release it admits; one without
    (`torch`, `torch<2.5`) gets the newest it admits, the one pip installs. With several, the oldest answer
    wins. None: no torch requirement, or none admits a known release."""
    known = facts.known_versions()
    answers = []
    for requirement in _torch_requirements(pyproject):
        admitted = [v for v in known if any(requirement.specifier.contains(patch) for patch in _releases(v))]
        if admitted:
            answers.append(admitted[0] if _has_lower_bound(requirement.specifier) else admitted[-1])
    return min(answers, key=known.index) if answers else None


def _has_lower_bound(specifier) -> bool:
    return any(s.operator in (">=", ">", "==", "~=", "===") for s in specifier)


def _releases(minor: str) -> list[str]:
    """Every patch release of `minor` up to the one its table was measured on: 2.4.0, 2.4.1."""
    last_patch = int(facts.load(minor).torch_version.split(".")[2])
    return [f"{minor}.{patch}" for patch in range(last_patch + 1)]


def _torch_requirements(pyproject: dict):
    from packaging.requirements import InvalidRequirement, Requirement

    project = pyproject.get("project", {})
    lists = [project.get("dependencies", []), *project.get("optional-dependencies", {}).values(),
             *pyproject.get("dependency-groups", {}).values()]
    for strings in lists:
        for text in strings if isinstance(strings, list) else ():
            try:
                requirement = Requirement(text) if isinstance(text, str) else None
            except InvalidRequirement:
                continue  # not optlint's to judge: pip reports it
            if requirement is not None and requirement.name.lower() == "torch":
                yield requirement
