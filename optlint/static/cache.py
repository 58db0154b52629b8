"""The result cache: each file's findings, keyed by a hash of its content, in `.optlint_cache/`.

One cache file per configuration: optlint's own code and torch facts (so a changed rule or a
regenerated table starts afresh), the settings and the selected rules. A file whose size, times,
inode and device (what git compares) are those of its last run is not even read: its path maps to its
content hash (as in git, a file changed within two seconds of being linted is never taken on its stat).
Findings that rest on other modules of the project (project/index.py) are kept with the imports they
resolved and the content hash of each file found: the entry is used only while each import finds the
same file with the same text. Module summaries are kept by content hash beside the findings, under the
same signature, and checked for shape before use. The cache can only make a run faster: a missing, unreadable or corrupt cache, or an entry that is no
finding, is a miss, and a failed write is ignored.

What the cache trusts: nothing that comes with a repository. Each cache file is signed (HMAC-SHA256,
its first line) with a random key of this user's, `results.key` in the user's cache folder
(`$XDG_CACHE_HOME/optlint` or `~/.cache/optlint`), made 0600 on first use and used only while it is a
regular file of this user that no one else may read or write; a cache committed to a repository, made
on another machine or by another user is therefore a miss, never a way around a finding. Without such a
key (no home, a read-only one, a platform without O_NOFOLLOW) nothing is cached. The folder is used
only when it is a real folder of this user, never a link; its files are written through new temporary
files renamed into place, so no link is ever followed, and pruning removes only regular files of this
user that carry the name and the first line of optlint's cache files. Whoever can write the user's
cache folder can hide findings from that user, as whoever can write their ~/.gitconfig can hide files.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import os
import re
import time
import types
import typing
from pathlib import Path

from optlint.findings import Edit, Finding, Fix
from optlint.static import cache_files
from optlint.static.files import content_digest

FORMAT = 2  # bump when the layout of an entry changes
KEPT_CONFIGURATIONS = 8  # cache files kept side by side (e.g. pre-commit and CI with other settings)
MAX_ENTRIES = 200_000  # past this, only the files of the latest run are kept
RACY_NS = 2_000_000_000
STAT_FIELDS = 5  # size, mtime, ctime, inode, device
KEY_NAME, KEY_BYTES = "results.key", 32
SIGNATURE_PREFIX = b"optlint-cache "
CACHE_NAME = re.compile(r"[0-9a-f]{40}\.json")
CACHE_HEADER = re.compile(rb"(optlint-cache [0-9a-f]{64}|[0-9a-f]{40})\n")  # signed, or unsigned (format 1)
CACHE_HEADER_LIMIT = 80


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


def user_cache_dir() -> Path | None:
    """optlint's folder in the user's cache; None without a home directory to keep it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = Path.home() / ".cache"
        except (RuntimeError, KeyError):  # no HOME, and no entry for this user in the password database
            return None
    return Path(base) / "optlint"


def user_key() -> bytes | None:
    """This user's secret for signing caches, made on first use; None where there is none to trust."""
    folder_path = user_cache_dir()
    if folder_path is None or not cache_files.SUPPORTED:
        return None
    try:
        folder = cache_files.open_folder(folder_path, create=True, follow=True)
    except OSError:
        return None
    try:
        key = cache_files.read_own(folder, KEY_NAME, private=True)
        if key is None and cache_files.create(folder, KEY_NAME, os.urandom(KEY_BYTES), mode=0o600):
            key = cache_files.read_own(folder, KEY_NAME, private=True)
    except OSError:
        key = None
    finally:
        os.close(folder)
    return key if key is not None and len(key) == KEY_BYTES else None


def open_cache(directory: str | os.PathLike, rules=None, settings=None) -> Cache | None:
    """The cache of this configuration in `directory`; None without a key to sign it with."""
    key = user_key()
    return Cache(directory, configuration_key(rules, settings), key) if key is not None else None


class Cache:
    content_digest = staticmethod(content_digest)  # for the runner, which imports this module only with a cache

    def __init__(self, directory: str | os.PathLike, configuration: str, key: bytes):
        self.directory = Path(directory)
        self.name = f"{configuration}.json"
        self.key = key
        # content hash -> findings (or {"findings", "dependencies"}); path -> [*stat, hash]; hash -> summary
        self.entries, self.stats, self.summaries = self._load()
        self.used_entries: dict[str, list | dict] = {}
        self.used_summaries: dict[str, dict] = {}
        # Whether a file's recorded imports still find the same files (project.index.Project.fresh); an
        # entry with dependencies is a miss without it.
        self.fresh = None
        self.used_stats: dict[str, list] = {}
        self.changed = False
        self.trusted_before = time.time_ns() - RACY_NS
        self._stat_now: dict[str, os.stat_result] = {}

    def recall(self, path: str) -> list[Finding] | None:
        """The findings of a file whose stat (as git compares it) is unchanged since its last run."""
        digest = self.known_digest(path)
        return self.get(digest, path) if digest is not None else None

    def known_digest(self, path: str) -> str | None:
        """The content hash of a file whose stat is unchanged since a run hashed it."""
        try:
            stat = self._stat_now[path] = os.stat(path)
        except OSError:
            return None
        known = self.stats.get(path)
        if not (isinstance(known, list) and len(known) == STAT_FIELDS + 1 and isinstance(known[-1], str)):
            return None
        return known[-1] if known[:-1] == _compared(stat) else None

    def get(self, digest: str, path: str) -> list[Finding] | None:
        entry = self.entries.get(digest)
        if entry is None:
            return None
        try:
            if isinstance(entry, dict) and not (self.fresh is not None and self.fresh(path, entry["dependencies"])):
                return None  # findings that rest on other files, changed (or not checked) since
            findings = [_finding(item, path) for item in (entry["findings"] if isinstance(entry, dict) else entry)]
        except (TypeError, KeyError, ValueError, AttributeError):
            return None  # a corrupt entry: lint the file again
        self.used_entries[digest] = entry
        self._remember(path, digest)
        return findings

    def put(self, digest: str, path: str, findings: list[Finding], dependencies: list | None = None) -> None:
        entry: list | dict = [_entry(f) for f in findings]
        if dependencies:
            entry = {"findings": entry, "dependencies": dependencies}
        try:
            json.dumps(entry)
        except (TypeError, ValueError):
            return  # a finding whose `extra` is no JSON: never cached
        self.used_entries[digest] = self.entries[digest] = entry
        self.changed = True
        self._remember(path, digest)

    def summary(self, digest: str) -> dict | None:
        """The module summary (project/summary.py) cached for a content hash; checked where it is used."""
        found = self.summaries.get(digest)
        if found is not None:
            self.used_summaries[digest] = found
        return found

    def put_summaries(self, summaries: dict[str, dict]) -> None:
        for digest, summary in summaries.items():
            if self.summaries.get(digest) != summary:
                self.summaries[digest] = summary
                self.changed = True
            self.used_summaries[digest] = summary

    def _remember(self, path: str, digest: str) -> None:
        stat = self._stat_now.get(path)
        if stat is None or max(stat.st_mtime_ns, stat.st_ctime_ns) >= self.trusted_before:
            return
        known = [*_compared(stat), digest]
        self.used_stats[path] = known
        if self.stats.get(path) != known:
            self.stats[path] = known
            self.changed = True

    def save(self) -> None:
        if not self.changed:
            return
        if max(len(self.entries), len(self.stats), len(self.summaries)) > MAX_ENTRIES:
            self.entries, self.stats, self.summaries = self.used_entries, self.used_stats, self.used_summaries
        payload = json.dumps({"format": FORMAT, "entries": self.entries, "stats": self.stats,
                              "summaries": self.summaries}, separators=(",", ":")).encode()
        try:
            folder = cache_files.open_folder(self.directory, create=True)
        except OSError:
            return  # a read-only checkout, a link or a file where the folder belongs: run without a cache
        try:
            if os.fstat(folder).st_uid == os.geteuid():
                cache_files.write(folder, ".gitignore", b"# written by optlint\n*\n")
                cache_files.write(folder, self.name, self.signed(payload))
                self._prune(folder)
        except OSError:
            pass
        finally:
            os.close(folder)

    def _load(self) -> tuple[dict[str, list | dict], dict[str, list], dict[str, dict]]:
        try:
            folder = cache_files.open_folder(self.directory, create=False)
        except OSError:
            return {}, {}, {}
        try:
            signature, _, payload = (cache_files.read_own(folder, self.name) or b"").partition(b"\n")
        finally:
            os.close(folder)
        if not hmac.compare_digest(signature, self._signature(payload)):
            return {}, {}, {}  # not signed with this user's key: another's, forged, truncated or changed by hand
        try:
            data = json.loads(payload)
            entries, stats, summaries = data["entries"], data["stats"], data.get("summaries", {})
            if data["format"] == FORMAT and all(isinstance(d, dict) for d in (entries, stats, summaries)):
                return entries, stats, summaries
        except (ValueError, TypeError, KeyError, AttributeError):  # UnicodeDecodeError is a ValueError
            pass
        return {}, {}, {}

    def signed(self, payload: bytes) -> bytes:
        """The file's content: the payload under its signature (this user's key and this configuration)."""
        return self._signature(payload) + b"\n" + payload

    def _signature(self, payload: bytes) -> bytes:
        mac = hmac.new(self.key, self.name.encode() + b"\n" + payload, hashlib.sha256)
        return SIGNATURE_PREFIX + mac.hexdigest().encode()

    def _prune(self, folder: int) -> None:
        caches = [(entry.stat(follow_symlinks=False).st_mtime_ns, entry.name) for entry in os.scandir(folder)
                  if CACHE_NAME.fullmatch(entry.name) and _is_optlint_cache(folder, entry.name)]
        for _, name in sorted(caches, reverse=True)[KEPT_CONFIGURATIONS:]:
            os.unlink(name, dir_fd=folder)


def _compared(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


def _is_optlint_cache(folder: int, name: str) -> bool:
    """A regular file of this user headed as optlint heads its caches (or did, before they were signed)."""
    head = cache_files.read_own(folder, name, limit=CACHE_HEADER_LIMIT)
    return head is not None and CACHE_HEADER.match(head) is not None


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
