"""`probe_step` on real models: one real optimizer step, ‖Δw‖/‖w‖ per group, gradients that never arrive,
and originals that stay bit-identical."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import LinearLR

import optlint
from runtime_models import Classifier, TinyGPT, TinyViT, decay_groups, differential_groups

IMAGES = torch.randn(8, 3, 16, 16, generator=torch.Generator().manual_seed(0))
LABELS = torch.randint(0, 5, (8,), generator=torch.Generator().manual_seed(1))


def cross_entropy(model, batch):
    images, labels = batch
    return nn.functional.cross_entropy(model(images), labels)


def vit(seed: int = 0) -> TinyViT:
    torch.manual_seed(seed)
    return TinyViT()


def same_scale(model: nn.Module, std: float = 0.2) -> nn.Module:
    """Every weight drawn with one std, so that only the LR tells the groups' ratios apart."""
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, std)
    return model


def snapshot(model: nn.Module, optimizer: torch.optim.Optimizer) -> list:
    tensors = [*model.state_dict().values(), *(p.grad for p in model.parameters())]
    state = optimizer.state_dict()
    return [tensors, copy.deepcopy(state["state"]), copy.deepcopy(state["param_groups"]), torch.get_rng_state()]


def identical(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    return a == b


# --- the numbers ---------------------------------------------------------------------------------------

def test_a_head_with_a_100x_lr_moves_100x_further_relative_to_its_weights():
    model = same_scale(vit())
    optimizer = torch.optim.AdamW(differential_groups(model, backbone_lr=1e-5, head_lr=1e-3), weight_decay=0.0)
    backbone, head = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups
    # Not exactly 100: elements whose gradient is 0 (attention key biases, by softmax's shift invariance) stay put.
    assert head.ratio / backbone.ratio == pytest.approx(100, rel=0.25)
    assert (backbone.verdict, head.verdict) == ("low: barely trains", "typical")


def test_adams_first_step_is_lr_times_the_sign_of_the_gradient():
    model = vit()
    optimizer = torch.optim.Adam(differential_groups(model, backbone_lr=1e-4, head_lr=1e-2))
    report = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS))
    cross_entropy(model, (IMAGES, LABELS)).backward()
    for group, real in zip(report.groups, optimizer.param_groups):
        # m̂ = g and v̂ = g² after one step: each element moves by lr·g/(|g| + eps), lr·sign(g) unless g ≈ eps
        signs = [p.grad / (p.grad.abs() + real["eps"]) for p in real["params"]]
        assert group.update_norm == pytest.approx(group.lr * math.sqrt(sum(s.square().sum() for s in signs)), rel=1e-4)
        assert group.update_norm == pytest.approx(group.lr * math.sqrt(group.elements), rel=0.01)
        assert group.sign_like
    assert "this was Adam's first step: for every group the update was about lr·sign(g)" in str(report)


def test_a_second_adam_step_and_sgd_are_not_called_sign_like():
    model = vit()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS), in_place=True)
    assert not any(g.sign_like for g in optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    assert "sign" not in str(optlint.probe_step(model, sgd, cross_entropy, (IMAGES, LABELS)))


def test_sgd_moves_each_group_by_lr_times_its_gradient():
    model = vit()
    optimizer = torch.optim.SGD(differential_groups(model, backbone_lr=0.01, head_lr=0.5))
    for group in optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups:
        assert group.update_norm == pytest.approx(group.lr * group.grad_norm, rel=1e-5)
        assert group.weight_norm == pytest.approx(torch.cat([p.flatten() for p in optimizer.param_groups[
            group.index]["params"]]).norm().item(), rel=1e-5)


def test_a_zero_lr_group_and_zero_weights_are_read_as_such():
    model = vit()
    with torch.no_grad():
        model.head.bias.zero_()
    optimizer = torch.optim.SGD([{"params": [model.head.bias], "lr": 0.1},
                                 {"params": [p for n, p in model.named_parameters() if n != "head.bias"], "lr": 0.0}])
    bias, rest = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups
    assert bias.ratio is None and bias.verdict == "zero weights: no ratio" and bias.update_norm > 0
    assert rest.update_norm == 0 and rest.verdict == "lr=0 at this step: no update"


# --- gradients that never arrive -------------------------------------------------------------------------

class WithUnusedBranch(TinyViT):
    """An auxiliary head that forward never calls."""

    def __init__(self):
        super().__init__()
        self.aux_head = nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 5))


def test_a_group_holding_only_an_unused_branch_is_reported():
    torch.manual_seed(0)
    model = WithUnusedBranch()
    aux = list(model.aux_head.parameters())
    rest = [p for p in model.parameters() if all(p is not a for a in aux)]
    optimizer = torch.optim.AdamW([{"params": rest}, {"params": aux, "lr": 1e-2}])
    report = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS))
    used, unused = report.groups
    assert (used.no_grad_share, unused.no_grad_share) == (0.0, 1.0) and unused.update_norm == 0
    assert unused.verdict == "no gradient" and not report.ok
    [finding] = report.findings
    assert (finding.code, finding.message) == ("OPT117", "group 1 (`aux_head.*`): none of its tensors received a "
                                               "gradient: not used in forward (or detached from the loss), so the "
                                               "optimizer never changes them.")


def test_an_unused_branch_inside_a_group_is_named_with_its_share():
    torch.manual_seed(0)
    model = WithUnusedBranch()
    report = optlint.probe_step(model, torch.optim.SGD(model.parameters(), lr=0.1), cross_entropy, (IMAGES, LABELS))
    [group] = report.groups
    aux_elements = sum(p.numel() for p in model.aux_head.parameters())
    assert group.no_grad_share == pytest.approx(aux_elements / sum(p.numel() for p in model.parameters()))
    assert group.no_grad_names == ("aux_head.* (4 tensors)",)
    assert "group 0 (`*`): `aux_head.*` (4 tensors) received no gradient" in report.findings[0].message


def test_frozen_tensors_are_left_out_of_the_numbers_and_are_not_missing_gradients():
    model = vit()
    model.patch_embed.requires_grad_(False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    [group] = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups
    assert group.frozen == 2 and group.no_grad_elements == 0
    assert group.elements == sum(p.numel() for p in model.parameters() if p.requires_grad)


# --- clean set-ups -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "groups"), [
    (vit, lambda m: differential_groups(m)),
    (vit, decay_groups),
    (lambda: Classifier(), lambda m: m.parameters()),
])
def test_clean_setups_report_no_problem(make, groups):
    model = make()
    report = optlint.probe_step(model, torch.optim.AdamW(groups(model), lr=1e-3), cross_entropy, (IMAGES[:, :, :12, :12]
                                if isinstance(model, Classifier) else IMAGES, LABELS % 4))
    assert report.ok and report.findings == [] and str(report).endswith("All checks passed.")


def test_a_language_model_with_tied_weights_and_a_loss_output_object():
    torch.manual_seed(0)
    model = TinyGPT()
    tokens = torch.randint(0, 32, (4, 6))

    class Output:  # what Hugging Face models return
        def __init__(self, loss):
            self.loss = loss

    def loss_fn(model, tokens):
        logits = model(tokens[:, :-1])
        return Output(nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()))

    report = optlint.probe_step(model, torch.optim.AdamW(decay_groups(model), lr=3e-4), loss_fn, tokens)
    assert report.ok and [g.tensors for g in report.groups] == [len(g["params"]) for g in decay_groups(model)]


# --- the originals -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stepped_before", [False, True])
def test_the_model_optimizer_and_rng_are_bit_identical_afterwards(stepped_before):
    model = vit()
    model.train()
    optimizer = torch.optim.AdamW(differential_groups(model), weight_decay=0.05)
    if stepped_before:  # optimizer state to copy, and gradients left from the last step
        cross_entropy(model, (IMAGES, LABELS)).backward()
        optimizer.step()
    before = snapshot(model, optimizer)
    optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS))
    assert identical(snapshot(model, optimizer), before)


def test_in_place_takes_the_real_step_and_reports_the_same_numbers():
    model = vit()
    optimizer = torch.optim.AdamW(differential_groups(model), weight_decay=0.05)
    twin_model, twin_optimizer = copy.deepcopy((model, optimizer))
    on_copy = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS))
    in_place = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS), in_place=True)
    twin_optimizer.zero_grad()
    cross_entropy(twin_model, (IMAGES, LABELS)).backward()
    twin_optimizer.step()
    assert identical(model.state_dict(), twin_model.state_dict())
    assert [g.to_dict() for g in in_place.groups] == [g.to_dict() for g in on_copy.groups]
    assert "in_place=True" in str(in_place)


def test_a_loss_fn_that_runs_the_original_model_is_refused_and_its_gradients_restored():
    model = vit()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="loss_fn computed the loss with the original model"):
        optlint.probe_step(model, optimizer, lambda _copy, batch: cross_entropy(model, batch), (IMAGES, LABELS))
    assert all(p.grad is None for p in model.parameters())


def test_a_loss_module_with_trainable_parameters_is_stepped_with_the_copy():
    class TemperatureLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.log_temperature = nn.Parameter(torch.zeros(()))

        def forward(self, model, batch):
            images, labels = batch
            return nn.functional.cross_entropy(model(images) / self.log_temperature.exp(), labels)

    model, loss = vit(), TemperatureLoss()
    optimizer = torch.optim.SGD([*model.parameters(), loss.log_temperature], lr=0.1)
    report = optlint.probe_step(model, optimizer, loss, (IMAGES, LABELS))
    assert report.ok and loss.log_temperature.item() == 0 and loss.log_temperature.grad is None


def test_a_torch_loss_module_takes_inputs_and_targets():
    model = vit()
    report = optlint.probe_step(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
                                (IMAGES, LABELS))
    assert report.loss == pytest.approx(cross_entropy(model, (IMAGES, LABELS)).item())


@pytest.mark.parametrize(("loss_fn", "batch", "message"), [
    (lambda m, b: m(b[0]), (IMAGES, LABELS), "loss_fn must return the scalar loss tensor, got a tensor of shape (8, 5)"),
    (nn.CrossEntropyLoss(), IMAGES, "the batch must be (inputs, targets)"),
    ("cross_entropy", (IMAGES, LABELS), "loss_fn must be callable"),
])
def test_bad_loss_functions_say_what_is_expected(loss_fn, batch, message):
    model = vit()
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        optlint.probe_step(model, torch.optim.SGD(model.parameters(), lr=0.1), loss_fn, batch)


def test_the_lr_a_warm_up_scheduler_set_is_the_one_used():
    model = vit()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    LinearLR(optimizer, start_factor=0.01, total_iters=10)
    [group] = optlint.probe_step(model, optimizer, cross_entropy, (IMAGES, LABELS)).groups
    assert group.lr == pytest.approx(1e-3) and group.update_norm == pytest.approx(1e-3 * group.grad_norm, rel=1e-5)


def test_a_loss_that_is_not_finite_is_a_problem():
    model = vit()
    report = optlint.probe_step(model, torch.optim.SGD(model.parameters(), lr=0.1),
                                lambda m, b: cross_entropy(m, b) * float("nan"), (IMAGES, LABELS))
    assert not report.ok and report.findings[0].code == "OPT118"
    assert report.findings[0].message.startswith("the loss is nan")
    assert report.groups[0].verdict == "not finite"


def test_report_to_dict_is_json_able_and_carries_the_rule_of_thumb():
    import json

    model = vit()
    data = optlint.probe_step(model, torch.optim.AdamW(model.parameters()), cross_entropy, (IMAGES, LABELS)).to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["rule_of_thumb"] == {"typical": 1e-3, "high_above": 1e-2, "low_below": 1e-4}
    assert set(data["groups"][0]) >= {"ratio", "grad_norm", "no_grad_share", "no_grad_params", "verdict"}
    assert data["notes"][0].startswith("this was AdamW's first step")
