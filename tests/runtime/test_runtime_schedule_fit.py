"""The schedule against the run: Hugging Face schedules previewed per step, a guessed interval said in the report's
first line, a schedule sized for another run (OPT113) and one that raises during the run (OPT116). Every preview
is compared with a deep copy of the real optimizer and scheduler stepped as the loop steps them."""

from __future__ import annotations

import json

import pytest
import torch
from torch.optim import lr_scheduler as S

import optlint
from runtime_models import Classifier, decay_groups
from ground_truth import stepped, stepped_until_error

transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")

HF_SCHEDULES = {
    "linear": {}, "cosine": {}, "cosine_with_restarts": {"num_cycles": 2}, "polynomial": {"power": 2.0},
    "constant_with_warmup": {}, "inverse_sqrt": {}, "cosine_with_min_lr": {"min_lr_rate": 0.1},
    "warmup_stable_decay": {"num_decay_steps": 30},
}


def model_and_adamw(lr=5e-4):
    model = Classifier()
    return model, torch.optim.AdamW(decay_groups(model), lr=lr)


def findings(report, code="OPT113"):
    return [f for f in report.findings if f.code == code]


@pytest.mark.parametrize("name", HF_SCHEDULES)
def test_every_hf_schedule_is_previewed_per_optimizer_step_as_it_runs(name):
    model, optimizer = model_and_adamw()
    scheduler = transformers.get_scheduler(name, optimizer, num_warmup_steps=10, num_training_steps=100,
                                           scheduler_specific_kwargs=HF_SCHEDULES[name])
    report = optlint.check_setup(model, optimizer, scheduler, epochs=2, steps_per_epoch=50)
    assert report.interval == "step" and not report.interval_guessed
    assert report.schedule == stepped(optimizer, scheduler, epochs=2, steps=50, interval="step")
    assert report.findings == [], str(report)


def test_the_issues_cosine_shows_the_lr_the_run_has_at_step_50():
    model, optimizer = model_and_adamw()
    scheduler = transformers.get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=10, num_training_steps=100)
    report = optlint.check_setup(model, optimizer, scheduler, epochs=2, steps_per_epoch=50)
    assert report.schedule[0][50] == pytest.approx(2.934e-4, rel=1e-3)
    assert "LambdaLR stepped every step\n" in str(report)


def test_a_guessed_interval_is_said_in_the_first_line_with_how_to_set_it():
    model, optimizer = model_and_adamw()
    report = optlint.check_setup(model, optimizer, S.LambdaLR(optimizer, lambda step: 0.99**step))
    first = str(report).splitlines()[0]
    assert "LambdaLR stepped every epoch (a guess" in first and 'scheduler_interval="step"' in first
    assert "--interval step" in first and report.to_dict()["schedule"]["interval_guessed"] is True
    told = optlint.check_setup(model, optimizer, S.LambdaLR(optimizer, lambda step: 0.99**step),
                               scheduler_interval="epoch")
    assert "guess" not in str(told) and told.to_dict()["schedule"]["interval_guessed"] is False


# OPT113: (factory, epochs, steps per epoch, words of the message)
MISFITS = {
    "hf-linear-sized-for-one-epoch-of-three": (
        lambda o: transformers.get_linear_schedule_with_warmup(o, 5, 50), 3, 50,
        ["reaches 0 at optimizer step 50", "last 100 of the run's 150 steps", "`num_training_steps=150` would fit"]),
    "cosine-in-epochs-stepped-per-step": (
        lambda o: S.CosineAnnealingLR(o, T_max=10), 4, 10,
        ["minimum (0) at optimizer step 10 and rises again", "`T_max=40` would fit"]),
    "cosine-per-epoch-past-t-max": (
        lambda o: S.CosineAnnealingLR(o, T_max=3, eta_min=1e-6), 8, 5,
        ["minimum (1e-06) at optimizer step 15", "`T_max=8` would fit"]),
    "onecycle-of-which-a-tenth-is-used": (
        lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=1000), 2, 50,
        ["after 100 of the 1000 steps of `OneCycleLR`", "`total_steps=100` would fit"]),
    "warmup-then-cosine-sized-for-thrice-the-run": (
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=295)], [5]),
        2, 50, ["after 100 of the 300 steps", "`T_max=95` would fit"]),
}
INTERVALS = {"cosine-per-epoch-past-t-max": "epoch"}


@pytest.mark.parametrize("case", MISFITS)
def test_a_schedule_sized_for_another_run_is_opt113_with_the_step_and_the_fitting_horizon(case):
    factory, epochs, steps, words = MISFITS[case]
    model, optimizer = model_and_adamw(1e-3)
    interval = INTERVALS.get(case, "step")
    report = optlint.check_setup(model, optimizer, factory, epochs=epochs, steps_per_epoch=steps,
                                 scheduler_interval=interval)
    assert report.schedule == stepped(optimizer, factory(optimizer), epochs, steps, interval)
    [finding] = findings(report)
    for word in words:
        assert word in finding.message, finding.message
    assert report.ok  # a warning: the run trains, badly


CLEAN = {
    "hf-linear-warmup-sized-to-the-run": lambda o: transformers.get_linear_schedule_with_warmup(o, 10, 150),
    "hf-cosine-sized-to-the-run": lambda o: transformers.get_cosine_schedule_with_warmup(o, 10, 150),
    "onecycle-sized-to-the-run": lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=150),
    "cosine-t-max-the-run": lambda o: S.CosineAnnealingLR(o, T_max=150),
    "warm-restarts-on-purpose": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=50),
}


@pytest.mark.parametrize("case", CLEAN)
def test_a_schedule_sized_to_the_run_has_no_finding(case):
    model, optimizer = model_and_adamw(1e-3)
    report = optlint.check_setup(model, optimizer, CLEAN[case], epochs=3, steps_per_epoch=50, scheduler_interval="step")
    assert report.findings == [], str(report)


def test_without_the_runs_length_the_fit_is_not_judged():
    model, optimizer = model_and_adamw(1e-3)
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=1000))
    assert report.findings == []


class WarmupThenPlateau(S.LRScheduler):
    """The pytorch-gradual-warmup-lr pattern: after the warm-up it steps its `after_scheduler` with no metric."""

    def __init__(self, optimizer, warmup, after):
        self.warmup, self.after = warmup, after
        super().__init__(optimizer)

    def get_lr(self):
        return [base * min(1.0, (self.last_epoch + 1) / self.warmup) for base in self.base_lrs]

    def step(self, metrics=None):
        if self.last_epoch < self.warmup:
            return super().step()
        self.after.step(metrics)


def fails_at_50(step):
    if step >= 50:
        raise ZeroDivisionError("float division by zero")
    return 1 - step / 50


# OPT116: (factory, interval, optimizer step after which it raises, torch's words)
RAISING = {
    "onecycle-shorter-than-the-run": (lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=60), "step", 60,
                                      "Tried to step 61 times. The specified number of total steps is 60"),
    "user-lambda-failing-at-50": (lambda o: S.LambdaLR(o, fails_at_50), "step", 49,
                                  "ZeroDivisionError: float division by zero"),
    "plateau-without-a-metric": (lambda o: WarmupThenPlateau(o, 3, S.ReduceLROnPlateau(o)), "epoch", 3 * 40 + 39,
                                 "TypeError: float() argument must be a string or a real number, not 'NoneType'"),
}


@pytest.mark.parametrize("case", RAISING)
def test_a_scheduler_raising_in_the_run_is_opt116_beside_the_missing_head(case):
    factory, interval, step, words = RAISING[case]
    model = Classifier()
    optimizer = torch.optim.AdamW(model.backbone.parameters(), lr=1e-3)  # the head is left out
    report = optlint.check_setup(model, optimizer, factory, epochs=5, steps_per_epoch=40, scheduler_interval=interval)
    assert [f.code for f in report.findings] == ["OPT101", "OPT116"]
    finding = findings(report, "OPT116")[0]
    assert f"after optimizer step {step} (epoch {step // 40}) raises" in finding.message and words in finding.message
    assert stepped_until_error(optimizer, factory(optimizer), 5, 40, interval)[1] == step


def test_optlint_runtime_exits_1_with_the_finding_not_2(tmp_path):
    from click.testing import CliRunner

    from optlint.cli import main

    path = tmp_path / "setup.py"
    path.write_text("import torch\nfrom torch.optim.lr_scheduler import OneCycleLR\ndef build():\n"
                    "    m = torch.nn.Linear(2, 2)\n    o = torch.optim.SGD(m.parameters(), lr=1, momentum=0.9)\n"
                    "    return m, o, OneCycleLR(o, 1.0, total_steps=3)\n")
    result = CliRunner().invoke(main, ["runtime", f"{path}:build", "--output-format", "json"])
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "OPT116" and "Tried to step 4 times" in finding["message"]
