"""OPT009 follows the paths through a function: a use is reported only when the generator was
exhausted on every path that reaches it (branches, loops, break/continue, try, match, rebinding).
A consumption on some paths only is left alone: the condition that guards it may never hold."""

import textwrap

import pytest

from optlint.static.engine import lint_source
from optlint.static.rules import all_rules

RULE = next(r for r in all_rules() if r.code == "OPT009")
HEADER = "import itertools\nimport torch\nfrom torch import optim\n"

EXHAUSTED_ON_EVERY_PATH = [
    pytest.param(
        """\
        p = m.parameters()
        while step < 10:
            o = optim.SGD(p)
        """,
        id="while-no-break",
    ),
    pytest.param(
        """\
        for e in range(3):
            p = m.parameters()
            for b in range(2):
                o = optim.SGD(p)
        """,
        id="nested-loop-inner-bind",
    ),
    pytest.param(
        """\
        p = m.parameters()
        try:
            n = list(p)
        except E:
            pass
        else:
            o = optim.SGD(p)
        """,
        id="try-else",
    ),
    pytest.param(
        """\
        p = m.parameters()
        try:
            o = optim.SGD(p)
        finally:
            o2 = optim.Adam(p)
        """,
        id="finally",
    ),
    pytest.param(
        """\
        p = m.parameters()
        for q in p:
            q.requires_grad_(False)
        o = optim.SGD(p)
        """,
        id="for-over-it-then-loop",
    ),
    pytest.param(
        """\
        p = m.parameters()
        torch.nn.utils.clip_grad_norm_(p, 1.0)
        o = optim.SGD(p)
        """,
        id="clip-then-opt",
    ),
    pytest.param(
        """\
        p = m.parameters()
        allp = [*p]
        o = optim.SGD(p)
        """,
        id="star",
    ),
    pytest.param(
        """\
        p = m.fc.parameters()
        o = optim.SGD(m.body.parameters())
        o.add_param_group({'params': p})
        o.add_param_group({'params': p, 'lr': 0})
        """,
        id="two-add_param_group",
    ),
    pytest.param(
        """\
        p = (x for x in m.parameters() if x.requires_grad)
        n = len(list(p))
        o = optim.SGD(p)
        """,
        id="genexp-var",
    ),
    pytest.param(
        """\
        p = m.parameters()
        with ctx():
            n = list(p)
        o = optim.SGD(p)
        """,
        id="with",
    ),
    pytest.param(
        """\
        async def f():
            p = m.parameters()
            async for b in loader:
                o = optim.SGD(p)
        """,
        id="async-for",
    ),
    pytest.param(
        """\
        p = m.parameters()
        n = list(p)
        o = optim.SGD(params=p, lr=0.1)
        """,
        id="kw-params",
    ),
    pytest.param(
        """\
        p = m.parameters()
        if a:
            n = list(p)
        else:
            n = sum(x.numel() for x in p)
        o = optim.SGD(p)
        """,
        id="consumed-on-every-branch",
    ),
    pytest.param(
        """\
        named = m.named_parameters()
        for fold in folds:
            decay = [p for n, p in named if p.ndim > 1]
            o = optim.AdamW(decay)
        """,
        id="derived-list-inside-a-loop",
    ),
    pytest.param(
        """\
        named = m.named_parameters()
        decay = [p for n, p in named if p.ndim > 1]
        no_decay = [(n, p) for n, p in named if p.ndim <= 1]
        o = optim.AdamW([{'params': decay}, {'params': [p for n, p in no_decay], 'weight_decay': 0.0}])
        """,
        id="derived-through-a-second-comprehension",
    ),
]

def split_then(middle: str) -> str:
    """A decay/no-decay split whose second read `middle` makes safe, then the optimizer."""
    head = "named = m.named_parameters()\ndecay = [p for n, p in named if p.ndim > 1]\n"
    return head + textwrap.dedent(middle) + "o = optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])\n"


NOT_EXHAUSTED_ON_EVERY_PATH = [
    pytest.param(
        """\
        p = m.parameters()
        if a:
            o = optim.SGD(p)
        elif b:
            o = optim.Adam(p)
        else:
            o = optim.AdamW(p)
        """,
        id="elif-chain-exclusive",
    ),
    pytest.param(
        """\
        p = m.parameters()
        match name:
            case 'sgd':
                o = optim.SGD(p)
            case _:
                o = optim.Adam(p)
        """,
        id="match-exclusive",
    ),
    pytest.param(
        """\
        p = m.parameters()
        while True:
            o = optim.SGD(p)
            break
        """,
        id="while-with-break",
    ),
    pytest.param(
        """\
        def f():
            p = m.parameters()
            for x in xs:
                return optim.SGD(p)
        """,
        id="return-in-loop",
    ),
    pytest.param(
        """\
        def f():
            p = m.parameters()
            if bad:
                n = list(p)
                raise ValueError(n)
            return optim.SGD(p)
        """,
        id="raise-branch",
    ),
    pytest.param(
        """\
        p = m.parameters()
        for x in xs:
            o = optim.SGD(p)
            break
        else:
            o = optim.Adam(p)
        """,
        id="for-else-break-skips",
    ),
    pytest.param(
        """\
        p = m.parameters()
        n = sum(x.numel() for x in p)
        p = list(m.parameters())
        o = optim.SGD(p)
        o2 = optim.SGD(p)
        """,
        id="rebind-to-list",
    ),
    pytest.param(
        """\
        p = m.parameters()
        xs = [p for p in other]
        o = optim.SGD(p)
        """,
        id="comprehension-shadow",
    ),
    pytest.param(
        """\
        p = m.parameters()
        def g():
            return list(p)
        o = optim.SGD(p)
        """,
        id="nested-def-untouched",
    ),
    pytest.param(
        """\
        p = m.parameters()
        log(p)
        o = optim.SGD(p)
        """,
        id="unknown-call",
    ),
    pytest.param(
        """\
        p = m.parameters()
        n = list(p)
        del p
        p = 3
        """,
        id="del",
    ),
    pytest.param(
        """\
        p = m.parameters()
        if a:
            o = optim.SGD(p)
        elif b:
            pass
        o2 = optim.Adam(p)
        """,
        id="consumed-in-one-branch-only",
    ),
    pytest.param(
        """\
        p = m.parameters()
        for x in xs:
            if x:
                continue
            o = optim.SGD(p)
        """,
        id="loop-skips-the-use-on-some-iterations",
    ),
    pytest.param(
        """\
        p = m.parameters()
        for x in xs:
            if x:
                break
        else:
            n = list(p)
        o = optim.SGD(p)
        """,
        id="else-of-a-loop-that-may-break",
    ),
    pytest.param(
        """\
        p = m.parameters()
        o = existing or optim.SGD(p)
        o2 = optim.Adam(p)
        """,
        id="right-side-of-or-may-not-run",
    ),
    pytest.param(
        """\
        p = m.parameters()
        opt = None
        for b in loader:
            if opt is None:
                opt = optim.SGD(p)
        """,
        id="lazy-build-inside-the-loop",
    ),
    pytest.param(
        """\
        named = m.named_parameters()
        decay = [p for n, p in named if p.ndim > 1]
        if cfg.x:
            no_decay = [p for n, p in named if p.ndim <= 1]
        else:
            no_decay = list(m.norm.parameters())
        o = optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """,
        id="derived-empty-on-one-branch-only",
    ),
    pytest.param(split_then("""\
        named = m.named_parameters()
        no_decay = [p for n, p in named if p.ndim <= 1]
        """), id="derived-after-rebinding"),
    pytest.param(split_then("""\
        no_decay = [p for n, p in named if p.ndim <= 1]
        add_norm_weights(no_decay, m)
        """), id="derived-list-handed-to-a-function-that-may-fill-it"),
    pytest.param(
        """\
        named = m.named_parameters()
        decay = [p for n, p in named if p.ndim > 1]
        no_decay = [p for n, p in named if p.ndim <= 1]
        o = optim.AdamW([{'params': decay}, {'params': itertools.chain(no_decay, m.norm.parameters())}])
        """,
        id="derived-list-one-of-several-sources",
    ),
    pytest.param(
        """\
        named = m.named_parameters()
        decay = [p for n, p in named if p.ndim > 1]
        no_decay = []
        for n, p in named:
            no_decay.append(p)
        no_decay.append(m.pos_embed)
        o = optim.AdamW([{'params': decay}, {'params': no_decay, 'weight_decay': 0.0}])
        """,
        id="list-of-a-dead-loop-filled-afterwards",
    ),
]


def findings(body: str):
    return lint_source(HEADER + textwrap.dedent(body), rules=[RULE])


@pytest.mark.parametrize("body", EXHAUSTED_ON_EVERY_PATH)
def test_a_use_after_exhaustion_on_every_path_is_reported_once(body):
    assert len(findings(body)) == 1


@pytest.mark.parametrize("body", NOT_EXHAUSTED_ON_EVERY_PATH)
def test_a_use_that_some_path_reaches_fresh_is_not_reported(body):
    assert findings(body) == []
