import re

import libcst as cst

from optlint.spelling import ALIASES, close_match, normalise
from optlint.static.rule import Replace, Rule
from optlint.static.rules._dict_groups import dict_groups


class UnknownParamGroupKey(Rule):
    """A param-group key that misspells a hyper-parameter of its optimizer (`'learning_rate'`, `'momentun'`).

    torch keeps unknown group keys and never reads them, so the group silently falls back to the
    optimizer-wide value. Keys close to no hyper-parameter (`'name'`, `'layer_id'`, `'lr_scale'`) are
    user metadata, and keys that schedulers add (`'initial_lr'`, `'max_lr'`) are valid.
    """

    code = "OPT003"

    VALID = (
        "import torch\nopt = torch.optim.SGD([{'params': a, 'lr': 0.1, 'name': 'head'}], lr=0.01)",
        # Metadata that other code reads (timm layer decay, Lightning's LR monitor).
        "import torch\nopt = torch.optim.AdamW([{'params': a, 'lr_scale': 0.5, 'layer_id': 3}], lr=1e-3)",
        # Keys that schedulers add themselves, and torch's own param_names.
        "import torch\nopt = torch.optim.SGD([{'params': a, 'initial_lr': 0.1, 'max_lr': 1.0, 'param_names': n}])",
        "import torch\nopt = torch.optim.Adam([{'params': a, 'base_lr': 1e-3, 'min_lr': 1e-6}])",
        # A new setting named after a real one is not a misspelling of it.
        "import torch\nopt = torch.optim.AdamW([{'params': a, 'weight_decay_scale': 0.5, 'use_weight_decay': True}])",
        # The real key is also there: the near-miss is deliberate metadata.
        "import torch\nopt = torch.optim.Adam([{'params': a, 'lr': 1e-3, 'lrs': [1e-3, 1e-4]}])",
        "import torch\nopt = torch.optim.SGD([dict(params=a, momentum=0.9, nesterov=True)], lr=0.1)",
        # A user optimizer has its own group keys.
        "from torch.optim import Optimizer\nclass SGD(Optimizer):\n    pass\n"
        "opt = SGD([{'params': a, 'learning_rate': 1}])",
    )
    INVALID = (
        "import torch\nopt = torch.optim.AdamW([{'params': a, 'learning_rate': 1e-4}], lr=1e-3)",
        "import torch.optim as optim\nopt = optim.SGD([dict(params=a, momentun=0.9)], lr=0.1)",
        "from torch.optim import Adam\ngroups = []\ngroups.append({'params': a, 'weightdecay': 0.0})\n"
        "opt = Adam(groups)",
        "from torch import optim\nopt = optim.Adam([{'params': p, 'Lr': lr} for p, lr in pairs])",
        "import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "opt.add_param_group({'params': h, 'lr_': 1e-3})",
        # The TF/BERT name of weight decay: an alias, even though it extends the real name.
        "import torch\nopt = torch.optim.AdamW([{'params': a, 'weight_decay_rate': 0.01}])",
        # A typo of an alias.
        "import torch\nopt = torch.optim.SGD([{'params': a, 'learing_rate': 0.01}], lr=0.1)",
    )

    def check(self, ctx) -> None:
        for cls, group in dict_groups(ctx.model):
            targets = [k for k in ctx.facts.optimizers[cls]["group_keys"] if k != "params"]
            valid = ctx.facts.valid_group_keys(cls)
            present = {key.name for key in group.keys}
            meant = {key.name: _meant_key(key.name, targets, valid) for key in group.keys}
            for key in group.keys:
                target = meant[key.name]
                if target is None or target in present:
                    continue
                unique = list(meant.values()).count(target) == 1
                self._report(ctx, cls, key.node, key.name, target, unique)

    def _report(self, ctx, cls, node, key, target, unique) -> None:
        renamed = _renamed(node, target)
        written = f"{renamed}=" if isinstance(node, cst.Name) else renamed
        message = (
            f"`{key}` is not a param-group key of `{cls}`: torch silently ignores it, and this group uses"
            f" the optimizer-wide `{target}`. Did you mean `{target}`?"
        )
        fix = {"fix": f"Rename `{key}` to `{target}`", "edits": [Replace(node, renamed)]}
        ctx.report(node, message, hint=f"Write `{written}`.", **(fix if unique else {}))


def _meant_key(key: str, targets: list[str], valid: frozenset[str]) -> str | None:
    """The hyper-parameter `key` misspells, or None for valid keys and user metadata."""
    if key in valid:
        return None
    target = close_match(key, targets)
    if target is None or (_extends(key, target) and normalise(key) not in ALIASES):
        return None
    return target


def _extends(key: str, target: str) -> bool:
    """`use_weight_decay`, `weight_decay_scale`: a new setting named after a real one."""
    key_words, target_words = _words(key), _words(target)
    width = len(target_words)
    return len(key_words) > width and any(
        key_words[i : i + width] == target_words for i in range(len(key_words) - width + 1)
    )


def _words(name: str) -> list[str]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    return [word for word in re.split(r"[^a-z0-9]+", snake) if word]


def _renamed(node: cst.CSTNode, target: str) -> str:
    if isinstance(node, cst.SimpleString):
        return f"{node.prefix}{node.quote}{target}{node.quote}"
    return target
