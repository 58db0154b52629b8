"""The checked-in torch facts table equals what the installed torch says (regenerated here)."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("gen_torch_facts", ROOT / "scripts" / "gen_torch_facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_table_matches_the_installed_torch():
    generator = _generator()
    fresh = json.loads(generator.render(generator.generate()))
    table = generator.table_path(fresh["torch_version"])
    stored = json.loads(table.read_text())
    for section in fresh:
        assert stored[section] == fresh[section], f"{table.name} section {section!r} is stale: run `make facts`"


def test_there_is_a_table_for_every_release_the_generator_measures():
    generator = _generator()
    for release in generator.RELEASES:
        assert json.loads(generator.table_path(release).read_text())["torch_version"] == release
    assert sorted(p.name for p in generator.TABLES.iterdir()) == sorted(
        generator.table_path(r).name for r in generator.RELEASES)


def test_added_group_behaviour_matches_rules_md():
    """RULES.md's measured table for schedulers built before add_param_group (OPT017/OPT112), torch 2.13."""
    table = json.loads((ROOT / "optlint" / "torch_facts" / "2.13.json").read_text())["schedulers"]
    behaviour = {name: entry["added_group"].split(":")[0] for name, entry in table.items() if "added_group" in entry}
    assert {n for n, b in behaviour.items() if b == "ok"} == {
        "StepLR", "MultiStepLR", "ExponentialLR", "PolynomialLR", "ReduceLROnPlateau"}
    assert {n for n, b in behaviour.items() if b == "rescales"} == {"LinearLR", "ConstantLR", "ChainedScheduler"}
    assert {n for n, b in behaviour.items() if b == "raises"} == {
        "LambdaLR", "MultiplicativeLR", "CosineAnnealingLR", "SequentialLR", "CyclicLR", "OneCycleLR",
        "CosineAnnealingWarmRestarts"}


def test_linting_never_imports_torch(tmp_path):
    import subprocess
    import sys

    script = "import sys, optlint.cli\nfrom optlint.static.runner import lint_paths\n" \
             f"lint_paths([{str(ROOT / 'fixtures' / 'static')!r}])\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
