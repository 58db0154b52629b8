import re

import libcst as cst

from optlint.spelling import ALIASES, close_match, normalise, renaming_is_the_fix
from optlint.static.examples import Invalid, Valid
from optlint.static.rule import Replace, Rule
from optlint.static.semantic import dict_groups, param_group_writes


class UnknownParamGroupKey(Rule):
    """A param-group key that misspells a hyper-parameter of its optimizer (`'learning_rate'`, `'momentun'`).

    torch keeps unknown group keys and never reads them, so the group silently falls back to the
    optimizer-wide value. Keys close to no hyper-parameter (`'name'`, `'layer_id'`, `'lr_scale'`) are
    user metadata, and keys that schedulers add (`'initial_lr'`, `'max_lr'`) are valid.
    """

    code = "OPT003"

    VALID = (
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'lr': 0.1, 'name': 'head'}], lr=0.01)
        """),
        # Metadata that other code reads (timm layer decay, Lightning's LR monitor).
        Valid("""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'lr_scale': 0.5, 'layer_id': 3}], lr=1e-3)
        """),
        # Keys that schedulers add themselves, and torch's own param_names.
        Valid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'initial_lr': 0.1, 'max_lr': 1.0, 'param_names': n}])
        """),
        Valid("""
            import torch
            opt = torch.optim.Adam([{'params': a, 'base_lr': 1e-3, 'min_lr': 1e-6}])
        """),
        # A new setting named after a real one is not a misspelling of it.
        Valid("""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'weight_decay_scale': 0.5, 'use_weight_decay': True}])
        """),
        # The real key is also there: the near-miss is deliberate metadata.
        Valid("""
            import torch
            opt = torch.optim.Adam([{'params': a, 'lr': 1e-3, 'lrs': [1e-3, 1e-4]}])
        """),
        Valid("""
            import torch
            opt = torch.optim.SGD([dict(params=a, momentum=0.9, nesterov=True)], lr=0.1)
        """),
        # A user optimizer has its own group keys.
        Valid("""
            from torch.optim import Optimizer
            class SGD(Optimizer):
                pass
            opt = SGD([{'params': a, 'learning_rate': 1}])
        """),
        # Writes into the groups of a built optimizer: real keys and user metadata.
        Valid("""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for g in opt.param_groups:
                g["lr"] = g["initial_lr"] * 0.5
                g["name"] = "body"
                g.update(lr_scale=0.5, layer_id=3)
        """),
        # An optimizer of unknown class (a parameter): its group keys are unknown too.
        Valid("""
            def adjust_learning_rate(optimizer, lr):
                for param_group in optimizer.param_groups:
                    param_group["learning_rate"] = lr
        """),
        # A helper called with an optimizer of unknown class at one of its calls.
        Valid("""
            import torch
            def set_lr(optimizer, lr):
                for g in optimizer.param_groups:
                    g["learning_rate"] = lr
            set_lr(torch.optim.SGD(p, lr=0.1), 0.01)
            set_lr(build_optimizer(cfg), 0.01)
        """),
        # The loop variable is rebound: it is no longer the group.
        Valid("""
            import torch
            opt = torch.optim.Adam(model.parameters())
            for g in opt.param_groups:
                g = dict(g)
                g["learning_rate"] = 1e-3
        """),
        # A user's own `dict` builds whatever it likes: not a param group.
        Valid("""
            import torch
            def dict(**kw):
                return kw
            opt = torch.optim.SGD([dict(params=a, momentun=0.9)], lr=0.1)
        """),
    )
    INVALID = (
        # A hand-written schedule writing a key torch never reads: the LR never changes.
        Invalid("""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(10):
                for g in opt.param_groups:
                    g["learning_rate"] = 0.1 * 0.9 ** epoch
        """, at="5:11", message="leaves the group's `lr` unchanged", fixed="""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(10):
                for g in opt.param_groups:
                    g["lr"] = 0.1 * 0.9 ** epoch
        """),
        Invalid("""
            from torch import optim
            class T:
                def __init__(self, m):
                    self.opt = optim.AdamW(m.parameters())
                def warmup(self, x):
                    self.opt.param_groups[0]['Lr'] = x
                    for i, group in enumerate(self.opt.param_groups):
                        group.update(weightdecay=0.0)
        """, at=("6:34", "8:26"), fixed="""
            from torch import optim
            class T:
                def __init__(self, m):
                    self.opt = optim.AdamW(m.parameters())
                def warmup(self, x):
                    self.opt.param_groups[0]['lr'] = x
                    for i, group in enumerate(self.opt.param_groups):
                        group.update(weight_decay=0.0)
        """),
        # The hand-written `adjust_learning_rate(optimizer, epoch)` of old example scripts, called with a torch optimizer.
        Invalid("""
            import torch.optim as optim
            def adjust_learning_rate(optimizer, epoch):
                for param_group in optimizer.param_groups:
                    param_group["learning_rate"] = 0.1 * (0.1 ** (epoch // 30))
            optimizer = optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(90):
                adjust_learning_rate(optimizer, epoch)
        """, at="4:21", fixed="""
            import torch.optim as optim
            def adjust_learning_rate(optimizer, epoch):
                for param_group in optimizer.param_groups:
                    param_group["lr"] = 0.1 * (0.1 ** (epoch // 30))
            optimizer = optim.SGD(model.parameters(), lr=0.1)
            for epoch in range(90):
                adjust_learning_rate(optimizer, epoch)
        """),
        # The misspelt key is read again (for logging): renaming only the write would break that read.
        Invalid("""
            import torch
            opt = torch.optim.SGD(p, lr=0.1)
            head = opt.param_groups[-1]
            head.update({"momentun": 0.5})
            print(head["momentun"])
        """, at="4:14"),
        # `betas` takes a pair: renaming `beta1` alone would store a float, so the finding has no fix.
        Invalid("""
            import torch
            opt = torch.optim.Adam([{'params': a, 'beta1': 0.8}], lr=1e-3)
        """, at="2:39", message="Did you mean `betas`?"),
        Invalid("""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'learning_rate': 1e-4}], lr=1e-3)
        """, at="2:40", fixed="""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'lr': 1e-4}], lr=1e-3)
        """),
        Invalid("""
            import torch.optim as optim
            opt = optim.SGD([dict(params=a, momentun=0.9)], lr=0.1)
        """, at="2:33", fixed="""
            import torch.optim as optim
            opt = optim.SGD([dict(params=a, momentum=0.9)], lr=0.1)
        """),
        Invalid("""
            from torch.optim import Adam
            groups = []
            groups.append({'params': a, 'weightdecay': 0.0})
            opt = Adam(groups)
        """, at="3:29", fixed="""
            from torch.optim import Adam
            groups = []
            groups.append({'params': a, 'weight_decay': 0.0})
            opt = Adam(groups)
        """),
        Invalid("""
            from torch import optim
            opt = optim.Adam([{'params': p, 'Lr': lr} for p, lr in pairs])
        """, at="2:33", fixed="""
            from torch import optim
            opt = optim.Adam([{'params': p, 'lr': lr} for p, lr in pairs])
        """),
        Invalid("""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            opt.add_param_group({'params': h, 'lr_': 1e-3})
        """, at="3:35", fixed="""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            opt.add_param_group({'params': h, 'lr': 1e-3})
        """),
        # The TF/BERT name of weight decay: an alias, even though it extends the real name.
        Invalid("""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'weight_decay_rate': 0.01}])
        """, at="2:40", fixed="""
            import torch
            opt = torch.optim.AdamW([{'params': a, 'weight_decay': 0.01}])
        """),
        # A typo of an alias.
        Invalid("""
            import torch
            opt = torch.optim.SGD([{'params': a, 'learing_rate': 0.01}], lr=0.1)
        """, at="2:38", fixed="""
            import torch
            opt = torch.optim.SGD([{'params': a, 'lr': 0.01}], lr=0.1)
        """),
        # The rename keeps the key's quotes.
        Invalid("""
            import torch
            opt = torch.optim.AdamW([{"params": w, "learning_rate": 1e-4}], lr=1e-3)
        """, at="2:40", fixed="""
            import torch
            opt = torch.optim.AdamW([{"params": w, "lr": 1e-4}], lr=1e-3)
        """),
        # A group appended to a list: found where the key is written, named after the optimizer built.
        Invalid("""
            from torch.optim import Adam
            groups = [{"params": body}]
            groups.append({"params": head, "weightDecay": 0.0})
            opt = Adam(groups, lr=1e-3)
        """, at="3:32", message="not a param-group key of `Adam`", fixed="""
            from torch.optim import Adam
            groups = [{"params": body}]
            groups.append({"params": head, "weight_decay": 0.0})
            opt = Adam(groups, lr=1e-3)
        """),
        # Two keys meaning the same hyper-parameter: both reported, neither renamed.
        Invalid("""
            import torch
            opt = torch.optim.SGD([{'params': w, 'learning_rate': 1, 'LR': 2}], lr=0.1)
        """, at=("2:38", "2:58")),
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
        self._check_writes(ctx)

    def _report(self, ctx, cls, node, key, target, unique) -> None:
        renamed = _renamed(node, target)
        written = f"{renamed}=" if isinstance(node, cst.Name) else renamed
        message = (
            f"`{key}` is not a param-group key of `{cls}`: torch silently ignores it, and this group uses"
            f" the optimizer-wide `{target}`. Did you mean `{target}`?"
        )
        if not renaming_is_the_fix(key):
            ctx.report(node, message, hint=f"Write `{written}` with the values as one tuple.")
            return
        fix = {"fix": f"Rename `{key}` to `{target}`", "edits": [Replace(node, renamed)]}
        ctx.report(node, message, hint=f"Write `{written}`.", **(fix if unique else {}))


    # -- writes into the groups of a built optimizer (`g["learning_rate"] = lr` in a hand-written schedule)
    def _check_writes(self, ctx) -> None:
        for write in param_group_writes(ctx.model):
            cls = write.optimizer.cls
            target = _meant_key(write.key, [k for k in ctx.facts.optimizers[cls]["group_keys"] if k != "params"],
                                ctx.facts.valid_group_keys(cls))
            if target is not None:
                self._report_write(ctx, write, target)

    def _report_write(self, ctx, write, target) -> None:
        key, renamed = write.key, _renamed(write.node, target)
        message = (
            f"`{key}` is not a param-group key of `{write.optimizer.cls}`: torch stores it and never reads it,"
            f" so this write leaves the group's `{target}` unchanged. Did you mean `{target}`?"
        )
        written = f"{renamed}=" if isinstance(write.node, cst.Name) else renamed
        if not renaming_is_the_fix(key):
            ctx.report(write.node, message, hint=f"Write `{written}` with the values as one tuple.")
            return
        # Another mention of the key (a read for logging) would break once only the write is renamed.
        alone = _mentions(ctx.source, key) == 1
        fix = {"fix": f"Rename `{key}` to `{target}`", "edits": [Replace(write.node, renamed)]}
        ctx.report(write.node, message, hint=f"Write `{written}`.", **(fix if alone else {}))


def _mentions(source: str, key: str) -> int:
    """How often `key` is written in the file as a word (a string key, a keyword, an attribute)."""
    return len(re.findall(rf"(?<![\w]){re.escape(key)}(?![\w])", source))


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
