"""The project's other modules: imports of the project's own files resolve to their summaries, so a step,
a build or an object that lives in another file is seen where it is used, and named in the finding.

fixtures/projects/<name>/ are multi-module projects: each line that should be reported says so in an
`# expect:` comment (as in fixtures/static/); `bad_*` have some, `good_*` none.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from optlint.static import runner
from optlint.static.project import index
from optlint.static.runner import lint_paths, lint_text
from tests.test_fixtures import expected

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
FIXTURES = sorted(p for p in PROJECTS.iterdir() if p.is_dir())

ENGINE = """\
def train_one_epoch(model, loader, optimizer):
    for inputs in loader:
        model(inputs).sum().backward()
        optimizer.step()
"""
TRAIN = """\
import torch
from {source} import train_one_epoch


def main(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)
    for epoch in range(10):
        scheduler.step()
        train_one_epoch(model, loader, optimizer)
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def found(result) -> set[tuple[str, int, str]]:
    return {(Path(f.filename).name, f.row, f.code) for f in result.findings}


def lint(root: Path, *paths: str, **options):
    return lint_paths([str(root / p) for p in paths] or [str(root)], **options)


@pytest.mark.parametrize("project", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture_project_reports_exactly_the_expected_lines(project):
    want = {(path.relative_to(project).as_posix(), row, code)
            for path in sorted(project.rglob("*.py")) for row, code in expected(path)}
    assert bool(want) == project.name.startswith("bad_"), "bad_ projects declare findings, good_ ones none"
    result = lint_paths([str(project)], jobs=1)
    assert not result.errors
    assert {(Path(f.filename).relative_to(project).as_posix(), f.row, f.code) for f in result.findings} == want


def test_a_step_in_a_relatively_imported_function_names_the_file_and_line():
    result = lint_paths([str(PROJECTS / "bad_relative_engine")], jobs=1)
    (finding,) = result.findings
    assert "the optimizer steps in `engine.py:9`, called from here" in finding.message


def test_a_method_of_a_project_class_steps_what_its_constructor_was_given():
    (finding,) = lint_paths([str(PROJECTS / "bad_absolute_alias")], jobs=1).findings
    assert "`utils/trainer.py:15`" in finding.message and "`optimizer.step()`" in finding.message


def test_a_scheduler_subclass_of_another_module_names_its_file_and_torch_class():
    messages = [f.message for f in lint_paths([str(PROJECTS / "bad_scheduler_subclass")], jobs=1).findings]
    assert len(messages) == 2
    assert all("defined in `utils/schedules.py`, runs torch's `LambdaLR." in m for m in messages)


SUBCLASSED = """\
import torch
from {module} import {name}


def main(model):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = {name}(optimizer, lambda step: 0.9 ** step)
    print(scheduler.get_lr())
"""


@pytest.mark.parametrize("schedules, found_get_lr", [
    ("from torch.optim.lr_scheduler import LambdaLR\nclass Warmup(LambdaLR):\n    pass\n", True),
    ("import torch\nclass Warmup(torch.optim.lr_scheduler.LambdaLR):\n    def get_lr(self):\n        return [1.0]\n",
     False),  # its own formula
    ("from torch.optim.lr_scheduler import LambdaLR\nclass Warmup(Logged, LambdaLR):\n    pass\n", False),  # a mixin
    ("from base import Base\nclass Warmup(Base):\n    pass\n", False),  # a base from a third module: unknown
    ("from torch.optim.lr_scheduler import LambdaLR\nclass Warmup(LambdaLR):\n    pass\nWarmup = make_warmup()\n",
     False),  # the name is rebound
])
def test_a_project_scheduler_subclass_runs_torchs_methods_it_does_not_define(tmp_path, schedules, found_get_lr):
    write(tmp_path, {"schedules.py": schedules, "base.py": "from torch.optim.lr_scheduler import LambdaLR\n"
                     "class Base(LambdaLR):\n    pass\n", "train.py": SUBCLASSED.format(module="schedules", name="Warmup")})
    cache, want = tmp_path / ".optlint_cache", {("train.py", 8, "OPT014")} if found_get_lr else set()
    assert found(lint(tmp_path, "train.py", cache_dir=cache)) == want
    with open(tmp_path / "train.py", "a") as train:
        train.write("# edited: linted again, with the summary of schedules.py read from the cache\n")
    assert found(lint(tmp_path, "train.py", cache_dir=cache)) == want


LOADER = """\
import torch


def load_checkpoint(model, optimizer, path, scheduler=None):
    state = torch.load(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    return state["epoch"]
"""
RESUMED = """\
import torch
import utils


def main(model, loader, args):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30{last_epoch})
    start = utils.load_checkpoint(model, optimizer, args.resume{passed}) if args.resume else 0
    for epoch in range(start, 90):
        for inputs in loader:
            model(inputs).sum().backward()
            optimizer.step()
        scheduler.step()
"""


@pytest.mark.parametrize("last_epoch, passed, reported", [
    ("", "", True),
    ("", ", scheduler", False),  # the loader restores it too
    ("", ", scheduler=scheduler", False),
    (", last_epoch=start - 1", "", False),  # the position comes back by hand (a NameError aside)
])
def test_a_project_function_that_restores_the_optimizer_is_a_resume(tmp_path, last_epoch, passed, reported):
    write(tmp_path, {"utils.py": LOADER, "train.py": RESUMED.format(last_epoch=last_epoch, passed=passed)})
    findings = lint(tmp_path, "train.py").findings
    assert [(f.row, f.code) for f in findings] == ([(8, "OPT023")] if reported else [])
    if reported:
        assert "restored here (in `utils.py:7`, called from here) but not the state of `scheduler`" in findings[0].message


SAVER = """\
import torch


def save_checkpoint(model, optimizer, epoch, path{scheduler}):
    state = {{"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}}
    torch.save(state, path)
"""
SAVING = """\
import torch
from utils import save_checkpoint


def main(model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 90)
    for epoch in range(90):
        for inputs in loader:
            model(inputs).sum().backward()
            optimizer.step()
        scheduler.step()
        save_checkpoint(model, optimizer, epoch, "last.pt"{passed})
"""


@pytest.mark.parametrize("scheduler, passed, reported", [("", "", True), (", scheduler", ", scheduler", False)])
def test_a_project_function_that_saves_the_optimizers_state_is_a_checkpoint(tmp_path, scheduler, passed, reported):
    write(tmp_path, {"utils.py": SAVER.format(scheduler=scheduler), "train.py": SAVING.format(passed=passed)})
    findings = lint(tmp_path, "train.py").findings
    assert [(f.row, f.code) for f in findings] == ([(13, "OPT023")] if reported else [])
    if reported:
        assert "The checkpoint this call saves (in `utils.py:5`) holds `optimizer`'s state" in findings[0].message


def test_a_function_of_another_module_returns_the_optimizer_it_builds(tmp_path):
    from optlint import facts
    from optlint.static.parse import parse
    from optlint.static.semantic.model import SemanticModel

    write(tmp_path, {"optim.py": """\
        import torch
        def build_optimizer(model):
            return torch.optim.AdamW(model.parameters(), lr=1e-3)
        def build_scheduler(optimizer, steps):
            return torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=steps)
        """})
    source = "from optim import build_optimizer, build_scheduler\nopt = build_optimizer(net)\nsched = build_scheduler(opt, 10)\n"
    model = SemanticModel(parse(source, "train.py"), facts.load(), index.Project().view(str(tmp_path / "train.py")))
    optimizer = model.instance_of(__import__("libcst").Name("opt"), model.module_scope)
    scheduler = model.instance_of(__import__("libcst").Name("sched"), model.module_scope)
    assert (optimizer.kind, optimizer.cls, optimizer.origin) == ("optimizer", "AdamW", "optim.py")
    assert (scheduler.cls, scheduler.optimizer) == ("OneCycleLR", optimizer)


def test_a_src_layout_package_is_found(tmp_path):
    write(tmp_path, {"pyproject.toml": "[project]\nname = 'pkg'\n", "src/pkg/__init__.py": "",
                     "src/pkg/engine.py": ENGINE, "tools/train.py": TRAIN.format(source="pkg.engine")})
    assert found(lint(tmp_path)) == {("train.py", 9, "OPT011")}


def test_modules_importing_each_other_in_a_cycle_are_summarised(tmp_path):
    write(tmp_path, {"engine.py": "from train import main\n" + ENGINE, "train.py": TRAIN.format(source="engine")})
    assert found(lint(tmp_path)) == {("train.py", 9, "OPT011")}


def test_a_module_that_does_not_parse_has_no_summary_and_stops_nothing(tmp_path):
    broken = "def evaluate(model, loader, optimizer:\n    optimizer.step()\n"
    write(tmp_path, {"broken.py": broken, "engine.py": ENGINE,
                     "train.py": "from broken import evaluate\n" + TRAIN.format(source="engine")})
    result = lint(tmp_path, "train.py")
    assert found(result) == {("train.py", 10, "OPT011")} and result.errors == []


def test_a_library_module_is_never_taken_for_a_project_file_elsewhere(tmp_path):
    """`engine` is no module next to app/train.py, nor above it: the sibling folder's engine.py is not it."""
    write(tmp_path, {".git/HEAD": "", "other/engine.py": ENGINE, "app/train.py": TRAIN.format(source="engine"),
                     "other/train.py": TRAIN.format(source="engine")})
    assert {(f.filename.split("/")[-2], f.code) for f in lint(tmp_path).findings} == {("other", "OPT011")}


def test_a_project_folder_named_torch_never_stands_for_torch(tmp_path):
    """torch's own `torch.utils` is called, whatever a project file of that name would do."""
    write(tmp_path, {"torch/__init__.py": "", "torch/utils.py": ENGINE, "engine.py": ENGINE,
                     "train.py": TRAIN.format(source="engine").replace("train_one_epoch(model", "torch.utils.train_one_epoch(model"),
                     "train2.py": TRAIN.format(source="engine")})
    assert found(lint(tmp_path)) == {("train2.py", 9, "OPT011")}


def test_a_changed_module_relints_the_file_that_imports_it(tmp_path):
    write(tmp_path, {"engine.py": ENGINE, "train.py": TRAIN.format(source="engine")})
    cache = tmp_path / ".optlint_cache"
    assert found(lint(tmp_path, cache_dir=cache)) == {("train.py", 9, "OPT011")}
    (tmp_path / "engine.py").write_text(ENGINE.replace("optimizer.step()", "pass"))
    assert found(lint(tmp_path, cache_dir=cache)) == set()
    (tmp_path / "engine.py").write_text(ENGINE)
    assert found(lint(tmp_path, cache_dir=cache)) == {("train.py", 9, "OPT011")}


def test_a_warm_run_relints_nothing_that_uses_an_attribute_of_an_imported_class(tmp_path, monkeypatch):
    engine = ENGINE + "\n\nclass Config:\n    @classmethod\n    def load(cls, path):\n        return cls()\n"
    train = TRAIN.format(source="engine").replace("import train_one_epoch", "import Config, train_one_epoch")
    write(tmp_path, {"engine.py": engine, "train.py": train + "\n\nconfig = Config.load('run.yaml')\n"})
    cache = tmp_path / ".optlint_cache"
    lint(tmp_path, cache_dir=cache, jobs=1)
    linted = []
    real = runner._lint_parsed
    monkeypatch.setattr(runner, "_lint_parsed", lambda path, *rest: linted.append(path) or real(path, *rest))
    assert found(lint(tmp_path, cache_dir=cache, jobs=1)) == {("train.py", 9, "OPT011")}
    assert linted == []


def test_an_absolute_import_in_a_package_is_not_its_sibling_file(tmp_path):
    write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/strategies/__init__.py": "",
                     "pkg/strategies/deepspeed.py": "import deepspeed\n", "scripts/deepspeed.py": "",
                     "scripts/run.py": "import deepspeed\n"})
    from optlint.static.project.resolve import resolve_module

    assert resolve_module(str(tmp_path / "pkg/strategies/deepspeed.py"), 0, "deepspeed") is None
    assert resolve_module(str(tmp_path / "pkg/strategies/deepspeed.py"), 0, "pkg.strategies.deepspeed") == str(
        tmp_path / "pkg/strategies/deepspeed.py")
    assert resolve_module(str(tmp_path / "scripts/run.py"), 0, "deepspeed") == str(tmp_path / "scripts/deepspeed.py")


def test_a_module_that_appears_later_relints_the_importer(tmp_path):
    write(tmp_path, {"train.py": TRAIN.format(source="engine")})
    cache = tmp_path / ".optlint_cache"
    assert found(lint(tmp_path, cache_dir=cache)) == set()
    write(tmp_path, {"engine.py": ENGINE})
    assert found(lint(tmp_path, "train.py", cache_dir=cache)) == {("train.py", 9, "OPT011")}


def test_a_staged_file_alone_still_sees_the_modules_it_imports(tmp_path):
    write(tmp_path, {"engine.py": ENGINE, "train.py": TRAIN.format(source="engine")})
    cache = tmp_path / ".optlint_cache"
    lint(tmp_path, cache_dir=cache)  # the summaries of a whole run are cached
    assert found(lint(tmp_path, "train.py", cache_dir=cache)) == {("train.py", 9, "OPT011")}
    shutil.rmtree(cache)
    assert found(lint(tmp_path, "train.py", cache_dir=cache)) == {("train.py", 9, "OPT011")}  # made on demand


def test_summaries_made_in_workers_are_cached_and_used(tmp_path):
    write(tmp_path, {"engine.py": ENGINE, **{f"train{i}.py": TRAIN.format(source="engine") for i in range(4)}})
    cache = tmp_path / ".optlint_cache"
    assert len(lint(tmp_path, jobs=2, cache_dir=cache).findings) == 4
    (payload,) = [p.read_bytes().partition(b"\n")[2] for p in cache.glob("*.json")]
    assert list(json.loads(payload)["summaries"].values())[0]["functions"]["train_one_epoch"]["steps"]


def test_stdin_named_after_a_project_file_sees_its_imports(tmp_path):
    write(tmp_path, {"engine.py": ENGINE})
    findings = lint_text(TRAIN.format(source="engine"), str(tmp_path / "train.py"))
    assert [(f.row, f.code) for f in findings] == [(9, "OPT011")]
    assert lint_text(TRAIN.format(source="engine"), "-") == []  # no file, no folder to look in


def test_a_notebook_imports_the_project_module_beside_it(tmp_path):
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": TRAIN.format(source="engine").splitlines(keepends=True)}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    write(tmp_path, {"engine.py": ENGINE, "train.ipynb": json.dumps(notebook)})
    (finding,) = lint(tmp_path, "train.ipynb").findings
    assert (finding.cell, finding.row, finding.code) == (1, 9, "OPT011")


BUILDERS = """\
import torch


def build_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def build_lr_policy(optimizer):
    return torch.optim.lr_scheduler.StepLR(optimizer, 30)
"""
USES_BUILDERS = """\
from builders import build_lr_policy, build_optimizer


def main(model, loader):
    opt = build_optimizer(model)
    lr_policy = build_lr_policy(opt)
    for epoch in range(90):
        print(lr_policy.get_lr())
"""


@pytest.mark.xfail(strict=True, reason="known gap: the text prefilter (files.can_hold_finding) skips a file that names no "
                   "torch class and no `sched` receiver, before its imports of project modules are looked at")
def test_a_file_whose_only_torch_objects_come_from_project_modules_is_linted(tmp_path):
    write(tmp_path, {"builders.py": BUILDERS, "train.py": USES_BUILDERS})
    assert found(lint(tmp_path)) == {("train.py", 8, "OPT014")}


def test_the_same_file_is_linted_once_a_receiver_says_sched(tmp_path):
    write(tmp_path, {"builders.py": BUILDERS, "train.py": USES_BUILDERS.replace("lr_policy =", "lr_sched =")
                     .replace("lr_policy.get_lr", "lr_sched.get_lr")})
    assert found(lint(tmp_path)) == {("train.py", 8, "OPT014")}
