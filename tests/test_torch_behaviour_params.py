"""What torch really does with the params an optimizer is given: the facts behind OPT005, OPT006,
OPT008 and OPT009, proven against the installed torch."""

import itertools
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from optlint import facts  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.fc = nn.Linear(4, 2)


# -- OPT005: a module where parameters belong ---------------------------------------------------
def test_module_inside_the_params_list_raises_type_error():
    net = Net()
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        torch.optim.SGD([net.backbone, net.fc], lr=0.1)


@pytest.mark.parametrize("as_group", [False, True])
def test_module_as_the_whole_params_or_a_groups_params_raises_type_error(as_group):
    module = Net().fc
    params = [{"params": module}] if as_group else module
    with pytest.raises(TypeError, match="'Linear' object is not iterable"):
        torch.optim.SGD(params, lr=0.1)


def test_sequential_as_params_raises_type_error_on_its_submodules():
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        torch.optim.SGD(nn.Sequential(nn.Linear(2, 2)), lr=0.1)


def test_parameter_list_is_a_valid_iterable_of_parameters():
    scales = nn.ParameterList([nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(2))])
    opt = torch.optim.Adam([{"params": scales}], lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2
    assert facts.load().nn_modules["ParameterList"].get("iterable_of_parameters")
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        torch.optim.Adam([scales], lr=0.1)  # but not as an element of the list


@pytest.mark.parametrize(
    ("method", "args"), [("to", ("cpu",)), ("train", ()), ("eval", ()), ("float", ()), ("requires_grad_", ())]
)
def test_module_methods_that_return_the_module_itself(method, args):
    # `model = Net().to(device)` is still the module: the facts table lists these methods.
    module = nn.Linear(2, 2)
    assert getattr(module, method)(*args) is module
    assert method in facts.load().nn_modules["Module"]["methods_returning_self"]


# -- OPT006: .parameters() of a parameterless module ---------------------------------------------
def test_parameterless_module_gives_a_silently_empty_group():
    net = Net()
    opt = torch.optim.SGD([{"params": net.backbone.parameters()}, {"params": net.act.parameters(), "lr": 1.0}], lr=0.1)
    assert opt.param_groups[1]["params"] == []


def test_parameterless_module_as_the_only_params_raises_value_error():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        torch.optim.SGD(nn.ReLU().parameters(), lr=0.1)


def test_parameterless_module_chained_with_another_adds_nothing():
    net = Net()
    opt = torch.optim.SGD(itertools.chain(net.fc.parameters(), net.act.parameters()), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == len(list(net.fc.parameters()))


@pytest.mark.parametrize(
    ("name", "build", "false_flags", "true_flags"),
    [
        ("ReLU", lambda: nn.ReLU(inplace=True), set(), set()),
        ("Dropout", lambda: nn.Dropout(0.1), set(), set()),
        ("MaxPool2d", lambda: nn.MaxPool2d(2), set(), set()),
        ("AdaptiveAvgPool2d", lambda: nn.AdaptiveAvgPool2d(1), set(), set()),
        ("Identity", lambda: nn.Identity(), set(), set()),
        ("BatchNorm2d", lambda: nn.BatchNorm2d(8), set(), set()),
        ("BatchNorm2d", lambda: nn.BatchNorm2d(8, affine=False), {"affine"}, set()),
        ("InstanceNorm2d", lambda: nn.InstanceNorm2d(8), set(), set()),
        ("InstanceNorm2d", lambda: nn.InstanceNorm2d(8, affine=True), set(), {"affine"}),
        ("LayerNorm", lambda: nn.LayerNorm(8, elementwise_affine=False), {"elementwise_affine"}, set()),
        ("Conv2d", lambda: nn.Conv2d(3, 8, 3, bias=False), {"bias"}, set()),
        ("PReLU", lambda: nn.PReLU(), set(), set()),
    ],
)
def test_the_facts_table_knows_which_builds_own_parameters(name, build, false_flags, true_flags):
    owns = any(True for _ in build().parameters())
    assert facts.load().module_is_parameterless(name, frozenset(false_flags), frozenset(true_flags)) is (not owns)


@pytest.mark.parametrize("name", ["Sequential", "ModuleList", "ModuleDict", "Module"])
def test_containers_are_never_called_parameterless(name):
    # Empty when built bare, yet they own whatever they are given (or later appended).
    assert facts.load().nn_modules[name].get("container")
    assert not facts.load().module_is_parameterless(name, frozenset(), frozenset())
    assert any(True for _ in nn.Sequential(nn.Linear(2, 2)).parameters())


# -- OPT008: overlapping groups -------------------------------------------------------------------
def test_a_module_beside_its_child_raises_value_error():
    net = Net()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        torch.optim.Adam([{"params": net.parameters()}, {"params": net.fc.parameters(), "lr": 1e-3}])


def test_a_later_add_param_group_overlapping_raises_value_error():
    net = Net()
    opt = torch.optim.SGD(list(net.parameters()), lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": net.fc.parameters()})


def test_siblings_direct_parameters_replaced_submodules_and_other_optimizers_do_not_overlap():
    net = Net()
    torch.optim.SGD(net.fc.parameters(), lr=0.1)  # another optimizer: never compared
    torch.optim.SGD([{"params": net.backbone.parameters()}, {"params": net.fc.parameters()}], lr=0.1)
    torch.optim.SGD([{"params": net.parameters(recurse=False)}, {"params": net.fc.parameters()}], lr=0.1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    net.fc = nn.Linear(4, 3)  # a new head: new parameters
    opt.add_param_group({"params": net.fc.parameters()})
    assert len(opt.param_groups) == 2


@pytest.mark.parametrize("attach", [
    lambda net, name, module: net.add_module(name, module),
    lambda net, name, module: net.register_module(name, module),
    setattr,
])
def test_a_child_attached_by_add_module_or_setattr_is_new_after_the_optimizer(attach):
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    attach(net, "fc", nn.Linear(4, 3))  # replaces the old head: new parameters
    attach(net, "extra", nn.Linear(4, 3))  # a new child
    opt.add_param_group({"params": net.fc.parameters()})
    opt.add_param_group({"params": net.extra.parameters()})
    assert len(opt.param_groups) == 3


# -- OPT009: a parameter generator used twice -----------------------------------------------------
def test_parameters_is_a_generator_that_a_second_optimizer_finds_empty():
    params = Net().parameters()
    torch.optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        torch.optim.Adam(params, lr=1e-3)


def test_a_count_before_the_optimizer_leaves_it_empty():
    params = Net().parameters()
    assert sum(p.numel() for p in params) > 0
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD(params, lr=0.1)


def test_a_second_group_from_the_same_generator_is_silently_empty():
    named = Net().named_parameters()
    opt = torch.optim.SGD(
        [{"params": [p for n, p in named if "bias" in n]}, {"params": [p for n, p in named if "bias" not in n]}],
        lr=0.1,
    )
    assert opt.param_groups[0]["params"] and opt.param_groups[1]["params"] == []


def test_a_second_comprehension_over_the_generator_gives_a_silently_empty_group():
    named = Net().named_parameters()
    decay = [p for n, p in named if not n.endswith("bias")]
    no_decay = [p for n, p in named if n.endswith("bias")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch neither raises nor warns
        opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}])
    assert decay and no_decay == []
    assert [len(g["params"]) for g in opt.param_groups] == [len(decay), 0]


def test_a_second_loop_over_the_generator_appends_nothing():
    named = Net().named_parameters()
    decay = [p for n, p in named if p.ndim > 1]
    no_decay = []
    for _, p in named:
        no_decay.append(p)
    assert decay and no_decay == []


def test_a_lazy_first_reader_leaves_the_generator_full_for_the_second():
    named = Net().named_parameters()
    decay = (p for n, p in named if not n.endswith("bias"))
    no_decay = [p for n, p in named if n.endswith("bias")]
    assert no_decay and list(decay) == []
