"""Formatters: findings -> text for a person or a machine. One module per format."""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")


def render(fmt: str, findings, **options) -> str:
    return importlib.import_module(f"optlint.report.{fmt}").render(findings, **options)
