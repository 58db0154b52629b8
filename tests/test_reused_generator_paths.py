"""OPT009 follows the paths through a function: a use is reported only when the generator was
exhausted on every path that reaches it (branches, loops, break/continue, try, match, rebinding).
A consumption on some paths only is left alone: the condition that guards it may never hold."""

import pytest

from optlint.static.engine import lint_source
from optlint.static.rules import all_rules

RULE = next(r for r in all_rules() if r.code == "OPT009")
HEADER = "import torch\nfrom torch import optim\n"

EXHAUSTED_ON_EVERY_PATH = [
    pytest.param("p = m.parameters()\nwhile step < 10:\n    o = optim.SGD(p)\n", id="while-no-break"),
    pytest.param("for e in range(3):\n    p = m.parameters()\n    for b in range(2):\n        o = optim.SGD(p)\n", id="nested-loop-inner-bind"),
    pytest.param("p = m.parameters()\ntry:\n    n = list(p)\nexcept E:\n    pass\nelse:\n    o = optim.SGD(p)\n", id="try-else"),
    pytest.param("p = m.parameters()\ntry:\n    o = optim.SGD(p)\nfinally:\n    o2 = optim.Adam(p)\n", id="finally"),
    pytest.param("p = m.parameters()\nfor q in p:\n    q.requires_grad_(False)\no = optim.SGD(p)\n", id="for-over-it-then-loop"),
    pytest.param("p = m.parameters()\ntorch.nn.utils.clip_grad_norm_(p, 1.0)\no = optim.SGD(p)\n", id="clip-then-opt"),
    pytest.param("p = m.parameters()\nallp = [*p]\no = optim.SGD(p)\n", id="star"),
    pytest.param("p = m.fc.parameters()\no = optim.SGD(m.body.parameters())\no.add_param_group({'params': p})\no.add_param_group({'params': p, 'lr': 0})\n", id="two-add_param_group"),
    pytest.param("p = (x for x in m.parameters() if x.requires_grad)\nn = len(list(p))\no = optim.SGD(p)\n", id="genexp-var"),
    pytest.param("p = m.parameters()\nwith ctx():\n    n = list(p)\no = optim.SGD(p)\n", id="with"),
    pytest.param("async def f():\n    p = m.parameters()\n    async for b in loader:\n        o = optim.SGD(p)\n", id="async-for"),
    pytest.param("p = m.parameters()\nn = list(p)\no = optim.SGD(params=p, lr=0.1)\n", id="kw-params"),
    pytest.param("p = m.parameters()\nif a:\n    n = list(p)\nelse:\n    n = sum(x.numel() for x in p)\no = optim.SGD(p)\n", id="consumed-on-every-branch"),
]

NOT_EXHAUSTED_ON_EVERY_PATH = [
    pytest.param("p = m.parameters()\nif a:\n    o = optim.SGD(p)\nelif b:\n    o = optim.Adam(p)\nelse:\n    o = optim.AdamW(p)\n", id="elif-chain-exclusive"),
    pytest.param("p = m.parameters()\nmatch name:\n    case 'sgd':\n        o = optim.SGD(p)\n    case _:\n        o = optim.Adam(p)\n", id="match-exclusive"),
    pytest.param("p = m.parameters()\nwhile True:\n    o = optim.SGD(p)\n    break\n", id="while-with-break"),
    pytest.param("def f():\n    p = m.parameters()\n    for x in xs:\n        return optim.SGD(p)\n", id="return-in-loop"),
    pytest.param("def f():\n    p = m.parameters()\n    if bad:\n        n = list(p)\n        raise ValueError(n)\n    return optim.SGD(p)\n", id="raise-branch"),
    pytest.param("p = m.parameters()\nfor x in xs:\n    o = optim.SGD(p)\n    break\nelse:\n    o = optim.Adam(p)\n", id="for-else-break-skips"),
    pytest.param("p = m.parameters()\nn = sum(x.numel() for x in p)\np = list(m.parameters())\no = optim.SGD(p)\no2 = optim.SGD(p)\n", id="rebind-to-list"),
    pytest.param("p = m.parameters()\nxs = [p for p in other]\no = optim.SGD(p)\n", id="comprehension-shadow"),
    pytest.param("p = m.parameters()\ndef g():\n    return list(p)\no = optim.SGD(p)\n", id="nested-def-untouched"),
    pytest.param("p = m.parameters()\nlog(p)\no = optim.SGD(p)\n", id="unknown-call"),
    pytest.param("p = m.parameters()\nn = list(p)\ndel p\np = 3\n", id="del"),
    pytest.param("p = m.parameters()\nif a:\n    o = optim.SGD(p)\nelif b:\n    pass\no2 = optim.Adam(p)\n", id="consumed-in-one-branch-only"),
    pytest.param("p = m.parameters()\nfor x in xs:\n    if x:\n        continue\n    o = optim.SGD(p)\n", id="loop-skips-the-use-on-some-iterations"),
    pytest.param("p = m.parameters()\nfor x in xs:\n    if x:\n        break\nelse:\n    n = list(p)\no = optim.SGD(p)\n", id="else-of-a-loop-that-may-break"),
    pytest.param("p = m.parameters()\no = existing or optim.SGD(p)\no2 = optim.Adam(p)\n", id="right-side-of-or-may-not-run"),
    pytest.param("p = m.parameters()\nopt = None\nfor b in loader:\n    if opt is None:\n        opt = optim.SGD(p)\n", id="lazy-build-inside-the-loop"),
]


def findings(body: str):
    return lint_source(HEADER + body, rules=[RULE])


@pytest.mark.parametrize("body", EXHAUSTED_ON_EVERY_PATH)
def test_a_use_after_exhaustion_on_every_path_is_reported_once(body):
    assert len(findings(body)) == 1


@pytest.mark.parametrize("body", NOT_EXHAUSTED_ON_EVERY_PATH)
def test_a_use_that_some_path_reaches_fresh_is_not_reported(body):
    assert findings(body) == []
