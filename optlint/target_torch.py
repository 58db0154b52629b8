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


def checked(value, where: str) -> str:
    """A `[tool.optlint] target-torch` value, validated ("2.6")."""
    from optlint.config import ConfigError

    if not isinstance(value, str):
        quoted = " (quote it: as a TOML number 2.10 is 2.1)" if isinstance(value, float) else ""
        raise ConfigError(f'{where}: expected a string such as "{facts.newest()}"{quoted}, got {value!r}')
    try:
        return validated(value)
    except TargetError as error:
        raise ConfigError(f"{where}: {error}") from None


def validated(value: str) -> str:
    if MINOR.fullmatch(value) and value in facts.known_versions():
        return value
    raise TargetError(f"unknown torch version `{value}`: optlint knows torch {facts.known_range()} "
                      f'(a minor release, e.g. "{facts.newest()}")')


def nearest_pyproject(start: Path) -> Path | None:
    return next((d / "pyproject.toml" for d in (start, *start.parents) if (d / "pyproject.toml").is_file()), None)


def from_requirements(pyproject: dict) -> str | None:
    """The oldest known minor release that the project's torch requirements admit (None: no requirement,
    or none admits a known release)."""
    specifiers = [requirement.specifier for requirement in _torch_requirements(pyproject)]
    for version in facts.known_versions():
        if any(any(s.contains(patch) for patch in _releases(version)) for s in specifiers):
            return version
    return None


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
