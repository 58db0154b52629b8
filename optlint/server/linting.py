"""Lint an editor's in-memory text as `optlint check FILE` lints the file on disk: the same engine, the
nearest `[tool.optlint]` (found per file), exclusions and per-file-ignores, and OPT000 for a text that
does not parse. No exception escapes: what the CLI would print as an error line comes back as one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from optlint import __version__, config
from optlint.config import Config, ConfigError, Options
from optlint.findings import Finding
from optlint.static.files import MAX_FILE_BYTES
from optlint.static.reparse import Document
from optlint.static.runner import lint_text

# The editor's settings (`initializationOptions` or `workspace/didChangeConfiguration`, section
# "optlint") are a layer over the file, as the command line's options are: key -> Options field.
EDITOR_SELECTORS = {"select": "select", "extendSelect": "extend_select", "ignore": "ignore"}


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    problem: str | None = None  # one line, as the CLI's `optlint: error:` line would say it


def editor_options(settings: Mapping | None) -> Options:
    """The editor's `optlint` settings as a configuration layer; ConfigError for a bad value."""
    settings = settings or {}
    if not isinstance(settings, Mapping):
        raise ConfigError(f"editor settings: expected an object, got {settings!r}")
    unknown = sorted(set(settings) - set(EDITOR_SELECTORS))
    if unknown:
        raise ConfigError(f"editor settings: unknown key `{unknown[0]}` (known: {', '.join(EDITOR_SELECTORS)})")
    chosen = {EDITOR_SELECTORS[key]: config.selectors(value, f"editor settings: {key}")
              for key, value in settings.items() if value is not None}
    return Options(**{"extend_select": (), "ignore": (), **chosen})


class Configurations:
    """Each file's configuration, kept until a pyproject.toml or the editor's settings change.

    `root_of(path)`: the workspace folder holding a file, where path patterns are anchored when no
    pyproject.toml configures it (the CLI anchors them at the current directory)."""

    def __init__(self, root_of: Callable[[str], Path]):
        self.root_of = root_of
        self.overrides = Options()
        self._sources: dict[str, Path | None] = {}  # directory -> its nearest configuring pyproject.toml
        self._configs: dict[Path, Config] = {}

    def forget(self) -> None:
        self._sources.clear()
        self._configs.clear()

    def set_editor_settings(self, settings: Mapping | None) -> None:
        """Raises ConfigError for bad settings, which are then dropped: the files alone configure the lint."""
        self.forget()
        self.overrides = Options()
        self.overrides = editor_options(settings)

    def for_path(self, path: str) -> Config:
        directory = os.path.dirname(os.path.abspath(path))
        source = self._sources.get(directory, False)
        if source is False:
            source = self._sources[directory] = config.find([path])
        key = source or self.root_of(path)
        chosen = self._configs.get(key)  # read once: the event loop may forget() meanwhile
        if chosen is None:
            layers = [config.read(source), self.overrides] if source else [self.overrides]
            chosen = self._configs[key] = config.resolve(layers, source.parent.resolve() if source else key, source)
        return chosen


def lint(text: str, path: str, configurations: Configurations, document: Document | None = None) -> Outcome:
    """The findings `optlint check` keeps for `path` holding `text`, or the one line saying why there are none.
    `document`: the last parse of the editor's document, re-parsed where the text changed."""
    try:
        chosen = configurations.for_path(path)
    except ConfigError as error:
        return Outcome(problem=str(error))
    if chosen.is_excluded(path):
        return Outcome()
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        return Outcome(problem=f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB, optlint's limit for one file; "
                               "skipped")
    try:
        findings = lint_text(text, path, chosen.rules(), chosen.settings, document)
    except RecursionError:
        return Outcome(problem=f"{path}: too deeply nested for optlint to analyse; skipped")
    except Exception as error:  # noqa: BLE001 - one document's crash must not stop the server
        return Outcome(problem=f"{path}: internal error in optlint {__version__}: {type(error).__name__}: {error}. "
                               "Please report it with this file.")
    return Outcome(sorted((f for f in findings if chosen.keeps(f)), key=Finding.sort_key))
