"""The report says what it means: a warm-up's first LR (0) is not quoted as a group's LR, a label reads as the
tensors it stands for (never `*` for "no common module"), settings are short numbers, and a table of many
groups fits a terminal."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim import lr_scheduler as S

import optlint
from runtime_models import TinyGPT
from optlint.runtime.report import TABLE_WIDTH, setting


def warmup(optimizer):
    return S.LambdaLR(optimizer, lambda step: step / 10)  # starts every group at lr=0


class Transformerish(nn.Module):
    def __init__(self, layers=3):
        super().__init__()
        self.embed = nn.Embedding(8, 4)
        self.blocks = nn.ModuleList(nn.ModuleDict({"attn": nn.Linear(4, 4), "LayerNorm": nn.LayerNorm(4)})
                                    for _ in range(layers))
        self.head = nn.Linear(4, 2)


def test_the_decay_no_decay_pair_is_labelled_by_the_name_endings_it_splits():
    model = Transformerish()
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    decay = [p for p in model.parameters() if all(p is not q for q in no_decay)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}])
    labels = [g.label for g in optlint.check_setup(model, optimizer).groups]
    assert labels == ["* but *.bias, *.LayerNorm.weight", "*.bias, *.LayerNorm.weight"]


def test_a_group_with_no_common_module_and_no_telling_ending_says_so():
    model = Transformerish(layers=6)
    picked = [p for i, (_, p) in enumerate(model.named_parameters()) if i % 3 == 0]
    rest = [p for p in model.parameters() if all(p is not q for q in picked)]
    labels = [g.label for g in optlint.check_setup(model, torch.optim.SGD([{"params": picked}, {"params": rest}],
                                                                           lr=0.1)).groups]
    assert "*" not in labels and all(label.startswith("mixed modules") for label in labels)


def test_the_lr_column_and_messages_quote_the_lr_given_not_the_warm_ups_first():
    model = TinyGPT()
    model.wte.weight.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    report = optlint.check_setup(model, optimizer, warmup(optimizer))
    table = str(report).split("\n\n")[1]
    assert table.splitlines()[1].endswith("5e-05") and report.groups[0].lr == 0.0
    [frozen] = [f for f in report.findings if f.code == "OPT103"]
    assert "`lr=5e-05`" in frozen.message


def test_a_long_float_setting_is_printed_short():
    assert setting(0.00010045242572063329) == "0.0001005"
    assert setting(0.01) == "0.01" and setting(0.0) == "0.0"  # the short ones as they were


def test_a_table_of_28_groups_fits_a_terminal_and_keeps_every_lr():
    model = nn.Sequential(*(nn.Linear(2, 2) for _ in range(28)))
    optimizer = torch.optim.SGD([{"params": layer.parameters(), "lr": 1e-3 * 0.9**i} for i, layer in enumerate(model)])
    text = str(optlint.check_setup(model, optimizer, lambda o: S.StepLR(o, 1, gamma=0.5), epochs=3))
    assert max(map(len, text.split("\n\n")[2].splitlines())) <= TABLE_WIDTH
    for i in range(28):
        assert f" {i}: {i}.*" in text
    assert text.count("epoch") >= 3  # every block has its epoch column
