"""OPT113 and OPT116 over generated run shapes: a schedule sized to the run (in the unit the loop steps it) is
never flagged, one sized for a shorter run is flagged with the fitting horizon, and a OneCycleLR one step short
is OPT116 at its last step, beside the preview that equals a real copy stepped as the loop steps it."""

import os

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler as S

import optlint

transformers = pytest.importorskip("transformers", reason="the `transformers` extra is not installed")

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FEW = settings(PROFILE, max_examples=max(PROFILE.max_examples // 5, 10))
RUNS = st.tuples(st.integers(1, 6), st.integers(1, 40))  # epochs, optimizer steps per epoch


def setup(lr=1e-3):
    model = torch.nn.Linear(3, 2)
    return model, torch.optim.AdamW(model.parameters(), lr=lr)


def fitting(kind, steps):
    return {
        "hf-linear": lambda o: transformers.get_linear_schedule_with_warmup(o, steps // 10, steps),
        "hf-cosine": lambda o: transformers.get_cosine_schedule_with_warmup(o, steps // 10, steps),
        "onecycle": lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=steps),
        "cosine": lambda o: S.CosineAnnealingLR(o, T_max=steps),
    }[kind]


@FEW
@given(RUNS, st.sampled_from(["hf-linear", "hf-cosine", "onecycle", "cosine"]))
def test_a_schedule_sized_to_the_run_is_clean(run, kind):
    epochs, per_epoch = run
    model, optimizer = setup()
    report = optlint.check_setup(model, optimizer, fitting(kind, epochs * per_epoch), epochs=epochs,
                                 steps_per_epoch=per_epoch, scheduler_interval="step")
    assert report.findings == [], str(report)


@FEW
@given(RUNS.filter(lambda run: run[0] * run[1] >= 10), st.floats(0.2, 0.85))
def test_an_hf_linear_sized_for_part_of_the_run_is_flagged_with_the_runs_length(run, share):
    epochs, per_epoch = run
    steps = epochs * per_epoch
    model, optimizer = setup()
    schedule = lambda o: transformers.get_linear_schedule_with_warmup(o, 0, max(1, int(steps * share)))  # noqa: E731
    [finding] = optlint.check_setup(model, optimizer, schedule, epochs=epochs, steps_per_epoch=per_epoch).findings
    assert finding.code == "OPT113" and f"`num_training_steps={steps}` would fit" in finding.message


@FEW
@given(RUNS.filter(lambda run: run[0] * run[1] >= 2))
def test_a_onecycle_one_step_short_raises_at_the_runs_last_step(run):
    epochs, per_epoch = run
    steps = epochs * per_epoch
    model, optimizer = setup()
    report = optlint.check_setup(model, optimizer, lambda o: S.OneCycleLR(o, max_lr=1e-3, total_steps=steps - 1),
                                 epochs=epochs, steps_per_epoch=per_epoch)
    [finding] = report.findings
    assert finding.code == "OPT116" and f"after optimizer step {steps - 1} " in finding.message
    assert f"total_steps={steps}" in finding.hint
