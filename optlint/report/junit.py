"""JUnit XML, as ruff's `--output-format junit` writes it: a test suite per file, a failed test case per
finding; a clean run is one suite with one passing case (a CI that reads JUnit wants at least one).

What comes from the linted files (names, messages quoting code) is escaped twice: control characters
as Python escapes (escape.py; XML 1.0 cannot hold most of them at all), then XML's own `&`, `<` and quotes.
"""

from __future__ import annotations

import posixpath
from itertools import groupby
from xml.sax.saxutils import escape as xml_text
from xml.sax.saxutils import quoteattr

from optlint.report.escape import escape
from optlint.report.locations import repository_path

PACKAGE = "optlint"


def render(findings, **_) -> str:
    by_file = [(path, list(group)) for path, group in groupby(findings, key=lambda f: repository_path(f.filename))]
    suites = [_suite(path, group) for path, group in by_file] or [_clean_suite()]
    counts = f'tests="{max(len(findings), 1)}" failures="{len(findings)}" errors="0"'
    return "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', f'<testsuites name="{PACKAGE}" {counts}>',
                      *suites, "</testsuites>"])


def _suite(path: str, findings) -> str:
    head = (f'    <testsuite name={_attr(path)} tests="{len(findings)}" disabled="0" errors="0" '
            f'failures="{len(findings)}" package="{PACKAGE}">')
    classname = _attr(posixpath.splitext(path)[0])
    cases = []
    for f in findings:
        message = escape(f.message)
        cases += [f'        <testcase name="{PACKAGE}.{f.code}" classname={classname} line="{f.row}" '
                  f'column="{f.column}">',
                  f"            <failure message={quoteattr(message)}>line {f.row}, col {f.column}, "
                  f"{xml_text(message)}</failure>",
                  "        </testcase>"]
    return "\n".join([head, *cases, "    </testsuite>"])


def _clean_suite() -> str:
    return "\n".join([f'    <testsuite name="{PACKAGE}" tests="1" disabled="0" errors="0" failures="0" '
                      f'package="{PACKAGE}">',
                      f'        <testcase name="No problems found" classname="{PACKAGE}"/>', "    </testsuite>"])


def _attr(text: str) -> str:
    return quoteattr(escape(text))
