"""`make demo` (scripts/demo.py): colour on a terminal only, as `optlint check` does."""

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


@pytest.fixture
def demo(monkeypatch):
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "STEPS", [("Correct code", ["check", "--no-cache", "fixtures/static/good"])])
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return module


def test_piped_demo_prints_no_escape_codes(demo, capfd):
    assert demo.main() == 0
    out = capfd.readouterr().out
    assert "== Correct code\n$ optlint check" in out and "\x1b[" not in out


def test_force_color_makes_the_headings_bold_and_no_color_wins(demo, capfd, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    demo.main()
    assert "\x1b[1m== Correct code\x1b[0m" in capfd.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    demo.main()
    assert "\x1b[" not in capfd.readouterr().out
