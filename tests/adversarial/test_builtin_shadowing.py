"""A name the file binds is never the builtin it shadows: whatever way `dict`, `list` or `tuple` is
rebound (a def, a class, an import, an assignment, a parameter, a loop, `with ... as`, `except ...
as`), a call of it is no param group (OPT003, and no rename by `--fix`) and no empty parameter list
(OPT010). Unshadowed, the same call is the builtin's, and the rule reports it."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static.fix import fix_text
from optlint.static.runner import lint_text

PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = settings(PROFILE, max_examples=max(PROFILE.max_examples // 4, 20))  # 90 cases in all: a quarter finds them

# How a line binds `{name}` in the scope it stands in.
BINDINGS = st.sampled_from([
    "def {name}(*args, **kw):\n{pad}    return kw",
    "class {name}:\n{pad}    pass",
    "from mylib import {name}",
    "import mylib as {name}",
    "{name} = make",
    "{name}: object = make",
    "for {name} in makers:\n{pad}    pass",
    "with make() as {name}:\n{pad}    pass",
    "(_, {name}) = pair",
    "try:\n{pad}    pass\n{pad}except Exception as {name}:\n{pad}    pass",
])
# Where the optimizer is built: the module, or a function (shadowed there, or in its parameters).
PLACES = st.sampled_from(["module", "function", "parameter"])
USES = {
    "OPT003": ("dict", "torch.optim.SGD([{name}(params=w, momentun=0.9)], lr=0.1)"),
    "OPT010": ("list", "torch.optim.SGD({name}(), lr=0.1)"),
    "OPT010 tuple": ("tuple", "torch.optim.Adam({name}(), lr=1e-3)"),
}


def source(binding: str | None, place: str, name: str, call: str) -> str:
    build = call.format(name=name)
    if place == "module":
        lines = [binding.format(name=name, pad="")] if binding else []
        return "\n".join(["import torch", *lines, f"opt = {build}"]) + "\n"
    parameters = name if place == "parameter" and binding else "w"
    lines = [f"    {binding.format(name=name, pad='    ')}"] if binding and place == "function" else []
    return "\n".join(["import torch", f"def build({parameters}):", *lines, f"    return {build}"]) + "\n"


def codes(text: str) -> list[str]:
    return [f.code for f in lint_text(text, "train.py")]


@FUZZ
@given(BINDINGS, PLACES, st.sampled_from(sorted(USES)))
def test_a_shadowed_builtin_is_neither_a_group_dict_nor_an_empty_list(binding, place, use):
    code, (name, call) = use.split()[0], USES[use]
    text = source(binding, place, name, call)
    assert code not in codes(text), text
    assert fix_text(text, lambda t: lint_text(t, "train.py")).text == text


@FUZZ
@given(PLACES, st.sampled_from(sorted(USES)))
def test_the_unshadowed_builtin_is_reported(place, use):
    code, (name, call) = use.split()[0], USES[use]
    text = source(None, place, name, call)
    assert code in codes(text), text
