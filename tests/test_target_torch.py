"""The target-torch setting: explicit (file, flag), from the project's own torch requirement, else the
newest known; and a rule whose fact differs by release (OPT002 `verbose=`) answering for the target."""

import textwrap

import pytest

from optlint import config as cfg
from optlint import facts
from optlint.static.runner import lint_text
from tests.test_config import project, run_check

VERBOSE = "from torch.optim.lr_scheduler import StepLR\ns = StepLR(opt, 10, verbose=True)\n"
NEWEST = facts.newest()


def target_of(tmp_path, toml: str) -> str | None:
    root = project(tmp_path, toml)
    return cfg.load([str(root / "train.py")]).settings["target_torch"]


def test_every_release_from_2_1_to_the_newest_has_a_table():
    assert facts.known_versions() == tuple(f"2.{minor}" for minor in range(1, 14))
    for version in facts.known_versions():
        assert facts.load(version).minor == version


def test_explicit_target_in_the_file_and_on_the_command_line(tmp_path):
    assert target_of(tmp_path, '[tool.optlint]\ntarget-torch = "2.6"\n') == "2.6"
    overridden = cfg.load([str(tmp_path / "train.py")], cfg.Options(target_torch="2.3"))
    assert overridden.settings["target_torch"] == "2.3"


@pytest.mark.parametrize("where", [
    '[project]\nname = "p"\ndependencies = ["numpy", {!r}]\n',
    '[project]\nname = "p"\n[project.optional-dependencies]\ngpu = [{!r}]\n',
    '[dependency-groups]\ndev = [{!r}]\n',
])
@pytest.mark.parametrize("requirement, target", [
    ("torch>=2.4", "2.4"),
    ("torch==2.6.*", "2.6"),
    ("torch~=2.3.1", "2.3"),
    ("Torch[opt-einsum]>=2.2,<2.8; python_version >= '3.10'", "2.2"),
    ("torch>=2.4.2", "2.5"),  # 2.4.1 is the last 2.4 release: pip would install 2.5
    ("torch>=1.13", "2.1"),
])
def test_a_lower_bound_makes_the_target_the_oldest_known_release_it_admits(tmp_path, where, requirement, target):
    assert target_of(tmp_path, where.format(requirement) + "[tool.optlint]\n") == target


@pytest.mark.parametrize("requirement, target", [("torch", NEWEST), ("torch<2.5", "2.4"), ("torch!=2.13.0", "2.12")])
def test_without_a_lower_bound_the_target_is_the_newest_release_pip_would_install(tmp_path, requirement, target):
    assert target_of(tmp_path, f'[project]\nname = "p"\ndependencies = [{requirement!r}]\n') == target


def test_several_requirements_give_the_oldest_of_their_targets(tmp_path):
    toml = '[project]\nname = "p"\ndependencies = ["torch"]\n[project.optional-dependencies]\nold = ["torch>=2.4"]\n'
    assert target_of(tmp_path, toml) == "2.4"


def test_without_a_torch_requirement_the_target_is_the_newest(tmp_path):
    for toml in ('[project]\nname = "p"\ndependencies = ["torchvision>=0.20", "not a requirement !"]\n',
                 '[project]\nname = "p"\ndependencies = ["torch<2.0"]\n', ""):
        assert target_of(tmp_path, toml + "[tool.optlint]\n") is None
        assert facts.load(None).minor == NEWEST


def test_the_requirement_is_read_from_a_pyproject_without_an_optlint_table(tmp_path):
    assert target_of(tmp_path, '[project]\nname = "p"\ndependencies = ["torch>=2.5"]\n') == "2.5"


def test_the_setting_wins_over_the_requirement_and_the_flag_over_both(tmp_path):
    project(tmp_path, '[project]\nname = "p"\ndependencies = ["torch>=2.4"]\n[tool.optlint]\ntarget-torch = "2.6"\n',
            {"train.py": VERBOSE})
    assert cfg.load([str(tmp_path)]).settings["target_torch"] == "2.6"
    assert "OPT002" in run_check("--no-cache", "--target-torch", "2.7", "train.py", cwd=tmp_path).output


@pytest.mark.parametrize("value, expected", [
    ('"2.0"', f"unknown torch version `2.0`: optlint knows torch 2.1 to {NEWEST}"),
    ('"2.6.1"', "unknown torch version `2.6.1`"),
    ("2.10", f'expected a string such as "{NEWEST}" (quote it: as a TOML number 2.10 is 2.1), got 2.1'),
    ('["2.6"]', "expected a string"),
])
def test_a_bad_target_in_the_file_is_one_line_naming_the_known_range(tmp_path, value, expected):
    project(tmp_path, f"[tool.optlint]\ntarget-torch = {value}\n")
    result = run_check("train.py", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "[tool.optlint] target-torch: " + expected in result.output


def test_a_bad_target_flag_is_one_line(tmp_path):
    result = run_check("--target-torch", "3.0", "train.py", cwd=project(tmp_path, ""))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert f"unknown torch version `3.0`: optlint knows torch 2.1 to {NEWEST}" in result.output


def test_verbose_is_an_error_naming_the_target_only_where_torch_rejects_it():
    newest = lint_text(VERBOSE, "train.py")
    assert [f.code for f in newest] == ["OPT002"]
    assert f"torch {NEWEST} raises TypeError" in newest[0].message
    assert "torch 2.1-2.6 accept it" in newest[0].message
    for accepting in ("2.1", "2.2", "2.6"):
        assert lint_text(VERBOSE, "train.py", settings={"target_torch": accepting}) == []
    assert [f.code for f in lint_text(VERBOSE, "train.py", settings={"target_torch": "2.7"})] == ["OPT002"]


def test_a_keyword_no_release_takes_names_no_release():
    typo = lint_text("from torch.optim.lr_scheduler import StepLR\ns = StepLR(opt, step=10)\n", "train.py")
    assert typo[0].message == "`StepLR()` has no keyword `step`: torch raises TypeError (unexpected keyword argument)."


def test_verbose_facts_per_release():
    """Measured: 2.1 took `verbose=` silently, 2.2-2.6 warn that it is deprecated, 2.7 removed it."""
    behaviour = {v: facts.load(v).schedulers["StepLR"].get("verbose") for v in facts.known_versions()}
    assert behaviour == {v: "silent" if v == "2.1" else "warns" if facts.version_key(v) <= (2, 6) else None
                         for v in facts.known_versions()}


def test_a_changed_target_relints_a_cached_file(tmp_path):
    project(tmp_path, "", {"train.py": VERBOSE})
    assert run_check("train.py", cwd=tmp_path).exit_code == 1
    assert run_check("--target-torch", "2.6", "train.py", cwd=tmp_path).exit_code == 0
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent('[project]\nname = "p"\ndependencies = ["torch>=2.5"]\n'))
    assert run_check("train.py", cwd=tmp_path).exit_code == 0


UNFREEZE = """\
import torch
from torch.optim.lr_scheduler import {cls}
opt = torch.optim.SGD(head.parameters(), lr=0.1)
sched = {cls}(opt, {args})
opt.add_param_group({{'params': body.parameters(), 'lr': 1e-4}})
"""


def test_a_group_added_after_the_scheduler_answers_for_the_target_and_names_it():
    lambda_lr = UNFREEZE.format(cls="LambdaLR", args="lambda e: 0.9 ** e")
    newest = lint_text(lambda_lr, "train.py")[0].message
    assert "raises ValueError" in newest and newest.endswith(f"(torch {NEWEST}; other releases differ).")
    oldest = lint_text(lambda_lr, "train.py", settings={"target_torch": "2.1"})[0].message
    assert "silently rescaled" in oldest and oldest.endswith("(torch 2.1; other releases differ).")
    plateau = UNFREEZE.format(cls="ReduceLROnPlateau", args="")
    assert "raises IndexError" in lint_text(plateau, "train.py", settings={"target_torch": "2.5"})[0].message
    assert lint_text(plateau, "train.py") == []
