"""The recorder `optlint runtime` uses: group LRs as they were when each optimizer's first scheduler
was built, observed without changing what gets built."""

from __future__ import annotations

import pytest
import torch
from torch.optim import lr_scheduler as S

from ground_truth import RECIPES, assert_same
from optlint.runtime.observe import recording_lrs_before_schedulers
from runtime_models import TinyViT, differential_groups


def constructors():
    return {name: vars(cls).get("__init__") for name, cls in vars(S).items() if isinstance(cls, type)}


def test_lrs_are_recorded_before_onecycle_overwrites_them():
    optimizer = torch.optim.AdamW(differential_groups(TinyViT(), 1e-5, 1e-3))
    with recording_lrs_before_schedulers() as recorded:
        S.OneCycleLR(optimizer, max_lr=1e-2, total_steps=10)
    assert recorded == {id(optimizer): [1e-5, 1e-3]}
    assert optimizer.param_groups[0]["lr"] != 1e-5


def test_the_first_scheduler_built_on_an_optimizer_is_the_one_recorded():
    optimizer = torch.optim.SGD(differential_groups(TinyViT(), 1e-4, 1e-2), lr=0.1)
    with recording_lrs_before_schedulers() as recorded:
        S.SequentialLR(optimizer, [S.LinearLR(optimizer, start_factor=0.5), S.ExponentialLR(optimizer, 0.9)], [3])
    assert recorded[id(optimizer)] == [1e-4, 1e-2]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_what_gets_built_is_what_would_have_been_built(name):
    torch.manual_seed(0)
    plain_optimizer = torch.optim.SGD(differential_groups(TinyViT()), lr=0.1, momentum=0.9)
    plain = RECIPES[name](plain_optimizer)
    torch.manual_seed(0)
    observed_optimizer = torch.optim.SGD(differential_groups(TinyViT()), lr=0.1, momentum=0.9)
    with recording_lrs_before_schedulers():
        observed = RECIPES[name](observed_optimizer)
    assert type(observed) is type(plain)
    assert_same(observed_optimizer.state_dict(), plain_optimizer.state_dict())
    assert_same(observed.state_dict(), plain.state_dict())


def test_constructors_are_restored_even_when_the_factory_raises():
    before = constructors()
    with pytest.raises(RuntimeError), recording_lrs_before_schedulers():
        raise RuntimeError("factory failed")
    assert constructors() == before


def test_recorders_that_overlap_without_nesting_leave_torch_as_it_was():
    from optlint.runtime.observe import Recorder

    init = vars(S.OneCycleLR)["__init__"]
    first, second = Recorder().start(), Recorder().start()
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    S.OneCycleLR(optimizer, max_lr=1.0, total_steps=3)
    assert first.stop() == second.recorded == {id(optimizer): [0.3]}
    assert vars(S.OneCycleLR)["__init__"] is not init  # the second still records
    second.stop()
    assert vars(S.OneCycleLR)["__init__"] is init

