"""OPT112: param groups added after the scheduler was built (gradual unfreezing).

For every scheduler class the preview must not crash: it equals torch up to the step where torch
raises and names that step, or shows the silently rescaled LR. Which classes raise, rescale or cope
is the torch facts table's measurement; the simulation must agree with it.
"""

from __future__ import annotations

import pytest
import torch
from torch.optim import lr_scheduler as S

import optlint
from ground_truth import EPOCHS, RECIPES, STEPS, WarmupThenInverseSqrt, stepped_until_error
from optlint import facts
from runtime_models import TinyViT


def unfreezing(make_scheduler):
    """Embeddings and head train first; the transformer blocks are added once the scheduler exists."""
    model = TinyViT()
    blocks = list(model.blocks.parameters())
    head = list(model.head.parameters())
    rest = [p for n, p in model.named_parameters() if not n.startswith(("blocks.", "head."))]
    optimizer = torch.optim.SGD([{"params": rest, "lr": 1e-4}, {"params": head, "lr": 1e-3}], lr=0.1, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    optimizer.add_param_group({"params": blocks, "lr": 1e-5})
    return model, optimizer, scheduler


def opt112(report):
    return [f for f in report.findings if f.code == "OPT112"]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_preview_of_a_group_added_later_matches_torch_and_the_facts_table(name):
    model, optimizer, scheduler = unfreezing(RECIPES[name])
    report = optlint.check_setup(model, optimizer, scheduler, epochs=EPOCHS, steps_per_epoch=STEPS,
                                 scheduler_interval="epoch")
    truth, failed_at = stepped_until_error(optimizer, scheduler)
    assert report.schedule == truth
    measured = facts.load().schedulers[name]["added_group"]
    findings = opt112(report)
    if failed_at is not None:
        assert report.stop.step == failed_at
        assert f"after optimizer step {failed_at} (epoch {failed_at // STEPS}) raises" in findings[0].message
    elif measured == "rescales":
        assert "silently rescales it: added with `lr=1e-05`, it runs at" in findings[0].message
    elif measured.startswith("raises"):
        assert "past the preview" in findings[0].message
    else:
        assert measured == "ok" and findings == []
    assert len(findings) == (measured != "ok")
    if findings:
        message = findings[0].message
        assert "group 2 (`blocks.*`) was added after" in message and "knows 2 of 3 groups" in message


def test_linear_warmup_rescales_the_new_group_by_its_start_factor():
    model, optimizer, scheduler = unfreezing(lambda o: S.LinearLR(o, start_factor=0.1, total_iters=4))
    [found] = opt112(optlint.check_setup(model, optimizer, scheduler, epochs=6))
    assert "`LinearLR` silently rescales it: added with `lr=1e-05`, it runs at 0.0001 by epoch 4" in found.message


def test_cosine_raises_past_the_preview_and_names_the_step():
    model, optimizer, scheduler = unfreezing(lambda o: S.CosineAnnealingLR(o, T_max=10))
    report = optlint.check_setup(model, optimizer, scheduler, epochs=3)
    [found] = opt112(report)
    assert "after optimizer step 10 (epoch 10, past the preview) raises ValueError" in found.message
    assert report.stop is None and len(report.schedule[2]) == 3


def test_step_lr_copes_with_a_group_added_later():
    model, optimizer, scheduler = unfreezing(lambda o: S.StepLR(o, step_size=2, gamma=0.5))
    report = optlint.check_setup(model, optimizer, scheduler, epochs=6)
    assert report.findings == []
    assert report.schedule[2] == [1e-5, 1e-5, 5e-6, 5e-6, 2.5e-6, 2.5e-6]


def test_plateau_with_per_group_min_lr_raises_at_its_first_cut():
    model, optimizer, scheduler = unfreezing(lambda o: S.ReduceLROnPlateau(o, patience=2, min_lr=[0.0, 1e-6]))
    report = optlint.check_setup(model, optimizer, scheduler, epochs=6)
    [found] = opt112(report)
    assert "(epoch 2) raises RuntimeError" in found.message


def test_user_scheduler_subclass_is_judged_by_the_simulation():
    model, optimizer, scheduler = unfreezing(lambda o: WarmupThenInverseSqrt(o, warmup=3))
    report = optlint.check_setup(model, optimizer, scheduler, epochs=5)
    [found] = opt112(report)
    assert "`WarmupThenInverseSqrt` was built" in found.message and "raises ValueError" in found.message
    assert report.stop.step == 0 and "the run crashes here" in str(report)


def test_scheduler_rebuilt_after_unfreezing_is_correct():
    model, optimizer, _ = unfreezing(lambda o: S.CosineAnnealingLR(o, T_max=10))
    scheduler = S.CosineAnnealingLR(optimizer, T_max=10)
    assert optlint.check_setup(model, optimizer, scheduler, epochs=12).findings == []
