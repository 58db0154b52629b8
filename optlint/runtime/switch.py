"""`SwitchLR`: a training loop that steps one scheduler for the first epochs and another one afterwards, each
continuing from the LR the previous one left: the SWA recipe of `torch.optim.swa_utils`,

    for epoch in range(epochs):
        train_one_epoch()
        if epoch > swa_start:
            swa_model.update_parameters(model); swa_scheduler.step()
        else:
            scheduler.step()

is `SwitchLR(optimizer, [scheduler, swa_scheduler], milestones=[swa_start + 1])`. Unlike `SequentialLR`,
nothing is restarted at a milestone (SequentialLR calls `step(0)` on the next scheduler). It is a torch
LRScheduler, so `check_setup` and `optlint runtime` replay it as they replay torch's own, and a loop can
step it in place of the if/else.
"""

from __future__ import annotations

import bisect

from torch.optim import lr_scheduler


class SwitchLR(lr_scheduler.LRScheduler):
    """Each `step()` goes to one scheduler: `schedulers[i]` from step `milestones[i - 1]` (0 for the first)."""

    def __init__(self, optimizer, schedulers: list, milestones: list[int]):
        schedulers = list(schedulers)
        milestones = list(milestones)
        if len(schedulers) < 2 or len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SwitchLR needs two schedulers or more and one milestone fewer, got {len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones")
        if any(not isinstance(m, int) or m < 1 for m in milestones) or milestones != sorted(set(milestones)):
            raise ValueError(f"SwitchLR milestones must be increasing positive ints (steps), got {milestones}")
        for index, scheduler in enumerate(schedulers):
            if getattr(scheduler, "optimizer", None) is not optimizer:
                raise ValueError(f"SwitchLR: scheduler {index} ({type(scheduler).__name__}) is not bound to the "
                                 "optimizer given")
        # LRScheduler.__init__ would take a step; like SequentialLR, only the attributes are set here.
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self) -> None:  # type: ignore[override]
        self._schedulers[bisect.bisect_right(self._milestones, self.last_epoch)].step()
        self.last_epoch += 1
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state.pop("_schedulers")):
            scheduler.load_state_dict(saved)
        self.__dict__.update(state)
