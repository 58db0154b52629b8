"""Any timm scheduler set-up, as create_scheduler_v2 builds it (kind, epochs, warm-up, per epoch or per update,
cycles, noise) over groups with any `lr_scale`: the preview is what timm's train loop gives on a copy of the
real objects, and the real groups are left as they were."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from torch import nn

import optlint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from test_runtime_timm import timm_loop_lrs  # noqa: E402
from timm_schedulers import timm_scheduler  # noqa: E402

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=max(PROFILE.max_examples // 10, 15))
EPOCHS, STEPS = 6, 4  # the loop of timm_loop_lrs

SETUPS = st.fixed_dictionaries({
    "sched": st.sampled_from(["cosine", "tanh", "step", "multistep", "poly", "wsd"]),
    "num_epochs": st.integers(1, 8),
    "warmup_epochs": st.integers(0, 3),
    "warmup_prefix": st.booleans(),
    "step_on_epochs": st.booleans(),
    "cycle_limit": st.integers(1, 3),
    "decay_epochs": st.integers(1, 4),
    "min_lr": st.sampled_from([0.0, 1e-6]),
    "noise": st.sampled_from([None, 0.5]),
})


@FUZZ
@given(setup=SETUPS, scales=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4))
def test_any_timm_schedule_is_previewed_as_timm_steps_it(setup, scales):
    ts = timm_scheduler()
    model = nn.Sequential(*(nn.Linear(2, 2) for _ in scales))
    optimizer = torch.optim.SGD([{"params": m.parameters(), "lr_scale": s} for m, s in zip(model, scales)], lr=0.1)
    try:
        scheduler, _ = ts.create_scheduler_v2(optimizer, updates_per_epoch=STEPS, **setup)
    except ValueError:  # a set-up timm itself rejects (a wsd decay longer than the run)
        reject()
    before = [dict(g, params=None) for g in optimizer.param_groups]
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS)
    assert report[0].schedule == timm_loop_lrs(optimizer, scheduler)
    assert [dict(g, params=None) for g in optimizer.param_groups] == before
    assert not [f for f in report.findings if f.code == "OPT115"]
