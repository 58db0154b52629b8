"""[tool.optlint]: discovery, the error matrix, rule selection like ruff's, path patterns, flags over the file."""

import contextlib
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint import config as cfg
from optlint.cli import main
from optlint.findings import Finding, RuleInfo, Severity
from optlint.static.rule import Rule

BAD = "import torch\nopt = torch.optim.Adam(params, learning_rate=1e-3)\n"
CLEAN = "import torch\nopt = torch.optim.Adam(params, lr=1e-3)\n"


def project(tmp_path: Path, toml: str, files: dict[str, str] | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    for name, text in (files or {"train.py": BAD}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def run_check(*args: str, cwd: Path, input: str | None = None):
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, ["check", *args], input=input)


# --- discovery ---------------------------------------------------------------------------------------


def test_nearest_pyproject_with_an_optlint_table_is_found_from_a_nested_path(tmp_path):
    project(tmp_path, '[tool.optlint]\nignore = ["OPT001"]\n', {"src/pkg/train.py": BAD})
    (tmp_path / "src" / "pyproject.toml").write_text('[project]\nname = "inner"\n')  # no table: keep walking
    assert cfg.find([str(tmp_path / "src" / "pkg" / "train.py")]) == tmp_path / "pyproject.toml"
    result = run_check("src/pkg/train.py", cwd=tmp_path)
    assert result.exit_code == 0, result.output


def test_config_is_found_from_the_linted_path_not_the_working_directory(tmp_path):
    root = project(tmp_path / "proj", '[tool.optlint]\nignore = ["OPT001"]\n')
    assert run_check(str(root / "train.py"), cwd=tmp_path).exit_code == 0


def test_isolated_ignores_the_file_and_config_points_at_another(tmp_path):
    root = project(tmp_path, '[tool.optlint]\nignore = ["OPT001"]\n')
    assert run_check("--isolated", "train.py", cwd=root).exit_code == 1
    other = tmp_path / "other.toml"
    other.write_text('[tool.optlint]\nselect = ["OPT002"]\n')
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nselect = ["OPT001"]\n')
    assert run_check("--config", str(other), "train.py", cwd=root).exit_code == 0
    assert run_check("--config", str(other), "--isolated", "train.py", cwd=root).exit_code == 2


# --- the error matrix: one line naming the file and the key, exit 2 ---------------------------------------

ERRORS = [
    ('selct = ["OPT001"]', "selct: unknown key. Did you mean `select`?"),
    ('extend_select = ["OPT001"]', "extend_select: unknown key. Did you mean `extend-select`?"),
    ('select = ["OPT999"]', "select: unknown rule code or prefix `OPT999`."),
    ('ignore = ["opt001"]', "ignore: unknown rule code or prefix `opt001`. Did you mean `OPT001`?"),
    ('ignore = ["E501"]', "ignore: unknown rule code or prefix `E501`."),
    ('select = "OPT001"', "select: expected a list of strings, got a string ('OPT001')"),
    ("extend-select = [1]", "extend-select: expected a list of strings, got a list ([1])"),
    ('per-file-ignores = ["tests/*"]', "per-file-ignores: expected a table of glob = [codes]"),
    ('per-file-ignores = { "tests/*" = ["OPT0111"] }', 'per-file-ignores "tests/*": unknown rule code'),
    ("exclude = true", "exclude: expected a list of strings, got a boolean (True)"),
    ('extend-exclude = ["[!]"]', "extend-exclude: `[!]` is not a valid glob: [!] is not a character class"),
    ('extend-include = ["doc[z-a].md"]', "extend-include: `doc[z-a].md` is not a valid glob: [z-a] is not a"),
    ('per-file-ignores = { "[!]" = ["OPT011"] }', "per-file-ignores: `[!]` is not a valid glob"),
    ('output-format = "xml"', "output-format: expected one of text, json, sarif, github, gitlab, junit, got a string ('xml')"),
    ('respect-gitignore = "no"', "respect-gitignore: expected true or false, got a string ('no')"),
    ('scheduler-names = ["my sched"]', "scheduler-names: `my sched` is not a Python name"),
    ('optimizer-step-names = "step"', "optimizer-step-names: expected a list of strings"),
]


@pytest.mark.parametrize(("toml", "message"), ERRORS, ids=[e[0].split(" ")[0] for e in ERRORS])
def test_bad_configuration_is_one_clear_error_naming_the_file_and_key(tmp_path, toml, message):
    root = project(tmp_path, f"[tool.optlint]\n{toml}\n")
    result = run_check("train.py", cwd=root)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"optlint: error: {root / 'pyproject.toml'}: [tool.optlint] ")
    assert message in lines[0]


def test_invalid_toml_names_the_file(tmp_path):
    root = project(tmp_path, "[tool.optlint]\nselect = [\n")
    result = run_check("train.py", cwd=root)
    assert result.exit_code == 2
    assert f"{root / 'pyproject.toml'}: invalid TOML" in result.output


def test_config_file_without_a_table_or_missing_is_an_error(tmp_path):
    project(tmp_path, '[project]\nname = "x"\n')
    result = run_check("--config", "pyproject.toml", "train.py", cwd=tmp_path)
    assert result.exit_code == 2 and "no [tool.optlint] table" in result.output
    result = run_check("--config", "missing.toml", "train.py", cwd=tmp_path)
    assert result.exit_code == 2 and "missing.toml" in result.output


def test_a_glob_that_is_no_glob_on_the_command_line_is_a_usage_error(tmp_path):
    result = run_check("--extend-exclude", "legacy,[!]", "-", cwd=tmp_path, input=BAD)
    assert result.exit_code == 2
    assert "Invalid value for '--extend-exclude': `[!]` is not a valid glob" in result.output


def test_unknown_code_on_the_command_line_is_a_usage_error(tmp_path):
    result = run_check("--select", "OPT001,OPT0x", "-", cwd=tmp_path, input=BAD)
    assert result.exit_code == 2
    assert "Invalid value for '--select': unknown rule code or prefix `OPT0x`" in result.output


# --- rule selection ------------------------------------------------------------------------------------

REGISTRY = {
    code: RuleInfo(code, code.lower(), Severity.ERROR, "", "static", default_enabled=code != "OPT018")
    for code in ("OPT000", "OPT001", "OPT002", "OPT011", "OPT012", "OPT018", "OPT101")
}


@pytest.fixture
def fake_registry(monkeypatch):
    monkeypatch.setattr(cfg, "registry", lambda: REGISTRY)


def enabled(*layers: dict) -> set[str]:
    return set(cfg.enabled_codes([cfg.Options(**layer) for layer in layers]))


def test_default_set_is_every_rule_not_marked_opt_in(fake_registry):
    assert enabled({}) == set(REGISTRY) - {"OPT018"}


def test_prefix_selects_a_family_but_never_an_opt_in_rule(fake_registry):
    assert enabled({"select": ("OPT01",)}) == {"OPT011", "OPT012"}
    assert enabled({"select": ("OPT0",)}) == {"OPT000", "OPT001", "OPT002", "OPT011", "OPT012"}
    assert enabled({"extend_select": ("OPT018",)}) == set(REGISTRY)


def test_most_specific_selector_wins_and_ignore_wins_a_tie(fake_registry):
    assert enabled({"select": ("OPT0",), "ignore": ("OPT01",)}) == {"OPT000", "OPT001", "OPT002"}
    assert enabled({"select": ("OPT011",), "ignore": ("OPT01",)}) == {"OPT011"}
    assert enabled({"select": ("OPT011",), "ignore": ("OPT011",)}) == set()


def test_command_line_layer_overrides_the_file(fake_registry):
    file_layer = {"select": ("OPT01",), "ignore": ("OPT012",)}
    assert enabled(file_layer) == {"OPT011"}
    assert enabled(file_layer, {"extend_select": ("OPT012",)}) == {"OPT011", "OPT012"}
    assert enabled(file_layer, {"select": ("OPT002",)}) == {"OPT002"}
    assert enabled(file_layer, {"ignore": ("OPT0",)}) == set()


def test_ignored_and_selected_rules_change_what_check_reports(tmp_path):
    root = project(tmp_path, '[tool.optlint]\nselect = ["OPT002"]\n')
    assert run_check("train.py", cwd=root).exit_code == 0
    result = run_check("--extend-select", "OPT00", "train.py", cwd=root)
    assert result.exit_code == 1 and "OPT001" in result.output


def test_syntax_error_code_can_be_ignored(tmp_path):
    root = project(tmp_path, '[tool.optlint]\nignore = ["OPT000"]\n', {"broken.py": "from torch.optim import SGD\nx = (\n"})
    assert run_check("broken.py", cwd=root).exit_code == 0
    assert run_check("--isolated", "broken.py", cwd=root).exit_code == 2  # bad input


# --- per-file ignores and exclusions ---------------------------------------------------------------------


def test_per_file_ignores_match_globs_relative_to_the_config(tmp_path):
    files = {"tests/test_train.py": BAD, "pkg/__init__.py": BAD, "pkg/train.py": BAD}
    root = project(tmp_path, """
        [tool.optlint]
        per-file-ignores = { "tests/**" = ["OPT0"], "__init__.py" = ["OPT001"] }
    """, files)
    result = run_check("--output-format", "json", ".", cwd=root)
    assert result.exit_code == 1
    assert '"filename": "pkg/train.py"' in result.output or '"filename": "./pkg/train.py"' in result.output
    assert "test_train" not in result.output and "__init__" not in result.output


def test_extend_exclude_skips_directories_and_files_named_on_the_command_line(tmp_path):
    files = {"legacy/old.py": BAD, "gen/model_pb2.py": BAD, "train.py": CLEAN}
    root = project(tmp_path, '[tool.optlint]\nextend-exclude = ["legacy/", "*_pb2.py"]\n', files)
    assert run_check(".", cwd=root).exit_code == 0
    # pre-commit names every staged file: the exclusions still hold.
    assert run_check("legacy/old.py", "gen/model_pb2.py", "train.py", cwd=root).exit_code == 0
    assert run_check("--isolated", "legacy/old.py", cwd=root).exit_code == 1


def test_exclude_replaces_the_default_list(tmp_path):
    root = project(tmp_path, '[tool.optlint]\nexclude = [".git"]\n', {"build/train.py": BAD})
    assert run_check(".", cwd=root).exit_code == 1
    assert run_check("--isolated", ".", cwd=root).exit_code == 0  # build/ is skipped by default
    assert run_check("--exclude", "build", ".", cwd=root).exit_code == 0


def test_everything_excluded_warns_and_passes(tmp_path):
    root = project(tmp_path, '[tool.optlint]\nextend-exclude = ["train.py"]\n')
    result = run_check("train.py", cwd=root)
    assert result.exit_code == 0
    assert "no Python files found" in result.output


def test_path_patterns_are_gitignore_like(tmp_path):
    patterns = cfg.PathPatterns(["legacy/", "*_pb2.py", "src/old", "tests/**/*.py"], tmp_path)
    inside = lambda p: str(tmp_path / p)  # noqa: E731
    assert patterns.matches(inside("legacy/a.py")) and patterns.matches(inside("x/legacy/a.py"))
    assert patterns.matches(inside("src/old/b.py")) and not patterns.matches(inside("x/src/old/b.py"))
    assert patterns.matches(inside("deep/a_pb2.py")) and not patterns.matches(inside("a_pb2.pyi"))
    assert patterns.matches(inside("tests/a.py")) and patterns.matches(inside("tests/x/y.py"))
    assert not patterns.matches(inside("train.py"))
    # Outside the project only the name counts: a parent directory called `legacy` is not the project's.
    assert not patterns.matches(str(tmp_path.parent / "legacy" / "a.py"))


# --- output format and rule settings ---------------------------------------------------------------------


def test_output_format_comes_from_the_file_and_the_flag_wins(tmp_path):
    root = project(tmp_path, '[tool.optlint]\noutput-format = "github"\n')
    assert run_check("train.py", cwd=root).output.startswith("::error file=train.py,line=2,")
    assert run_check("--output-format", "json", "train.py", cwd=root).output.startswith("[")


class SettingsProbe(Rule):
    """Reports the settings it was given, so the test sees what reached the rules."""

    code, name, severity, summary = "OPT001", "settings-probe", Severity.ERROR, "probe"

    def check(self, ctx) -> None:
        ctx.report(ctx.module.body[0], repr(sorted(ctx.settings.items())))


def test_rule_settings_reach_the_rules(tmp_path, monkeypatch):
    monkeypatch.setattr(cfg.Config, "rules", lambda self: (SettingsProbe,))
    root = project(tmp_path, """
        [tool.optlint]
        optimizer-step-names = ["optimizer_step", "utils.train_step"]
        scheduler-names = ["warmup"]
    """)
    result = run_check("--output-format", "json", "train.py", cwd=root)
    assert "('optimizer_step_names', ('optimizer_step', 'utils.train_step'))" in result.output
    assert "('scheduler_names', ('warmup',))" in result.output
    isolated = run_check("--isolated", "--output-format", "json", "train.py", cwd=root)
    assert "('optimizer_step_names', ()), ('scheduler_names', ())" in isolated.output


def test_every_documented_key_is_accepted(tmp_path):
    root = project(tmp_path, """
        [tool.optlint]
        select = ["OPT0"]
        extend-select = ["OPT002"]
        ignore = ["OPT002"]
        per-file-ignores = { "tests/**" = ["OPT002"] }
        exclude = [".git", ".venv"]
        extend-exclude = ["legacy/"]
        extend-include = ["*.md"]
        output-format = "text"
        respect-gitignore = false
        optimizer-step-names = ["optimizer_step"]
        scheduler-names = ["warmup"]
        target-torch = "2.6"
    """)
    options = cfg.read(root / "pyproject.toml")
    assert options.respect_gitignore is False
    assert options.select == ("OPT0",) and options.per_file_ignores == (("tests/**", ("OPT002",)),)
    assert set(cfg.KEYS) == {key for key in (root / "pyproject.toml").read_text().split() if key in cfg.KEYS}


def test_keeps_drops_unselected_and_per_file_ignored_codes(tmp_path):
    config = cfg.resolve([cfg.Options(per_file_ignores=(("tests/**", ("OPT001",)),), ignore=("OPT002",))], tmp_path)
    keep = lambda code, name: config.keeps(Finding(code, "m", str(tmp_path / name)))  # noqa: E731
    assert keep("OPT001", "train.py") and not keep("OPT001", "tests/t.py")
    assert not keep("OPT002", "train.py")


def test_readme_configuration_example_is_valid(tmp_path, monkeypatch):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("\n## Configuration\n", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    # The example may name rules of the whole catalogue; keys and value shapes are what is checked here.
    catalogue = {f"OPT{n:03d}": REGISTRY["OPT001"] for n in range(200)}
    monkeypatch.setattr(cfg, "registry", lambda: catalogue)
    (tmp_path / "pyproject.toml").write_text(example, encoding="utf-8")
    options = cfg.read(tmp_path / "pyproject.toml")
    assert options.settings["scheduler_names"] == ("warmup", "lr_policy")


def test_configured_step_and_scheduler_names_drive_the_loop_rules(tmp_path):
    """`scheduler-names`/`optimizer-step-names` let the loop rules see names no convention covers,
    even in a file the prefilter would otherwise skip."""
    script = "for epoch in range(3):\n    warm.step()\n    for batch in loader:\n        train_step(model, batch)\n"
    settings = '[tool.optlint]\nscheduler-names = ["warm"]\noptimizer-step-names = ["train_step"]\n'
    root = project(tmp_path, settings, {"train.py": script})
    configured = run_check("train.py", cwd=root)
    assert configured.exit_code == 1 and "OPT011" in configured.output
    assert run_check("--isolated", "train.py", cwd=root).exit_code == 0
