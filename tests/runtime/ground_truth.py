"""A recipe for every scheduler class of torch, and the ground truth for the LR preview: the real
optimizer and scheduler, deep-copied together and stepped as a training loop steps them."""

from __future__ import annotations

import copy
import math
import warnings

import torch
from torch.optim import lr_scheduler as S

EPOCHS, STEPS = 7, 3


def warmup_cosine(opt):
    """The HF/nanoGPT recipe: linear warm-up for 4 steps, then cosine to 0 at step 20, as a LambdaLR."""
    return S.LambdaLR(opt, lambda step: (step + 1) / 4 if step < 4 else 0.5 * (1 + math.cos(math.pi * (step - 4) / 16)))


RECIPES = {
    "LambdaLR": warmup_cosine,
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.95),
    "StepLR": lambda o: S.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
    "ConstantLR": lambda o: S.ConstantLR(o, factor=0.25, total_iters=3),
    "LinearLR": lambda o: S.LinearLR(o, start_factor=0.1, total_iters=4),
    "ExponentialLR": lambda o: S.ExponentialLR(o, gamma=0.9),
    "SequentialLR": lambda o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.01, total_iters=3), S.CosineAnnealingLR(o, T_max=12)], milestones=[3]),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=1e-6),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=2),
                                                      S.ExponentialLR(o, gamma=0.9)]),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, cooldown=1, factor=0.5),
    "CyclicLR": lambda o: S.CyclicLR(o, base_lr=[1e-6, 1e-4], max_lr=[1e-5, 1e-3], step_size_up=4, mode="triangular2"),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=1e-7),
    "OneCycleLR": lambda o: S.OneCycleLR(o, max_lr=[1e-4, 1e-2], total_steps=EPOCHS * STEPS + 4),
    "PolynomialLR": lambda o: S.PolynomialLR(o, total_iters=5, power=2.0),
}


class WarmupThenInverseSqrt(S.LRScheduler):
    """A user subclass of LRScheduler with its own state, as in fairseq/T5 code bases."""

    def __init__(self, optimizer, warmup: int, last_epoch: int = -1):
        self.warmup = warmup
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step = max(self.last_epoch, 1)
        scale = min(step / self.warmup, (self.warmup / step) ** 0.5)
        return [base * scale for base in self.base_lrs]


def never_improving(scheduler) -> float:
    return math.inf if scheduler.mode == "min" else -math.inf


def stepped(optimizer, scheduler, epochs=EPOCHS, steps=STEPS, interval="epoch"):
    """Ground truth: a deep copy of the real pair, stepped the way a training loop steps it."""
    lrs, failed_at = stepped_until_error(optimizer, scheduler, epochs, steps, interval)
    assert failed_at is None, f"torch raised after optimizer step {failed_at}"
    return lrs


def stepped_until_error(optimizer, scheduler, epochs=EPOCHS, steps=STEPS, interval="epoch"):
    """The LRs torch uses at each optimizer step, and the step after which scheduler.step() raised."""
    optimizer, scheduler = copy.deepcopy((optimizer, scheduler))
    lrs = [[] for _ in optimizer.param_groups]
    every = 1 if interval == "step" else steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(epochs * steps):
            for g, group in enumerate(optimizer.param_groups):
                lrs[g].append(float(group["lr"]))
            optimizer.step()
            if (k + 1) % every == 0:
                try:
                    if isinstance(scheduler, S.ReduceLROnPlateau):
                        scheduler.step(never_improving(scheduler))
                    else:
                        scheduler.step()
                except Exception:  # noqa: BLE001 - where torch raises is what is measured
                    return lrs, k
    return lrs, None


def assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif callable(a):
        assert a is b or type(a) is type(b)
    else:
        assert a == b or (a != a and b != b), (a, b)
