"""Property: over random set-ups, check_setup leaves no trace and its preview is torch's own stepping.

Random optimizer class, 2-5 groups with random hyper-parameters, any scheduler class or a
composition, already stepped or not. After the check the optimizer's and scheduler's state_dicts,
every group's values and every parameter are bit-identical, no warning escaped, and the schedule
equals a deep copy of the real pair stepped by torch.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
from torch.optim import lr_scheduler as S  # noqa: E402

import optlint  # noqa: E402

from ground_truth import assert_same, stepped  # noqa: E402

OPTIMIZERS = {
    "SGD": lambda groups: torch.optim.SGD(groups, lr=0.1, momentum=0.9),
    "Adam": lambda groups: torch.optim.Adam(groups, lr=1e-3),
    "AdamW": lambda groups: torch.optim.AdamW(groups, lr=1e-3, weight_decay=0.05),
    "RMSprop": lambda groups: torch.optim.RMSprop(groups, lr=1e-2, momentum=0.5),
    "Adagrad": lambda groups: torch.optim.Adagrad(groups, lr=1e-2),
}
# Recipes that take any number of groups (scalar arguments only).
SINGLE = {
    "StepLR": lambda o: S.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[1, 3]),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.8),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.2, total_iters=3),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.5, total_iters=2),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=4),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=4),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 1 / (e + 1)),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.9),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=0),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=40),
    "CyclicLR": lambda o: S.CyclicLR(o, base_lr=1e-4, max_lr=1e-2, step_size_up=2),
}
COMPOSABLE = ("StepLR", "ExponentialLR", "LinearLR", "ConstantLR", "CosineAnnealingLR")


def composed(kind: str, first: str, second: str):
    if kind == "SequentialLR":
        return lambda o: S.SequentialLR(o, [SINGLE[first](o), SINGLE[second](o)], milestones=[2])
    return lambda o: S.ChainedScheduler([SINGLE[first](o), SINGLE[second](o)])


schedulers = st.one_of(
    st.sampled_from(sorted(SINGLE)).map(lambda name: (name, SINGLE[name])),
    st.tuples(st.sampled_from(["SequentialLR", "ChainedScheduler"]), st.sampled_from(COMPOSABLE),
              st.sampled_from(COMPOSABLE)).map(lambda t: (t[0], composed(*t))),
)
groups = st.lists(st.tuples(st.sampled_from([1e-4, 3e-4, 1e-3, 1e-2, 0.1]), st.sampled_from([0.0, 1e-4, 0.01])),
                  min_size=2, max_size=5)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(optimizer_name=st.sampled_from(sorted(OPTIMIZERS)), group_settings=groups, scheduler=schedulers,
       already_stepped=st.integers(0, 3))
def test_check_setup_leaves_no_trace_and_previews_what_torch_does(optimizer_name, group_settings, scheduler,
                                                                  already_stepped):
    name, make = scheduler
    model = torch.nn.ModuleList(torch.nn.Linear(3, 3) for _ in group_settings)
    optimizer = OPTIMIZERS[optimizer_name](
        [{"params": layer.parameters(), "lr": lr, "weight_decay": wd} for layer, (lr, wd) in zip(model, group_settings)]
    )
    real = make(optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(already_stepped):
            optimizer.step()
            real.step(1.0) if isinstance(real, S.ReduceLROnPlateau) else real.step()
    interval = "step" if name in ("OneCycleLR", "CyclicLR") else "epoch"
    before = [optimizer.state_dict(), real.state_dict(), [p.detach().clone() for p in model.parameters()]]
    expected = stepped(optimizer, real, epochs=4, steps=2, interval=interval)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = optlint.check_setup(model, optimizer, real, epochs=4, steps_per_epoch=2, scheduler_interval=interval)

    assert caught == []
    assert_same(before, [optimizer.state_dict(), real.state_dict(), [p.detach() for p in model.parameters()]])
    assert report.schedule == expected
