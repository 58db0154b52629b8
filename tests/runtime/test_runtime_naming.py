"""Folding parameter names into module prefixes and ranges."""

from __future__ import annotations

from optlint.runtime.naming import ModuleTree, common_prefix, describe, join_and

VIT = ([f"blocks.{i}.{part}" for i in range(12) for part in
        ("attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.fc1.weight", "mlp.fc1.bias")]
       + ["cls_token", "head.weight", "head.bias"])


def folded(names, universe=VIT) -> str:
    return describe(ModuleTree(universe).fold(names))


def test_a_fully_selected_module_folds_to_its_prefix():
    assert folded(["head.weight", "head.bias"]) == "`head.*` (2 tensors)"


def test_a_partly_selected_module_lists_the_names():
    assert folded(["head.bias"]) == "`head.bias`"
    assert folded(["blocks.3.attn.qkv.bias", "cls_token"]) == "`blocks.3.attn.qkv.bias`, `cls_token`"


def test_numbered_siblings_merge_into_ranges():
    attn = [n for n in VIT if ".attn." in n]
    assert folded(attn) == "`blocks.0-11.attn.*` (48 tensors)"
    some = [n for n in attn if n.split(".")[1] in {"0", "1", "2", "5", "7", "8"}]
    assert folded(some) == "`blocks.0-2,5,7-8.attn.*` (24 tensors)"


def test_names_are_listed_in_model_order_and_cut_when_many():
    biases = [n for n in VIT if n.endswith("bias")][::-1]
    assert folded(biases) == ("`blocks.0-11.attn.qkv.bias` (12 tensors), `blocks.0-11.attn.proj.bias` (12 tensors), "
                              "`blocks.0-11.mlp.fc1.bias` (12 tensors), `head.bias`")
    many = [f"layer{i}.weight" for i in range(10)]
    assert describe(ModuleTree(many).fold(many)) == ("`layer0.weight`, `layer1.weight`, `layer2.weight`, "
                                                     "`layer3.weight`, `layer4.weight` and 5 more (5 tensors)")


def test_a_prefix_does_not_cover_a_longer_sibling_name():
    universe = ["block.weight", "block1.weight", "block1.bias"]
    assert folded(["block1.weight", "block1.bias"], universe) == "`block1.*` (2 tensors)"
    assert ModuleTree(universe).below("block") == 1


def test_common_prefix_is_a_module_boundary():
    assert common_prefix(["blocks.1.attn.w", "blocks.10.mlp.w"]) == "blocks.*"
    assert common_prefix(["head.weight", "head.bias"]) == "head.*"
    assert common_prefix(["cls_token", "head.weight"]) == "*"


def test_join_and():
    assert [join_and(x) for x in ([0], [0, 1], [0, 1, 2])] == ["0", "0 and 1", "0, 1 and 2"]
