"""SARIF 2.1.0 for GitHub code scanning and other viewers: every static rule's metadata, with its page
from rules/*.md as help, and one result per finding (relative paths under %SRCROOT%, the repository's
root: see locations.py).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

from optlint import __version__
from optlint.findings import Severity
from optlint.registry import doc_page, registry
from optlint.report.locations import relative_to_root, report_root

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
ROOT = "%SRCROOT%"


def render(findings, **_) -> str:
    infos = [info for info in registry().values() if "static" in info.kinds]
    index = {info.code: i for i, info in enumerate(infos)}
    run = {
        "tool": {"driver": {"name": "optlint", "semanticVersion": __version__, "version": __version__,
                            "rules": [_rule(info) for info in infos]}},
        "originalUriBaseIds": {ROOT: {"uri": Path(report_root()).as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index) for f in findings],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _level(severity: Severity) -> str:
    return "error" if severity == Severity.ERROR else "warning"


def _rule(info) -> dict:
    page = doc_page(info.code) or f"# {info.code} {info.name}\n\n{info.summary}\n"
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": _section(page, "What it does") or info.summary},
        "help": {"text": page, "markdown": page},
        "defaultConfiguration": {"level": _level(info.severity), "enabled": info.default_enabled},
        "properties": {"tags": ["pytorch", "optimizer"], "precision": "high", "problem.severity": _level(info.severity)},
    }


def _section(page: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", page, re.MULTILINE | re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


def _result(f, index: dict[str, int]) -> dict:
    location = _artifact(f.filename)
    result = {
        "ruleId": f.code,
        "level": _level(f.severity),
        "message": {"text": f"{f.message} {f.hint}" if f.hint else f.message},
        "locations": [{"physicalLocation": {"artifactLocation": location, "region": {
            "startLine": f.row, "startColumn": f.column, "endLine": f.end_row, "endColumn": f.end_column}}}],
    }
    if f.cell:  # the region's rows are the cell's; the cell is a logical part of the notebook
        result["locations"][0]["logicalLocations"] = [{"name": f"cell {f.cell}", "kind": "module"}]
        result["properties"] = {"cell": f.cell}
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if f.fix is not None:
        result["fixes"] = [{
            "description": {"text": f.fix.title + ("" if f.fix.safe else " (unsafe: needs --unsafe-fixes)")},
            "artifactChanges": [{"artifactLocation": location, "replacements": [
                {"deletedRegion": {"charOffset": e.start, "charLength": e.end - e.start},
                 "insertedContent": {"text": e.replacement}} for e in f.fix.edits]}],
        }]
    return result


def _artifact(filename: str) -> dict:
    """A path under the root relative to %SRCROOT% (what code scanning expects), else a file URI."""
    relative = relative_to_root(filename)
    if relative is None:
        return {"uri": Path(os.path.abspath(filename)).as_uri()}
    return {"uri": quote(relative), "uriBaseId": ROOT}
