"""The result cache: each file's findings, keyed by a hash of its content, in `.optlint_cache/`.

One cache file per configuration: optlint's own code and torch facts (so a changed rule or a
regenerated table starts afresh), the settings and the selected rules. A file whose size and
modification time are those of its last run is not even read: its path maps to its content hash
(as in git, a file modified within two seconds of being linted is never taken on its times alone).
The cache can only make a run faster: a missing, unreadable or corrupt cache (its first line is a
checksum of the rest), or an entry that is no finding, is a miss, and a failed write is ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
import types
import typing
from pathlib import Path

from optlint.findings import Edit, Finding, Fix

FORMAT = 1  # bump when the layout of an entry changes
KEPT_CONFIGURATIONS = 8  # cache files kept side by side (e.g. pre-commit and CI with other settings)
MAX_ENTRIES = 200_000  # past this, only the files of the latest run are kept
RACY_NS = 2_000_000_000


def content_digest(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()  # SHA-1 is the fastest hashlib has


def configuration_key(rules=None, settings=None) -> str:
    digest = hashlib.sha1(f"format {FORMAT}\n".encode(), usedforsecurity=False)
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json") and path.is_file():
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    names = "all" if rules is None else getattr(rules, "key", None) or sorted(
        f"{r.__module__}.{r.__qualname__}" for r in rules)
    digest.update(json.dumps([names, settings or {}], sort_keys=True, default=_plain).encode())
    return digest.hexdigest()


def _plain(value):
    return sorted(value) if isinstance(value, (set, frozenset)) else repr(value)


class Cache:
    def __init__(self, directory: str | os.PathLike, key: str):
        self.directory = Path(directory)
        self.path = self.directory / f"{key}.json"
        self.entries, self.stats = self._load()  # content hash -> findings; path -> [size, mtime, hash]
        self.used_entries: dict[str, list] = {}
        self.used_stats: dict[str, list] = {}
        self.changed = False
        self.trusted_before = time.time_ns() - RACY_NS
        self._stat_now: dict[str, os.stat_result] = {}

    def recall(self, path: str) -> list[Finding] | None:
        """The findings of a file whose size and modification time are unchanged since its last run."""
        try:
            stat = self._stat_now[path] = os.stat(path)
        except OSError:
            return None
        known = self.stats.get(path)
        if not (isinstance(known, list) and len(known) == 3 and isinstance(known[2], str)):
            return None
        return self.get(known[2], path) if known[:2] == [stat.st_size, stat.st_mtime_ns] else None

    def get(self, digest: str, path: str) -> list[Finding] | None:
        entry = self.entries.get(digest)
        if entry is None:
            return None
        try:
            findings = [_finding(item, path) for item in entry]
        except (TypeError, KeyError, ValueError, AttributeError):
            return None  # a corrupt entry: lint the file again
        self.used_entries[digest] = entry
        self._remember(path, digest)
        return findings

    def put(self, digest: str, path: str, findings: list[Finding]) -> None:
        entry = [_entry(f) for f in findings]
        try:
            json.dumps(entry)
        except (TypeError, ValueError):
            return  # a finding whose `extra` is no JSON: never cached
        self.used_entries[digest] = self.entries[digest] = entry
        self.changed = True
        self._remember(path, digest)

    def _remember(self, path: str, digest: str) -> None:
        stat = self._stat_now.get(path)
        if stat is None or stat.st_mtime_ns >= self.trusted_before:
            return
        known = [stat.st_size, stat.st_mtime_ns, digest]
        self.used_stats[path] = known
        if self.stats.get(path) != known:
            self.stats[path] = known
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        if len(self.entries) > MAX_ENTRIES or len(self.stats) > MAX_ENTRIES:
            self.entries, self.stats = self.used_entries, self.used_stats
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / ".gitignore").write_text("# written by optlint\n*\n", encoding="utf-8")
            payload = json.dumps({"format": FORMAT, "entries": self.entries, "stats": self.stats},
                                 separators=(",", ":")).encode()
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")  # renamed into place: never half-written
            temporary.write_bytes(content_digest(payload).encode() + b"\n" + payload)
            os.replace(temporary, self.path)
            self._prune()
        except OSError:
            pass  # a read-only checkout: run without a cache

    def _load(self) -> tuple[dict[str, list], dict[str, list]]:
        try:
            checksum, _, payload = self.path.read_bytes().partition(b"\n")
            if checksum.decode() != content_digest(payload):
                return {}, {}  # truncated, or changed by hand
            data = json.loads(payload)
            entries, stats = data["entries"], data["stats"]
            if data["format"] == FORMAT and isinstance(entries, dict) and isinstance(stats, dict):
                return entries, stats
        except (OSError, ValueError, TypeError, KeyError):  # UnicodeDecodeError is a ValueError
            pass
        return {}, {}

    def _prune(self) -> None:
        others = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in others[KEPT_CONFIGURATIONS:]:
            old.unlink(missing_ok=True)


def _entry(finding: Finding) -> dict:
    entry = dataclasses.asdict(finding)
    del entry["filename"]
    return entry


def _finding(entry: dict, filename: str) -> Finding:
    """The finding an entry holds; ValueError (or TypeError, KeyError) when it is corrupt."""
    fix = entry.get("fix")
    if fix is not None:
        fix = _checked(Fix(fix["title"], tuple(_checked(Edit(**e)) for e in fix["edits"]), fix["safe"]))
    return _checked(Finding(**{**entry, "fix": fix, "filename": filename}))


def _checked(instance):
    """The dataclass instance, when each field holds a value of its declared type."""
    for name, expected in _field_types(type(instance)).items():
        if not isinstance(getattr(instance, name), expected):
            raise ValueError(f"corrupt {type(instance).__name__}.{name}")
    return instance


@functools.cache
def _field_types(cls: type) -> dict[str, type]:
    hints = typing.get_type_hints(cls)
    plain = {n: typing.get_origin(h) if isinstance(h, types.GenericAlias) else h for n, h in hints.items()}
    return {f.name: plain[f.name] for f in dataclasses.fields(cls)}  # `tuple[Edit, ...]`: a tuple
