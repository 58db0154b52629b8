"""OPT101-OPT105 on real models: coverage is by tensor identity over the model's named parameters."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import optlint
from runtime_models import Classifier, TinyGPT, TinyViT, decay_groups, differential_groups


def codes(report) -> list[str]:
    return [f.code for f in report.findings]


def finding(report, code: str):
    matches = [f for f in report.findings if f.code == code]
    assert len(matches) == 1, report
    return matches[0]


ALL = lambda m: torch.optim.AdamW(m.parameters(), lr=3e-4)  # noqa: E731
DECAY = lambda m: torch.optim.AdamW(decay_groups(m), lr=3e-4)  # noqa: E731
DIFFERENTIAL = lambda m: torch.optim.SGD(differential_groups(m), lr=0.1, momentum=0.9)  # noqa: E731
CORRECT = [
    pytest.param(make, build, id=f"{make.__name__}-{name}")
    for make, builds in ((TinyViT, (ALL, DECAY, DIFFERENTIAL)), (Classifier, (ALL, DECAY, DIFFERENTIAL)),
                         (TinyGPT, (ALL, DECAY)))
    for name, build in zip(("all", "decay", "differential"), builds)
]


@pytest.mark.parametrize(("make_model", "build"), CORRECT)
def test_correct_setups_give_no_finding(make_model, build):
    model = make_model()
    report = optlint.check_setup(model, build(model))
    assert report.findings == [], report
    assert report.ok


def test_tied_weights_are_one_tensor_counted_and_named_once():
    model = TinyGPT()
    report = optlint.check_setup(model, torch.optim.AdamW(model.parameters()))
    names = report.groups[0].names
    assert "wte.weight" in names and "lm_head.weight" not in names
    assert report.groups[0].tensors == len(names) == len(set(map(id, model.parameters())))
    assert report.findings == []


def test_decay_and_no_decay_groups_are_told_apart_in_the_table():
    model = TinyViT()
    report = optlint.check_setup(model, torch.optim.AdamW(decay_groups(model)))
    assert [g.label for g in report.groups] == ["mixed modules wd=0.05", "mixed modules wd=0.0"]


def test_head_left_out_of_the_optimizer_is_named():
    model = TinyViT()
    body = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    report = optlint.check_setup(model, torch.optim.AdamW(body, lr=1e-4))
    found = finding(report, "OPT101")
    assert "2 trainable parameters" in found.message and "`head.*` (2 tensors)" in found.message
    assert "model.head.parameters()" in found.hint
    assert not report.ok


def test_many_missing_names_fold_by_module_prefix():
    model = TinyViT(depth=12)
    kept = [p for n, p in model.named_parameters() if ".attn." not in n]
    found = finding(optlint.check_setup(model, torch.optim.AdamW(kept)), "OPT101")
    assert "`blocks.0-11.attn.*` (48 tensors)" in found.message


def test_frozen_backbone_left_out_is_correct():
    model = Classifier()
    model.backbone.requires_grad_(False)
    report = optlint.check_setup(model, torch.optim.AdamW(model.head.parameters()))
    assert report.findings == []


def test_frozen_backbone_inside_the_group_of_the_head_is_a_warning():
    model = Classifier()
    model.backbone.requires_grad_(False)
    report = optlint.check_setup(model, torch.optim.AdamW(model.parameters(), lr=1e-3))
    found = finding(report, "OPT103")
    assert found.severity == "warning" and report.ok
    assert "`backbone.*` (8 tensors)" in found.message and "group 0" in found.message


def test_tensor_learning_rates_are_shown_as_numbers():
    model = Classifier()
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.Adam([{"params": model.parameters(), "lr": torch.tensor(1e-5)},
                                  {"params": model.act.parameters(), "lr": torch.tensor(1e-3), "weight_decay": 0.0}])
    report = optlint.check_setup(model, optimizer)
    assert "with this group's `lr=1e-05` the moment" in finding(report, "OPT103").message
    assert "its settings (`lr=0.001`, `weight_decay=0.0`)" in finding(report, "OPT105").message


def test_frozen_group_staged_for_unfreezing_is_not_flagged():
    model = Classifier()
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.AdamW([{"params": model.backbone.parameters(), "lr": 1e-5},
                                   {"params": model.head.parameters(), "lr": 1e-3}])
    assert optlint.check_setup(model, optimizer).findings == []


def test_optimizer_built_for_a_deepcopy_trains_nothing_of_the_model():
    model = TinyViT()
    ema = copy.deepcopy(model)
    report = optlint.check_setup(model, torch.optim.AdamW(ema.parameters()))
    assert codes(report) == ["OPT101", "OPT104"]
    assert "none of the model's" in finding(report, "OPT101").message
    assert "the same shapes as all of the model's parameters" in finding(report, "OPT104").message


def test_head_replaced_after_the_optimizer_was_built():
    model = TinyViT(classes=5)
    optimizer = torch.optim.AdamW(model.parameters())
    model.head = nn.Linear(8, 5)
    report = optlint.check_setup(model, optimizer)
    assert codes(report) == ["OPT101", "OPT104"]
    assert "(same shapes as `head.*` (2 tensors))" in finding(report, "OPT104").message


def test_weight_norm_applied_after_the_optimizer_leaves_the_old_weight_in_it():
    """The parametrization replaces `weight` by new tensors (original0, original1): the optimizer holds the old one."""
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    optimizer = torch.optim.Adam(model.parameters())
    nn.utils.parametrizations.weight_norm(model[0])
    report = optlint.check_setup(model, optimizer)
    assert "in no param group: `0.parametrizations.*` (2 tensors)" in finding(report, "OPT101").message
    assert finding(report, "OPT104").message.startswith(
        "1 tensor in group 0 is not a parameter of the model (same shapes as `0.parametrizations.weight.original1`): "
        "it belongs to")


def test_moving_the_model_after_building_the_optimizer_keeps_identity():
    model = TinyViT()
    optimizer = torch.optim.AdamW(model.parameters())
    model.to(torch.float64)  # Module.to() swaps .data in place: the Parameters stay the same objects
    assert optlint.check_setup(model, optimizer).findings == []


def test_relu_group_is_empty():
    model = Classifier()
    optimizer = torch.optim.SGD([{"params": model.backbone.parameters()}, {"params": model.head.parameters()},
                                 {"params": model.act.parameters(), "lr": 1e-2}], lr=0.1)
    found = finding(optlint.check_setup(model, optimizer), "OPT105")
    assert "group 2 holds no tensors" in found.message and "lr=0.01" in found.message


def test_tensor_in_two_groups_after_editing_param_groups_by_hand():
    model = Classifier()
    optimizer = torch.optim.SGD([{"params": model.backbone.parameters()}, {"params": model.head.parameters()}], lr=0.1)
    optimizer.param_groups[0]["params"].append(model.head.weight)
    found = finding(optlint.check_setup(model, optimizer), "OPT102")
    assert "`head.weight` is in more than one group (0 and 1)" in found.message


def test_tensor_twice_in_one_group():
    model = Classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer.param_groups[0]["params"].append(model.head.bias)
    assert "`head.bias` is more than once in group 0" in finding(optlint.check_setup(model, optimizer), "OPT102").message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile imports deprecated jit code
def test_data_parallel_and_compiled_models_are_unwrapped_so_names_match():
    model = TinyViT()
    optimizer = torch.optim.AdamW([p for n, p in model.named_parameters() if not n.startswith("head.")])
    for wrapped in (nn.DataParallel(model), torch.compile(model)):
        found = finding(optlint.check_setup(wrapped, optimizer), "OPT101")
        assert "`head.*` (2 tensors)" in found.message, found.message


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_distributed_data_parallel_is_unwrapped(tmp_path):
    dist = torch.distributed
    if not dist.is_available():
        pytest.skip("torch.distributed is not available in this build")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        model = Classifier()
        ddp = nn.parallel.DistributedDataParallel(model)
        report = optlint.check_setup(ddp, torch.optim.AdamW(ddp.parameters()))
        assert report.findings == []
        assert report.groups[0].names[0] == "backbone.0.weight"
    finally:
        dist.destroy_process_group()


def test_not_a_module_or_optimizer_is_a_type_error():
    model = Classifier()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        optlint.check_setup(model.state_dict(), torch.optim.AdamW(model.parameters()))
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        optlint.check_setup(model, list(model.parameters()))


def test_extra_learnable_tensors_beside_a_fully_covered_model_are_deliberate():
    model = Classifier()
    criterion_scale = nn.Parameter(torch.zeros(()))  # a learnable loss temperature, kept outside the model
    prompt = nn.Parameter(torch.zeros(4, 8))  # a soft prompt tuned with the model
    optimizer = torch.optim.AdamW([{"params": model.parameters()}, {"params": [criterion_scale, prompt], "lr": 1e-2}])
    assert optlint.check_setup(model, optimizer).findings == []
