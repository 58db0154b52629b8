"""`optlint runtime MODULE:FACTORY`: exit codes, output formats, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from optlint.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "runtime"
NO_GPU = "no CUDA device on this machine: the cuda path is tested where a GPU is present"


def run(*args: str):
    return CliRunner().invoke(main, ["runtime", *args])


def factory_file(tmp_path: Path, body: str, name: str = "setup.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return str(path)


def assert_bad_input(result, message: str, *, user_output: bool = False) -> None:
    """Exit 2, one error line and a HINT on stderr (after whatever the user's own code printed)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 or (user_output and len(lines) > 2), result.stderr
    lines = lines[-2:]
    assert lines[0].startswith("optlint: error: ") and message in lines[0], lines[0]
    assert lines[1].startswith("HINT: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_clean_setup_exits_0():
    result = run(f"{FIXTURES}/gpt_pretrain.py:build", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("All checks passed.")


def test_error_findings_exit_1_and_show_the_lr_table():
    result = run(f"{FIXTURES}/demo_setup.py:build", "--epochs", "6")
    assert result.exit_code == 1
    assert "OPT101 [error]" in result.stdout and "`head.*` (2 tensors)" in result.stdout
    assert "Learning rate per group over 6 epochs" in result.stdout


def test_warnings_only_exit_0():
    result = run(f"{FIXTURES}/onecycle_finetune.py:build", "--steps-per-epoch", "4")
    assert result.exit_code == 0
    assert "OPT107 [warning]" in result.stdout


def test_lrs_written_before_onecycle_are_recorded_while_the_factory_runs():
    """The factory returns a built OneCycleLR; optlint still knows the 1e-5 / 1e-3 the groups had."""
    result = run(f"{FIXTURES}/onecycle_finetune.py:build", "--output-format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "OPT107" and "had learning rates 1e-05, 0.001" in finding["message"]
    assert run(f"{FIXTURES}/onecycle_finetune.py:build_fixed").stdout.rstrip().endswith("All checks passed.")


def test_recording_restores_torch_scheduler_constructors():
    from torch.optim import lr_scheduler

    before = {name: vars(cls).get("__init__") for name, cls in vars(lr_scheduler).items() if isinstance(cls, type)}
    run(f"{FIXTURES}/onecycle_finetune.py:build")
    after = {name: vars(cls).get("__init__") for name, cls in vars(lr_scheduler).items() if isinstance(cls, type)}
    assert before == after


def test_group_added_after_the_scheduler_shows_where_torch_raises():
    result = run(f"{FIXTURES}/unfreezing_setup.py:build", "--epochs", "6")
    assert result.exit_code == 1
    assert "OPT112 [error]" in result.stdout
    assert "raises ValueError: zip() argument 2 is longer than argument 1: the run crashes here." in result.stdout


def test_json_output():
    result = run(f"{FIXTURES}/demo_setup.py:build", "--output-format", "json", "--epochs", "3")
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["scheduler"] == "SequentialLR"
    assert len(data["schedule"]["lr"]) == len(data["groups"]) == 6
    assert all(len(lrs) == 3 for lrs in data["schedule"]["lr"])


def test_dotted_module_is_imported_from_the_current_directory(tmp_path, monkeypatch):
    package = tmp_path / "project"
    package.mkdir()
    (package / "__init__.py").write_text("")
    factory_file(package, """
        import torch
        def build():
            model = torch.nn.Linear(4, 2)
            return model, torch.optim.SGD(model.parameters(), lr=0.1)
        """, name="train.py")
    monkeypatch.chdir(tmp_path)
    result = run("project.train:build", "--epochs", "2")
    assert result.exit_code == 0, result.output


def test_meta_device_checks_a_model_without_allocating_it(tmp_path):
    path = factory_file(tmp_path, """
        import torch
        def build():
            model = torch.nn.Sequential(torch.nn.Linear(50_000, 50_000), torch.nn.Linear(50_000, 10))
            assert model[0].weight.is_meta
            return model, torch.optim.AdamW(model[0].parameters())
        """)
    result = run(f"{path}:build", "--device", "meta")
    assert result.exit_code == 1 and "1: weight, bias" not in result.stdout
    assert "2.5B elements" in result.stdout and "`1.*` (2 tensors)" in result.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the refusal needs a CPU-only one")
def test_cuda_without_a_gpu_is_bad_input():
    assert_bad_input(run(f"{FIXTURES}/gpt_pretrain.py:build", "--device", "cuda"), "no CUDA device is available")


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_cuda_device_builds_the_model_on_the_gpu(tmp_path):
    path = factory_file(tmp_path, """
        import torch
        def build():
            model = torch.nn.Linear(8, 2)
            assert model.weight.is_cuda
            optimizer = torch.optim.AdamW(model.parameters(), lr=torch.tensor(1e-3, device="cuda"), fused=True)
            return model, optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
        """)
    result = run(f"{path}:build", "--device", "cuda")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("fixtures/runtime/demo_setup.py", "expected MODULE:FACTORY"),
        ("fixtures/runtime/nope.py:build", "no such file"),
        ("no_such_module_xyz:build", "no module named 'no_such_module_xyz'"),
        (f"{FIXTURES}/demo_setup.py:buidl", "has no 'buidl'"),
        (f"{FIXTURES}/demo_setup.py:EPOCHS", "is an int, not a function"),
    ],
)
def test_bad_targets(target, message):
    assert_bad_input(run(target), message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def build():\n    raise RuntimeError('checkpoint not found: /data/ckpt.pt')\n",
         "build() raised RuntimeError: checkpoint not found: /data/ckpt.pt"),
        ("import torch\ndef build():\n    return torch.nn.Linear(2, 2)\n", "build() returned a Linear"),
        ("import torch\ndef build():\n    m = torch.nn.Linear(2, 2)\n    return m, m.parameters()\n",
         "returned a generator where the optimizer belongs"),
        ("import torch\ndef build():\n    m = torch.nn.Linear(2, 2)\n"
         "    return m.state_dict(), torch.optim.SGD(m.parameters(), lr=1)\n",
         "returned an OrderedDict where the model belongs"),
        ("import torch\ndef build(layers):\n    pass\n", "build() needs arguments (layers)"),
        ("import torch\ndef build():\n    model = torch.nn.Linear(2, 2)\n", "build() returned None"),
        ("import torch\ndef build():\n    m = torch.nn.Linear(2, 2)\n    o = torch.optim.SGD(m.parameters(), lr=1)\n"
         "    o.param_groups.clear()\n    return m, o\n", "has no param groups"),
        ("import sys\nimport argparse\nargparse.ArgumentParser().parse_args(['--lr'])\n", "exited (status 2)"),
        ("raise ImportError('no module named apex')\n", "raised ImportError: no module named apex"),
    ],
    ids=["factory-raises", "not-a-tuple", "parameters-not-optimizer", "state-dict-not-model", "needs-arguments",
         "no-return",
         "zero-groups", "argparse-at-import", "import-raises"],
)
def test_bad_factories(tmp_path, body, message):
    assert_bad_input(run(f"{factory_file(tmp_path, body)}:build"), message, user_output="argparse" in body)


def test_a_script_parsing_its_arguments_at_import_gets_none_of_optlints(tmp_path):
    """As under `python train.py`: argparse sees no arguments, so its defaults apply."""
    path = factory_file(tmp_path, """
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.25)
        args = parser.parse_args()

        def build():
            model = torch.nn.Linear(2, 2)
            return model, torch.optim.SGD(model.parameters(), lr=args.lr)
        """)
    result = run(f"{path}:build", "--output-format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["groups"][0]["lr"] == 0.25


def test_what_the_users_code_prints_goes_to_stderr_so_json_stays_parseable(tmp_path):
    path = factory_file(tmp_path, """
        import torch

        print("config loaded")

        def build():
            print("2 layers built")
            model = torch.nn.Linear(2, 2)
            return model, torch.optim.SGD(model.parameters(), lr=0.1)
        """)
    result = run(f"{path}:build", "--output-format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True
    assert result.stderr.splitlines() == ["config loaded", "2 layers built"]


def test_bad_option_values_are_one_line_too():
    assert_bad_input(run(f"{FIXTURES}/demo_setup.py:build", "--epochs", "0"), "--epochs")


def test_verbose_shows_the_traceback_of_the_users_code(tmp_path):
    path = factory_file(tmp_path, "def build():\n    return {}['missing']\n")
    result = run(f"{path}:build", "--verbose")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "KeyError: 'missing'" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("optlint: error: build() raised KeyError")
    assert "run with --verbose" not in result.stderr  # the traceback is there: no hint to ask for it


def test_neither_import_optlint_nor_its_cli_imports_torch_until_runtime_runs():
    code = ("import sys, optlint, optlint.cli; assert 'torch' not in sys.modules; optlint.check_setup; "
            "assert 'torch' in sys.modules; "
            "sys.argv = ['optlint', 'runtime', 'fixtures/runtime/gpt_pretrain.py:build', '--device', 'cpu']; "
            "optlint.cli.main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "All checks passed." in result.stdout


def test_scheduler_that_cannot_be_copied_is_bad_input(tmp_path):
    path = factory_file(tmp_path, """
        import threading
        import torch
        from torch.optim.lr_scheduler import LambdaLR

        class Logged(LambdaLR):
            def __init__(self, optimizer):
                self.lock = threading.Lock()
                super().__init__(optimizer, lambda epoch: 0.9 ** epoch)

        def build():
            model = torch.nn.Linear(2, 2)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            return model, optimizer, Logged(optimizer)
        """)
    assert_bad_input(run(f"{path}:build"), "Logged cannot be copied to replay it on a stand-in optimizer")


def test_scheduler_factory_raising_during_the_check_is_bad_input(tmp_path):
    path = factory_file(tmp_path, """
        import torch

        def build():
            model = torch.nn.Linear(2, 2)
            return model, torch.optim.SGD(model.parameters(), lr=0.1), lambda opt: {}["warmup_steps"]
        """)
    assert_bad_input(run(f"{path}:build"), "checking the set-up from build() raised KeyError: 'warmup_steps'")


@pytest.mark.parametrize("where", ["factory", "scheduler_lambda"])
def test_user_code_that_calls_sys_exit_is_bad_input_not_a_passed_check(tmp_path, where):
    path = factory_file(tmp_path, f"""
        import sys
        import torch

        def build():
            model = torch.nn.Linear(2, 2)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            if {where == "factory"}:
                sys.exit(0)
            return model, optimizer, lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: sys.exit(0))
        """)
    what = "build()" if where == "factory" else "checking the set-up from build()"
    assert_bad_input(run(f"{path}:build"), f"{what} exited (status 0) before the check ran")


def test_what_user_code_writes_to_file_descriptor_1_goes_to_stderr(tmp_path):
    """At the OS level, below sys.stdout: os.write(1, ...), sys.__stdout__, a child process."""
    path = factory_file(tmp_path, """
        import os, subprocess, sys
        import torch

        os.write(1, b"junk at import ")

        def build():
            os.write(1, b"junk from os.write ")
            sys.__stdout__.write("junk in the buffer of sys.__stdout__ ")
            subprocess.run([sys.executable, "-c", "print('junk from a child')"], check=True)
            print("printed")
            model = torch.nn.Linear(2, 2)
            return model, torch.optim.SGD(model.parameters(), lr=0.1)
        """)
    result = subprocess.run([sys.executable, "-m", "optlint", "runtime", f"{path}:build", "--device", "cpu",
                             "--output-format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    for junk in ("junk at import", "junk from os.write", "junk in the buffer", "junk from a child", "printed"):
        assert junk in result.stderr


def test_an_endless_run_is_previewed_up_to_the_cap_in_bounded_time(tmp_path):
    """A child process with a time limit: an uncapped preview of 10^9 steps would run for hours."""
    result = subprocess.run([sys.executable, "-m", "optlint", "runtime", f"{FIXTURES}/demo_setup.py:build",
                             "--epochs", "1000000000", "--output-format", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    data = json.loads(result.stdout)
    assert [len(lrs) for lrs in data["schedule"]["lr"]] == [100_000] * len(data["groups"])
    assert "the preview is cut at optimizer step 100,000 of the run's 1,000,000,000" in data["notes"][0]
