"""The library model facts table (optlint/library_facts.json) and OPT006 on library models."""

import functools
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optlint.static.runner import lint_text

ROOT = Path(__file__).resolve().parent.parent
TABLE = json.loads((ROOT / "optlint" / "library_facts.json").read_text())


@functools.cache
def _generator():
    spec = importlib.util.spec_from_file_location("gen_library_facts", ROOT / "scripts" / "gen_library_facts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_checked_in_table_matches_the_libraries_source_here():
    """Drift: regenerated from the installed timm/transformers and torchvision's downloaded wheel."""
    fresh = _generator().generate()
    if fresh["skipped"]:
        pytest.skip(f"not readable here: {sorted(fresh['skipped'])}")
    for section in fresh:
        assert TABLE[section] == fresh[section], f"library_facts.json section {section!r} is stale: run " \
                                                 "`make library-facts`"


def test_table_records_the_versions_it_was_read_from():
    assert set(TABLE["versions"]) | set(TABLE["skipped"]) == {"torchvision", "timm", "transformers"}


def test_resnet_facts_are_the_ones_in_its_source():
    assert TABLE["classes"]["torchvision.models.resnet.ResNet"] == {
        "avgpool": ["AdaptiveAvgPool2d"], "maxpool": ["MaxPool2d"], "relu": ["ReLU"]}
    assert TABLE["factories"]["torchvision.models.resnet34"] == {"class": "torchvision.models.resnet.ResNet"}
    assert "timm.create_model" not in TABLE["factories"]  # chooses the class at run time




def _facts_of(tmp_path, source: str) -> dict:
    generator = _generator()
    (tmp_path / "fakelib" / "models").mkdir(parents=True)
    (tmp_path / "fakelib" / "__init__.py").write_text("")
    (tmp_path / "fakelib" / "models" / "__init__.py").write_text("from .net import *\n")
    (tmp_path / "fakelib" / "models" / "net.py").write_text(source)
    library = generator.Library("fakelib", ("fakelib.models",), factories=True)
    analyser = generator.Analyser(library, generator.Source(tmp_path, "fakelib"))
    classes, factories = {}, {}
    for module in generator._scanned_modules(analyser.source, library):
        generator._add_module(analyser, module, classes, factories)
    return {"classes": classes, "factories": factories}


NET = """
from torch import nn
class Net(nn.Module):
    def __init__(self, act_layer=nn.ReLU, pool=True):
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.act = act_layer()
        self.flat = nn.Flatten(1) if pool else nn.Identity()
        self.bn = nn.BatchNorm2d(8, affine=False)
        self.norm = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(0.1)
        self.pool = nn.MaxPool2d(2)
    def reset(self):
        self.pool, self.head = make_head()
        self.drop.weight = None
def net():
    model = Net()
    model.load_state_dict({})
    return model
def fused():
    model = Net()
    fuse(model)
    return model
"""


def test_generator_keeps_only_what_every_store_proves(tmp_path):
    found = _facts_of(tmp_path, NET)
    assert found["classes"] == {"fakelib.models.net.Net": {
        "bn": ["BatchNorm2d"], "flat": ["Flatten", "Identity"], "relu": ["ReLU"]}}
    # `fused` passes its model to a function that may replace modules: not a factory of Net.
    assert found["factories"] == {name: {"class": "fakelib.models.net.Net"} for name in (
        "fakelib.models.Net", "fakelib.models.net.Net", "fakelib.models.net", "fakelib.models.net.net")}


def test_generator_gives_up_on_a_class_that_sets_attributes_by_computed_name(tmp_path):
    source = NET.replace("        self.pool = nn.MaxPool2d(2)\n",
                         "        self.pool = nn.MaxPool2d(2)\n        setattr(self, name, nn.Linear(2, 2))\n")
    assert _facts_of(tmp_path, source)["classes"] == {}


def _opt006(source: str) -> list[int]:
    return [f.row for f in lint_text(source, "train.py") if f.code == "OPT006"]


RESNET = """
import torch
import torchvision
from torch import nn
model = torchvision.models.resnet34()
"""


@pytest.mark.parametrize("group", ["model.relu", "model.maxpool", "model.avgpool"])
def test_parameterless_attribute_of_a_torchvision_model_in_a_group(group):
    assert _opt006(RESNET + f'opt = torch.optim.AdamW([{{"params": {group}.parameters()}}, '
                            '{"params": model.fc.parameters()}])\n') == [6]


def test_parameterless_attribute_of_a_direct_factory_call():
    assert _opt006("import torch, torchvision\n"
                   "opt = torch.optim.SGD(torchvision.models.resnet34().relu.parameters(), lr=0.1)\n") == [2]


@pytest.mark.parametrize("group", ["model.fc", "model.layer4", "model.conv1", "model.unknown"])
def test_layers_with_weights_are_silent(group):
    assert _opt006(RESNET + f'opt = torch.optim.AdamW([{{"params": {group}.parameters()}}])\n') == []


@pytest.mark.parametrize("source", [
    # a subclass that replaces the ReLU with a learnable PReLU
    "import torch\nfrom torch import nn\nfrom torchvision.models import ResNet\n"
    "class Mine(ResNet):\n    def __init__(self):\n        super().__init__(None, [2, 2, 2, 2])\n"
    "        self.relu = nn.PReLU()\nmodel = Mine()\nopt = torch.optim.SGD(model.relu.parameters(), lr=0.1)\n",
    # the user's own class named ResNet
    "import torch\nfrom torch import nn\nclass ResNet(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.relu = nn.PReLU()\n"
    "def resnet34():\n    return ResNet()\nmodel = resnet34()\nopt = torch.optim.SGD(model.relu.parameters(), lr=0.1)\n",
    # the model rebound to something else
    RESNET + "model = build_wrapper(model)\nopt = torch.optim.SGD(model.relu.parameters(), lr=0.1)\n",
    # the attribute replaced on the instance
    RESNET + "model.relu = nn.PReLU()\nopt = torch.optim.SGD(model.relu.parameters(), lr=0.1)\n",
    # a factory choosing the class at run time
    "import torch, timm\nmodel = timm.create_model('resnet50')\n"
    "opt = torch.optim.SGD(model.act1.parameters(), lr=0.1)\n",
    # a model arriving as a parameter
    "import torch\ndef build(model):\n    return torch.optim.SGD(model.relu.parameters(), lr=0.1)\n",
])
def test_uncertain_library_models_are_silent(source):
    assert _opt006(source) == []


def test_linting_a_library_model_imports_no_library_and_reads_the_table_only_then():
    script = ("import sys\nfrom optlint.static.runner import lint_text\nfrom optlint import library_facts\n"
              "lint_text('import torch\\nopt = torch.optim.SGD(model.parameters())\\n', 't.py')\n"
              "before = library_facts._table.cache_info().currsize\n"
              f"lint_text({RESNET + 'opt = torch.optim.SGD(model.relu.parameters())'!r}, 't.py')\n"
              "print(before, library_facts._table.cache_info().currsize,"
              " any(m in sys.modules for m in ('torch', 'torchvision', 'timm', 'transformers')))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["0", "1", "False"]
