"""OPT110 and OPT111 on real models: opt-in weight-decay hygiene, and the torch facts behind it."""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import optlint
from optlint import facts
from optlint.runtime.rules.opt110_weight_decay_on_norm_or_bias import is_norm
from runtime_models import Classifier, TinyGPT, TinyViT, decay_groups

BOTH = ["OPT1", "OPT110", "OPT111"]


def findings(model, optimizer, select=BOTH) -> dict[str, str]:
    report = optlint.check_setup(model, optimizer, select=select)
    assert len({f.code for f in report.findings}) == len(report.findings), report
    return {f.code: f.message for f in report.findings}


def no_decay_split(model: nn.Module, weight_decay: float = 0.05) -> list[dict]:
    """The usual fix: biases, norm weights and untied embedding tables in a group of their own."""
    decay, no_decay = {}, {}
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            keep = name.endswith("bias") or isinstance(module, NO_DECAY_MODULES)
            (no_decay if keep and id(param) not in decay else decay)[id(param)] = param
    no_decay = [p for key, p in no_decay.items() if key not in decay]  # a tied table is an output matrix too
    return [{"params": list(decay.values()), "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class LlamaRMSNorm(nn.Module):
    """A user norm: no torch base class, only its name says what it is."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))


class AdaLayerNorm(nn.Module):
    """A norm whose conditioning projection is an ordinary weight matrix."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.proj = nn.Linear(dim, 2 * dim, bias=False)


class Decoder(nn.Module):
    def __init__(self, vocab: int = 50, dim: int = 8):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.norm = LlamaRMSNorm(dim)
        self.ada = AdaLayerNorm(dim)
        self.torch_norm = nn.RMSNorm(dim)
        self.out = nn.Linear(dim, vocab, bias=False)


NO_DECAY_MODULES = (nn.LayerNorm, nn.BatchNorm2d, nn.RMSNorm, LlamaRMSNorm, nn.Embedding)


# --- OPT110 -------------------------------------------------------------------------------------------

def test_adamw_default_decay_on_norms_and_biases_is_reported_with_folded_names():
    model = TinyViT()
    message = findings(model, torch.optim.AdamW(model.parameters(), lr=1e-3))["OPT110"]
    assert message.startswith("group 0 (`weight_decay=0.01`, AdamW's default) also decays 7 normalisation weights")
    assert "`blocks.0-2.norm1.*` (6 tensors)" in message and "`blocks.0-2.attn.in_proj_bias` (3 tensors)" in message
    assert "patch_embed.weight" not in message and "cls_token" not in message


def test_opt_in_rules_run_only_when_selected_by_full_code():
    model = TinyViT()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.01)
    assert optlint.check_setup(model, optimizer).findings == []
    assert optlint.check_setup(model, optimizer, select=["OPT11", "OPT1"]).findings == []
    assert set(findings(model, optimizer, select=["OPT111"])) == {"OPT111"}
    assert set(findings(model, optimizer, select=BOTH)) == {"OPT110", "OPT111"}
    assert set(findings(model, optimizer, select=["OPT110", "OPT111"])) == {"OPT110", "OPT111"}
    assert optlint.check_setup(model, optimizer, select=BOTH, ignore=["OPT110", "OPT111"]).findings == []


def test_user_norms_torch_rmsnorm_and_untied_embeddings_are_named_but_a_norms_projection_is_not():
    model = Decoder()
    message = findings(model, torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=5e-4))["OPT110"]
    assert "decays 1 embedding and 2 normalisation weights: `tokens.weight`, `norm.weight`, `torch_norm.weight`." in message
    assert "ada.proj" not in message and "out.weight" not in message


def test_an_embedding_tied_to_the_output_layer_decays_as_a_weight_matrix():
    model = TinyGPT()
    message = findings(model, torch.optim.AdamW(model.parameters(), weight_decay=0.1))["OPT110"]
    assert "wte" not in message and "`ln_f.*` (2 tensors)" in message


def test_groups_with_different_decays_are_named_in_one_finding():
    model = TinyViT()
    groups = [{"params": model.head.parameters(), "weight_decay": 0.1},
              {"params": model.norm.parameters(), "weight_decay": 0.0},
              {"params": [p for n, p in model.named_parameters() if not n.startswith(("head.", "norm."))]}]
    message = findings(model, torch.optim.AdamW(groups, weight_decay=0.05))["OPT110"]
    assert message.startswith("groups 0 (`weight_decay=0.1`) and 2 (`weight_decay=0.05`) also decay")
    assert "norm.*" not in message.split(":")[1].split(",")[-1]


def test_frozen_norms_in_a_decay_group_are_not_reported():
    """A parameter without a gradient is skipped by every optimizer: no decay reaches it."""
    model = Classifier()
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            param.requires_grad_(not (name == "bias" or isinstance(module, nn.BatchNorm2d)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)
    assert findings(model, optimizer, select=["OPT110"]) == {}


@pytest.mark.parametrize("make", [TinyViT, TinyGPT, Classifier, Decoder])
def test_the_usual_decay_no_decay_split_is_clean(make):
    model = make()
    for split in (no_decay_split(model), no_decay_split(model, weight_decay=0.0)):
        assert findings(model, torch.optim.AdamW(split, lr=1e-3)) == {}


@pytest.mark.parametrize("make", [TinyViT, Classifier])
def test_no_decay_at_all_is_clean(make):
    model = make()
    assert findings(model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)) == {}
    assert findings(model, torch.optim.AdamW(model.parameters(), weight_decay=0.0)) == {}


def test_the_nanogpt_split_is_reported_only_for_what_it_decays_besides_matrices():
    """`p.dim() >= 2` decays the class token and patch convolution (fine) and nothing the rule names."""
    model = TinyViT()
    assert findings(model, torch.optim.AdamW(decay_groups(model), lr=1e-3)) == {}


# --- OPT111 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [torch.optim.Adam, torch.optim.NAdam, torch.optim.RAdam])
def test_coupled_decay_of_the_adam_family_is_reported(cls):
    model = Classifier()
    message = findings(model, cls(no_decay_split(model, 1e-4), lr=1e-3))["OPT111"]
    assert message.startswith(f"group 0 (`weight_decay=0.0001`) of `{cls.__name__}` adds the decay to the gradient")


def test_the_hint_names_adamw_for_adam_and_the_flag_for_the_others():
    model = Classifier()
    hints = {cls: optlint.check_setup(model, cls(model.parameters(), weight_decay=0.1), select=["OPT111"]).findings[0].hint
             for cls in (torch.optim.Adam, torch.optim.RAdam)}
    assert "torch.optim.AdamW(" in hints[torch.optim.Adam]
    assert "RAdam(..., decoupled_weight_decay=True)" in hints[torch.optim.RAdam]


@pytest.mark.parametrize("build", [
    lambda m: torch.optim.AdamW(m.parameters(), weight_decay=0.1),
    lambda m: torch.optim.Adam(m.parameters(), weight_decay=0.1, decoupled_weight_decay=True),
    lambda m: torch.optim.NAdam(m.parameters(), weight_decay=0.1, decoupled_weight_decay=True),
    lambda m: torch.optim.Adam(m.parameters(), lr=1e-3),
    lambda m: torch.optim.Adam([{"params": m.parameters(), "weight_decay": 0.0}], weight_decay=0.1),
    lambda m: torch.optim.SGD(m.parameters(), lr=0.1, weight_decay=5e-4),
], ids=["AdamW", "Adam-decoupled", "NAdam-decoupled", "Adam-no-decay", "group-without-decay", "SGD"])
def test_decoupled_or_absent_decay_is_not_reported(build):
    model = Classifier()
    assert "OPT111" not in findings(model, build(model), select=["OPT111"])


# --- the torch facts --------------------------------------------------------------------------------

def test_adam_nadam_radam_are_exactly_the_classes_with_a_decoupled_flag_defaulting_to_false():
    with_flag = {name for name, cls in vars(torch.optim).items() if isinstance(cls, type)
                 and issubclass(cls, torch.optim.Optimizer)
                 and "decoupled_weight_decay" in inspect.signature(cls.__init__).parameters}
    assert with_flag == {"Adam", "NAdam", "RAdam"}
    assert with_flag == {name for name, info in facts.load().optimizers.items()
                         if "decoupled_weight_decay" in info["keywords"]}
    for name in with_flag:
        assert inspect.signature(getattr(torch.optim, name)).parameters["decoupled_weight_decay"].default is False


def test_adamw_is_adam_with_decoupled_decay_bit_for_bit_and_its_default_decay_fills_every_group():
    torch.manual_seed(0)
    inputs = torch.randn(6, 8)

    def trained(cls, **kwargs) -> list[torch.Tensor]:
        torch.manual_seed(1)
        model = nn.Linear(8, 4)
        optimizer = cls(model.parameters(), lr=1e-2, **kwargs)
        for _ in range(3):
            optimizer.zero_grad()
            model(inputs).square().sum().backward()
            optimizer.step()
        return [p.detach() for p in model.parameters()]

    adamw, adam = trained(torch.optim.AdamW), trained(torch.optim.Adam, weight_decay=0.01, decoupled_weight_decay=True)
    assert all(torch.equal(a, b) for a, b in zip(adamw, adam))
    assert torch.optim.AdamW([{"params": [nn.Parameter(torch.ones(1))]}]).param_groups[0]["weight_decay"] == 0.01


def test_coupled_decay_barely_touches_weights_with_large_gradients():
    """OPT111's claim: L2 in Adam is divided by the gradient's RMS, so its effect depends on the gradient."""
    def moved_by_decay(grad_scale: float) -> float:
        results = []
        for decay in (0.0, 0.1):
            weight = nn.Parameter(torch.ones(4))
            optimizer = torch.optim.Adam([weight], lr=1e-2, weight_decay=decay)
            for _ in range(5):
                weight.grad = torch.full((4,), -grad_scale)  # pushes the weight up, decay pulls it down
                optimizer.step()
            results.append(weight.detach().clone())
        return (results[1] - results[0]).abs().max().item()

    assert moved_by_decay(100.0) < 1e-5 < 1e-3 < moved_by_decay(1e-3)


def test_every_torch_norm_class_is_a_norm_and_layers_around_them_are_not():
    norms = [cls for name, cls in vars(nn).items() if isinstance(cls, type) and "Norm" in name]
    assert {"BatchNorm2d", "LayerNorm", "GroupNorm", "RMSNorm", "SyncBatchNorm", "LazyInstanceNorm3d"} <= {
        cls.__name__ for cls in norms}
    assert all(is_norm(cls) for cls in norms)
    assert is_norm(LlamaRMSNorm) and not is_norm(AdaLayerNorm.__mro__[1])
    assert not any(is_norm(cls) for cls in (nn.Linear, nn.Embedding, nn.MultiheadAttention, nn.Conv2d, nn.Identity))


def test_runtime_command_selects_the_opt_in_rules(tmp_path):
    from click.testing import CliRunner

    from optlint.cli import main

    path = tmp_path / "setup.py"
    path.write_text("import torch\nfrom torch import nn\n\ndef build():\n    model = nn.Sequential(nn.Linear(4, 4), "
                    "nn.LayerNorm(4))\n    return model, torch.optim.Adam(model.parameters(), weight_decay=0.1)\n")
    default = CliRunner().invoke(main, ["runtime", f"{path}:build", "--device", "cpu"])
    chosen = CliRunner().invoke(main, ["runtime", f"{path}:build", "--device", "cpu", "--select", "OPT1,OPT110",
                                       "--select", "OPT111", "--ignore", "OPT105"])
    assert default.exit_code == 0 and "OPT11" not in default.stdout
    assert chosen.exit_code == 0 and "OPT110 [warning]" in chosen.stdout and "OPT111 [warning]" in chosen.stdout
