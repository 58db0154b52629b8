"""The rule registry: every rule is declared once, in the front matter of its page `rules/OPTxxx.md`.

    ---
    name: unknown-param-group-key
    severity: error
    kind: runtime
    opt_in: false
    twin: OPT003
    summary: "A group key misspells a hyper-parameter of the optimizer."
    ---

`severity` is error or warning; `kind` static, runtime or static+runtime (a rule both passes check);
`opt_in: true` reports the rule only when selected by its full code. A static rule declares `fix`
(`none`, `safe`, or when it is safe); a runtime rule may name its `twin`, the static rule that finds
the same mistake in the source. The code is the page's file name. Each line is `key: value`, the
value plain or a JSON string (YAML reads printable text the same). The page's title and metadata
line are rendered from this block. Reading it imports neither libcst nor torch, so `optlint rules`,
`explain`, `--select` and the severity of any finding cost a few small file reads.
"""

from __future__ import annotations

import enum
import functools
import json
from dataclasses import dataclass
from pathlib import Path

KINDS = ("static", "runtime", "static+runtime")
FENCE = "---\n"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    kind: str = "static"  # one of KINDS
    default_enabled: bool = True
    fix: str | None = None  # a static rule's fix: "none", "safe", "safe when ..."
    twin: str | None = None  # a runtime rule's static counterpart

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.kind.split("+"))


@functools.cache
def registry() -> dict[str, RuleInfo]:
    """Every rule by code, sorted: one entry per page."""
    return {page.stem: _declaration(page) for page in sorted(docs_dir().glob("OPT*.md"))}


def docs_dir() -> Path:
    """The rule pages: `rules/` in a checkout, `optlint/rule_docs/` in a wheel (a symlink here)."""
    return Path(__file__).with_name("rule_docs")


def doc_page(code: str) -> str | None:
    """The page as `optlint explain` prints it: title and metadata line, then the text."""
    info = registry().get(code)
    if info is None:
        return None
    _, body = _split(docs_dir() / f"{code}.md")
    return f"# {code} {info.name}\n\n{metadata_line(info)}\n\n{body}"


def metadata_line(info: RuleInfo) -> str:
    fields = [f"**Severity:** {info.severity}", f"**Kind:** {' and '.join(info.kinds)}"]
    if info.fix is not None:
        fields.append(f"**Fix:** {info.fix}")
    if not info.default_enabled:
        fields.append(f"**Opt-in:** {', '.join(_opt_in_selectors(info))}")
    return " · ".join(fields)


def _opt_in_selectors(info: RuleInfo) -> list[str]:
    """Where to select an opt-in rule: the static command line first, the configuration, else the runtime one."""
    selectors = [f'`select=["{info.code}"]`']
    if "static" in info.kinds:
        return [f"`--select {info.code}`", *selectors]
    return [*selectors, f"`optlint runtime --select {info.code}`"]


def _declaration(page: Path) -> RuleInfo:
    fields, _ = _split(page)
    try:
        return _rule_info(page.stem, fields)
    except ValueError as error:
        raise ValueError(f"{page}: {error}") from None


def _rule_info(code: str, fields: dict[str, str]) -> RuleInfo:
    kind = _choice(fields, "kind", KINDS)
    static = "static" in kind
    allowed = {"name", "severity", "kind", "opt_in", "summary", "fix" if static else "twin"}
    if unknown := sorted(set(fields) - allowed):
        raise ValueError(f"unexpected key {unknown[0]!r} for a {kind} rule")
    required = allowed - {"twin"}
    if missing := sorted(required - set(fields)):
        raise ValueError(f"missing key {missing[0]!r}")
    return RuleInfo(code, fields["name"], Severity(_choice(fields, "severity", tuple(Severity))), fields["summary"],
                    kind, _choice(fields, "opt_in", ("false", "true")) == "false", fields.get("fix"),
                    fields.get("twin"))


def _choice(fields: dict[str, str], key: str, choices) -> str:
    value = fields.get(key)
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(map(str, choices))}, not {value!r}")
    return value


def _split(page: Path) -> tuple[dict[str, str], str]:
    """The front matter as {key: value} and the text after it."""
    text = page.read_text(encoding="utf-8")
    head, fence, body = text.removeprefix(FENCE).partition(f"\n{FENCE}")
    if not text.startswith(FENCE) or not fence:
        raise ValueError(f"{page}: the page must open with its declaration between two '---' lines")
    fields = {}
    for line in head.split("\n"):
        key, colon, value = line.partition(": ")
        if not colon or not value or key in fields:
            raise ValueError(f"{page}: expected one 'key: value' per key, got {line!r}")
        try:
            fields[key] = json.loads(value) if value.startswith('"') else value
        except ValueError:
            raise ValueError(f"{page}: {key} is not a valid JSON string: {value}") from None
    return fields, body.removeprefix("\n")
