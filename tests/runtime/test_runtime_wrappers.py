"""Wrappers inside the model (a compiled or checkpointed block, a DataParallel submodule) are looked
through, so the names are the ones the user wrote. Multi-rank wrappers: test_runtime_distributed.py."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

import optlint
from optlint.runtime.unwrap import unwrap_model, user_named_parameters
from runtime_models import TinyViT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile imports deprecated jit code


def wrapped_blocks(wrap) -> TinyViT:
    model = TinyViT()
    for i, block in enumerate(model.blocks):
        model.blocks[i] = wrap(block)
    return model


WRAPS = {"compile": torch.compile, "checkpoint": checkpoint_wrapper, "data_parallel": nn.DataParallel,
         "checkpoint_then_compile": lambda block: torch.compile(checkpoint_wrapper(block))}


@pytest.mark.parametrize("wrap", WRAPS.values(), ids=WRAPS.keys())
def test_wrapped_blocks_keep_the_names_of_the_plain_model(wrap):
    model = wrapped_blocks(wrap)
    raw = [name for name, _ in model.named_parameters()]
    assert raw != [name for name, _ in TinyViT().named_parameters()]  # the wrappers are in torch's names
    assert [name for name, _ in user_named_parameters(model)] == [name for name, _ in TinyViT().named_parameters()]


@pytest.mark.parametrize("wrap", WRAPS.values(), ids=WRAPS.keys())
def test_a_block_left_out_is_named_as_written(wrap):
    model = wrapped_blocks(wrap)
    optimizer = torch.optim.AdamW([p for name, p in model.named_parameters() if "blocks.1." not in name])
    found = optlint.check_setup(model, optimizer).findings
    assert [f.code for f in found] == ["OPT101"]
    assert "in no param group: `blocks.1.*` (12 tensors)" in found[0].message


def test_a_child_the_user_called_module_keeps_its_name():
    model = nn.Sequential()
    model.add_module("module", nn.Linear(2, 2))
    assert [name for name, _ in user_named_parameters(model)] == ["module.weight", "module.bias"]
    assert unwrap_model(model) is model


def test_wrappers_around_wrappers_are_all_unwrapped():
    model = TinyViT()
    assert unwrap_model(torch.compile(nn.DataParallel(checkpoint_wrapper(model)))) is model
