"""`[tool.optlint]` in pyproject.toml: found by walking up from the linted paths, validated, merged with flags.

    [tool.optlint]
    select = ["OPT0"]                          # codes or prefixes; replaces the default set
    extend-select = ["OPT018"]                 # added to it
    ignore = ["OPT015"]
    per-file-ignores = { "tests/**" = ["OPT011"], "__init__.py" = ["OPT0"] }
    exclude = [".git", ".venv"]                # replaces the default list (DEFAULT_EXCLUDE)
    extend-exclude = ["legacy/", "*_pb2.py"]   # added to it
    extend-include = ["*.md", "docs/**/*.rst"] # linted too when walking folders (code blocks of tutorials)
    output-format = "github"
    respect-gitignore = true                   # skip what .gitignore & co. ignore (named files are linted)
    optimizer-step-names = ["optimizer_step"]  # rule settings (SETTINGS), see below
    scheduler-names = ["warmup"]
    target-torch = "2.6"                       # the torch the rules speak for (see target_torch.py)

Rule selection works like ruff's: the command line is a second layer over the file; within one
layer the most specific selector wins and `ignore` wins a tie. A prefix (`OPT0`, `OPT01`) never turns
on an opt-in rule (RuleInfo.default_enabled=False): only its full code does.

Path patterns are gitignore-like globs relative to the directory of the pyproject.toml (the current
directory without one): a pattern without `/` matches any path component (`build`, `*_pb2.py`); one
with `/` is anchored there (`src/legacy`, `tests/**/*.py`); a matched directory covers everything
below it. Exclusions apply to every path, including files named on the command line (so a
pre-commit hook, which names every staged file, honours them).
"""

from __future__ import annotations

import functools

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from optlint import facts as torch_facts
from optlint import target_torch
from optlint.findings import Finding, decide
from optlint.globs import GlobError, Globs
from optlint.registry import registry
from optlint.report import FORMATS
from optlint.static.files import SKIPPED_DIRS

# Rule settings: TOML key -> key of FileContext.settings. Each is a tuple of dotted names (default ());
# rules read them with `ctx.settings.get(...)`, so code that lints without a config sees ().
SETTINGS = {
    # Calls that perform an optimizer step besides `opt.step()`, `scaler.step(opt)` and same-file helpers,
    # e.g. a helper imported from another module: ["optimizer_step", "utils.train_step"].
    "optimizer-step-names": "optimizer_step_names",
    # Names (variables or `self.` attributes) that hold an LR scheduler besides the conventional ones.
    "scheduler-names": "scheduler_names",
}
KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "exclude", "extend-exclude", "extend-include",
        "output-format", "target-torch", "respect-gitignore", *SETTINGS)
DEFAULT_EXCLUDE = tuple(sorted(SKIPPED_DIRS))
SELECTOR = re.compile(r"OPT\d{0,3}")
DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


class ConfigError(Exception):
    """A configuration optlint cannot use: one line naming the file and key (exit 2)."""


@dataclass(frozen=True)
class Options:
    """What one layer says: the config file, or the command line. None means "not given"."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    extend_include: tuple[str, ...] = ()
    output_format: str | None = None
    target_torch: str | None = None
    settings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    respect_gitignore: bool | None = None


class RuleSelection:
    """The rules a run enables, resolved only when a file is actually parsed or a finding kept:
    resolving imports every rule module (and libcst), which a file without optimizer code never needs."""

    def __init__(self, layers: Sequence[Options]):
        self.layers = tuple(layers)
        # What the cache is keyed by: the selectors as written (the rule set itself is part of
        # optlint's own source, which the cache key hashes too).
        self.key = repr([(layer.select, layer.extend_select, layer.ignore) for layer in self.layers])

    @functools.cached_property
    def codes(self) -> frozenset[str]:
        return enabled_codes(self.layers)

    def __iter__(self):
        from optlint.static.rules import all_rules

        return iter(tuple(rule for rule in all_rules() if rule.code in self.codes))


@dataclass(frozen=True)
class Config:
    """The resolved configuration of one run."""

    root: Path  # where path patterns are anchored
    source: Path | None  # the pyproject.toml it came from
    selection: RuleSelection
    output_format: str
    settings: Mapping[str, tuple[str, ...]]
    exclude: PathPatterns
    include: PathPatterns  # extend-include
    per_file_ignores: tuple[tuple[PathPatterns, frozenset[str]], ...]
    respect_gitignore: bool = True

    @property
    def enabled(self) -> frozenset[str]:
        return self.selection.codes

    def rules(self) -> RuleSelection:
        return self.selection

    def is_excluded(self, path: str) -> bool:
        return self.exclude.matches(path)

    def is_included(self, path: str) -> bool:
        return self.include.matches_file(path)

    def keeps(self, finding: Finding) -> bool:
        """False for a code that is not selected, or that a per-file-ignores entry silences for the file."""
        if finding.code not in self.enabled:
            return False
        return not any(finding.code in codes and patterns.matches(finding.filename)
                       for patterns, codes in self.per_file_ignores)


def load(paths: Sequence[str], overrides: Options = Options(), *, config_file: str | None = None,
         isolated: bool = False) -> Config:
    """The configuration for linting `paths`: the nearest `[tool.optlint]` (or `config_file`) under `overrides`."""
    source = None if isolated else Path(config_file) if config_file else find(paths)
    layers = [read(source), overrides] if source else [overrides]
    project = None if isolated else source or target_torch.nearest_pyproject(_common_directory(paths))
    required = target_torch.from_requirements(_toml(project)) if project else None
    return resolve(layers, source.parent.resolve() if source else Path.cwd(), source, required)


def find(paths: Sequence[str]) -> Path | None:
    """The nearest pyproject.toml with a [tool.optlint] table, walking up from the paths' common directory."""
    start = _common_directory(paths)
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "optlint" in _toml(candidate).get("tool", {}):
            return candidate
    return None


def _common_directory(paths: Sequence[str]) -> Path:
    directories = [p if os.path.isdir(p) else os.path.dirname(p) for p in map(os.path.abspath, paths)]
    try:
        return Path(os.path.commonpath(directories)) if directories else Path.cwd()
    except ValueError:  # paths on different drives
        return Path.cwd()


def _toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def read(path: Path) -> Options:
    """The [tool.optlint] table of `path`, validated."""
    table = _toml(path).get("tool", {}).get("optlint")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: no [tool.optlint] table")
    for key in table:
        if key not in KEYS:
            raise ConfigError(f"{path}: [tool.optlint] {key}: unknown key.{_did_you_mean(key, KEYS)}")
    where = lambda key: f"{path}: [tool.optlint] {key}"  # noqa: E731
    get = lambda key, check: check(table[key], where(key)) if key in table else None  # noqa: E731
    return Options(
        select=get("select", selectors),
        extend_select=get("extend-select", selectors) or (),
        ignore=get("ignore", selectors) or (),
        per_file_ignores=get("per-file-ignores", _per_file_ignores) or (),
        exclude=get("exclude", _globs),
        extend_exclude=get("extend-exclude", _globs) or (),
        extend_include=get("extend-include", _globs) or (),
        output_format=get("output-format", _output_format),
        target_torch=get("target-torch", _target_torch),
        settings={SETTINGS[key]: get(key, _dotted_names) for key in SETTINGS if key in table},
        respect_gitignore=get("respect-gitignore", _boolean),
    )


def selectors(value, where: str) -> tuple[str, ...]:
    """Rule codes or prefixes (`OPT011`, `OPT01`, `OPT`), each matching at least one known code."""
    for selector in _strings(value, where):
        problem = selector_problem(selector)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    return tuple(value)


def selector_problem(selector: str) -> str | None:
    codes = registry()
    if SELECTOR.fullmatch(selector) and any(code.startswith(selector) for code in codes):
        return None
    return f"unknown rule code or prefix `{selector}`.{_did_you_mean(selector.upper(), codes, exact_case=selector)}"


def _strings(value, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings, got {_toml_repr(value)}")
    return tuple(value)


def _target_torch(value, where: str) -> str:
    """A `target-torch` value, validated ("2.6")."""
    if not isinstance(value, str):
        quoted = " (quote it: as a TOML number 2.10 is 2.1)" if isinstance(value, float) else ""
        raise ConfigError(f'{where}: expected a string such as "{torch_facts.newest()}"{quoted}, got {value!r}')
    try:
        return target_torch.validated(value)
    except target_torch.TargetError as error:
        raise ConfigError(f"{where}: {error}") from None


def _globs(value, where: str) -> tuple[str, ...]:
    for pattern in _strings(value, where):
        _check_glob(pattern, where)
    return tuple(value)


def _check_glob(pattern: str, where: str) -> None:
    try:
        Globs([pattern])
    except GlobError as error:
        raise ConfigError(f"{where}: {error}") from None


def _per_file_ignores(value, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f'{where}: expected a table of glob = [codes], e.g. {{ "tests/**" = ["OPT011"] }}, '
                          f"got {_toml_repr(value)}")
    for pattern in value:
        _check_glob(pattern, where)
    return tuple((pattern, selectors(codes, f'{where} "{pattern}"')) for pattern, codes in value.items())


def _output_format(value, where: str) -> str:
    if value not in FORMATS:
        raise ConfigError(f"{where}: expected one of {', '.join(FORMATS)}, got {_toml_repr(value)}")
    return value


def _boolean(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {_toml_repr(value)}")
    return value


def _dotted_names(value, where: str) -> tuple[str, ...]:
    for name in _strings(value, where):
        if not DOTTED_NAME.fullmatch(name):
            raise ConfigError(f"{where}: `{name}` is not a Python name (write `optimizer_step` or `utils.step`)")
    return tuple(value)


def _toml_repr(value) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a table",
            list: "a list"}.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})"


def _did_you_mean(word: str, choices: Iterable[str], exact_case: str | None = None) -> str:
    choices = list(choices)
    if exact_case is not None and word in choices and word != exact_case:
        return f" Did you mean `{word}`?"
    close = difflib.get_close_matches(word.replace("_", "-"), choices, n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else ""


def resolve(layers: Sequence[Options], root: Path, source: Path | None = None,
            required_torch: str | None = None) -> Config:
    """Merge the layers, each over the one before: the file, then the command line. The target torch
    not set by either is the project's own torch requirement (`required_torch`), else the newest."""
    exclude = next((layer.exclude for layer in reversed(layers) if layer.exclude is not None), DEFAULT_EXCLUDE)
    extend_exclude = tuple(pattern for layer in layers for pattern in layer.extend_exclude)
    ignores = tuple((PathPatterns([pattern], root), expand(codes))
                    for layer in layers for pattern, codes in layer.per_file_ignores)
    output_format = next((layer.output_format for layer in reversed(layers) if layer.output_format), "text")
    settings = {key: () for key in SETTINGS.values()}
    for layer in layers:
        settings.update(layer.settings)
    include = PathPatterns([pattern for layer in layers for pattern in layer.extend_include], root)
    settings["target_torch"] = next((layer.target_torch for layer in reversed(layers) if layer.target_torch),
                                    required_torch)
    respect_gitignore = next((layer.respect_gitignore for layer in reversed(layers)
                              if layer.respect_gitignore is not None), True)
    return Config(root, source, RuleSelection(layers), output_format, settings,
                  PathPatterns([*exclude, *extend_exclude], root), include, ignores, respect_gitignore)


def expand(selectors_: Iterable[str]) -> frozenset[str]:
    """Every code a selector list names (prefixes included, opt-in rules too: used for ignoring)."""
    return frozenset(code for code in registry() for s in selectors_ if code.startswith(s))


def enabled_codes(layers: Sequence[Options]) -> frozenset[str]:
    infos = registry()
    enabled = {code for code, info in infos.items() if info.default_enabled}
    for layer in layers:
        chosen = (*(layer.select or ()), *layer.extend_select)
        base = set() if layer.select is not None else enabled
        enabled = {code for code, info in infos.items()
                   if decide(code, chosen, layer.ignore, code in base, opt_in=not info.default_enabled)}
    return frozenset(enabled)


class PathPatterns:
    """Gitignore-like globs anchored at `root` (see the module docstring)."""

    def __init__(self, patterns: Iterable[str], root: Path):
        self.root = str(root)
        normal = [p.replace("\\", "/").removeprefix("./").rstrip("/") for p in patterns]
        self._component = Globs(p for p in normal if "/" not in p)
        self._anchored = Globs(p.lstrip("/") for p in normal if "/" in p)

    def matches(self, path: str) -> bool:
        parts = self._parts(path)
        return any(self._component.fullmatch(part) for part in parts) or any(
            self._anchored.fullmatch("/".join(parts[: i + 1])) for i in range(len(parts)))

    def matches_file(self, path: str) -> bool:
        """Whether the file itself matches, not a folder above it: `docs` includes no file of docs/."""
        parts = self._parts(path)
        return bool(self._component.fullmatch(parts[-1]) or self._anchored.fullmatch("/".join(parts)))

    def _parts(self, path: str) -> tuple[str, ...]:
        relative = os.path.relpath(os.path.abspath(path), self.root)
        if relative == ".." or relative.startswith(".." + os.sep):  # outside the project: its name only
            return (os.path.basename(path),)
        return () if relative == "." else tuple(relative.split(os.sep))  # what Path(relative).parts gives, faster


