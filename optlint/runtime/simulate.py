"""The LR preview: torch's own scheduler replayed on a stand-in optimizer, never on the real one.

The stand-in has the real optimizer's class and one tiny tensor per group with a copy of that
group's hyper-parameters, so time and memory depend on groups and steps, not on model size. A
scheduler instance is deep-copied with its optimizer rebound to the stand-in (every nested
scheduler of a SequentialLR/ChainedScheduler too), which keeps its exact state: a resumed scheduler
continues from where it is, user lambdas and user subclasses run as they are. No formula is
re-implemented, so the preview equals, bit for bit, what stepping the real objects would give.

ReduceLROnPlateau needs a metric: the preview assumes it never improves (it feeds the mode's worst
value), which shows the earliest epochs at which the LR can be cut.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import random
import sys
import warnings
from dataclasses import dataclass

import torch
from torch.optim import lr_scheduler

from optlint import facts
from optlint.runtime import isolation, relative_step, schedule_free, stacks
from optlint.runtime.report import SimulationStop
from optlint.runtime.unwrap import is_scheduler, unwrap_scheduler

PER_STEP_SCHEDULERS = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
# The keywords a Hugging Face schedule's lambda (functools.partial) carries: its lengths count optimizer steps.
STEP_COUNT_KEYWORDS = ("num_training_steps", "num_warmup_steps", "num_decay_steps")
# Steps simulated past the preview to find where torch raises for groups a scheduler never saw.
PROBE_STEPS = 10_000
# The longest preview, in optimizer steps: its time and memory grow with it (about a second and 3 MB a group
# per 100,000 steps); a longer run is previewed up to here, and a note says so.
MAX_PREVIEW_STEPS = 100_000


@dataclass(frozen=True)
class Plan:
    """The training loop the preview replays: how many optimizer steps, and after which of them the
    loop calls `scheduler.step()`."""

    epochs: int
    steps_per_epoch: int
    interval: str = "auto"  # "step", "epoch", or "auto": resolved from the scheduler (see resolve_interval)
    # Every `frequency` epochs; or every `frequency` batches counted from the epoch's start, as Lightning counts.
    frequency: int = 1
    batches_per_step: int = 1  # gradient accumulation: the batches of one optimizer step
    batches_per_epoch: int | None = None  # when accumulation does not divide it, the epoch's last step has fewer
    total_steps: int | None = None  # when training stops before the last epoch ends (Lightning's max_steps)
    length_known: bool = True  # False: the caller gave no run length (check_setup's default 5 epochs of 1 step)
    frequency_over_run: bool = False  # count `frequency` steps over the whole run (HF's eval_steps), not per epoch

    @property
    def steps(self) -> int:
        return self.total_steps or self.epochs * self.steps_per_epoch

    def steps_scheduler_after(self, k: int) -> bool:
        """Whether the loop steps the scheduler after optimizer step `k` (0-based)."""
        epoch, step = divmod(k, self.steps_per_epoch)
        if self.interval == "epoch":
            return step == self.steps_per_epoch - 1 and (epoch + 1) % self.frequency == 0
        if self.frequency_over_run:
            return (k + 1) % self.frequency == 0
        batches = (step + 1) * self.batches_per_step
        return min(batches, self.batches_per_epoch or batches) % self.frequency == 0

    def capped(self) -> tuple[Plan, str | None]:
        """The plan cut at MAX_PREVIEW_STEPS, and the note saying so when it is."""
        if self.steps <= MAX_PREVIEW_STEPS:
            return self, None
        note = (f"the preview is cut at optimizer step {MAX_PREVIEW_STEPS:,} of the run's {self.steps:,} "
                f"(optlint previews {MAX_PREVIEW_STEPS:,} steps at most): the LRs after it are not checked")
        return dataclasses.replace(self, total_steps=MAX_PREVIEW_STEPS), note

    def resolved(self, scheduler) -> Plan:
        return dataclasses.replace(self, interval=resolve_interval(self.interval, scheduler))

    def scheduler_steps_before(self, k: int) -> int:
        """How many times the loop has stepped the scheduler when optimizer step `k` (0-based) runs."""
        return sum(map(self.steps_scheduler_after, range(k)))


@dataclass
class Preview:
    schedule: list[list[float]]
    plan: Plan  # with the interval resolved
    scheduler_name: str | None = None
    stop: SimulationStop | None = None
    later_stop: SimulationStop | None = None  # found by probing past the preview
    known_groups: int | None = None  # groups the scheduler was built with, when fewer than the optimizer's
    shared: list[str] = dataclasses.field(default_factory=list)  # what the replay shares with the real run
    raises_later: bool = False  # torch facts: a leaf class raises for such groups at some later step
    rescaler: str | None = None  # torch facts: the leaf class that silently rescales such groups
    interval_guessed: bool = False  # "auto" chose "epoch" with nothing in the scheduler saying so
    replay: object = None  # the scheduler replayed on the stand-in, stepped through the preview
    replay_start: int = 0  # its `position` before the preview (a resumed scheduler's is above 0)
    applies_lr_scale: bool = False  # the scheduler multiplies each group's LR by its `lr_scale` (timm's)

    @property
    def assumes_a_metric(self) -> bool:
        return self.scheduler_name == lr_scheduler.ReduceLROnPlateau.__name__

    @property
    def interval(self) -> str:
        return self.plan.interval


def preview(optimizer, aliases: list, scheduler, *, model, plan: Plan, stepping=None) -> Preview:
    """The LR of every group at every optimizer step. `scheduler`: None, an LR scheduler bound to
    `optimizer` (or one of its `aliases`), or a factory that builds one from the optimizer it is given.
    `model`: what the optimizer trains, whose modules and tensors are never copied.
    `stepping`: how a wrapper steps it (accelerate's AcceleratedScheduler): given the replay, the function the
    loop's `scheduler.step()` runs; None: `step_scheduler(replay)`.
    """
    if scheduler is None:
        return Preview(unscheduled(optimizer, plan.steps), plan.resolved(None))
    with quiet(), random_state_kept():
        standin = make_standin(optimizer)
        if replayable(scheduler):
            replay, shared = rebound_copy(scheduler, model, aliases, standin)
        else:
            replay, shared = build_from_factory(scheduler, standin, optimizer, model, aliases)
        guessed = plan.interval == "auto" and not steps_per_optimizer_step(replay)
        plan, start = plan.resolved(replay), position(replay)
        step = loop_step(replay, plan, stepping)
        schedule, stop = run(step, standin, plan)
        known = known_groups(replay)
        about = dict(shared=shared, interval_guessed=guessed, replay=replay, replay_start=start,
                     applies_lr_scale=stacks.applies_lr_scale(replay))
        if known is None or known >= len(standin.param_groups):
            return Preview(schedule, plan, type(replay).__name__, stop, **about)
        raises_later = raises_for_new_groups(replay)
        unknown_class = any(not _added_group_fact(leaf) for leaf in leaves(replay))
        later = None
        if stop is None and (raises_later or unknown_class):
            later = probe(step, plan)
    return Preview(schedule, plan, type(replay).__name__, stop, later, known,
                   raises_later=raises_later, rescaler=rescaling_class(replay), **about)


def loop_step(replay, plan: Plan, stepping=None):
    """What the training loop runs on the scheduler after optimizer step k, as `step(k)`: a stack's own loop
    (stacks.py), else `scheduler.step()` (through `stepping`, a wrapper's) where the plan steps it."""
    if stacks.stack_of(replay):
        return lambda k: stacks.step_after(replay, k, plan.steps_per_epoch)
    step = stepping(replay) if stepping else functools.partial(step_scheduler, replay)
    return lambda k: step() if plan.steps_scheduler_after(k) else None


def build_from_factory(factory, standin, optimizer, model, aliases: list) -> tuple[object, list[str]]:
    """Apply a copy of a scheduler factory to the stand-in (what it closes over is copied, see isolation.py):
    the scheduler, and what the copy shares with the real run. The real optimizer is restored whatever the
    factory did to it, also when it raised."""
    saved = _settings(optimizer)
    try:
        copied, shared = isolation.isolated_copy(factory, model, aliases)
        built = unwrap_scheduler(copied(standin))
    finally:
        _restore(optimizer, saved)
    if not replayable(built):
        raise TypeError(f"the scheduler factory returned {type(built).__name__}, not a torch LR scheduler")
    if built.optimizer is not standin:
        raise ValueError(
            "the scheduler factory must build the scheduler on the optimizer it is given "
            "(lambda opt: OneCycleLR(opt, ...)), not on another one"
        )
    return built, shared


def _settings(optimizer) -> tuple[list[dict], bool]:
    groups = [{k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in group.items()}
              for group in optimizer.param_groups]
    return groups, "step" in vars(optimizer)


def _restore(optimizer, saved: tuple[list[dict], bool]) -> None:
    """Undo what building a scheduler did to an optimizer: group settings, the wrapped `step`."""
    groups, had_step = saved
    for group, before in zip(optimizer.param_groups, groups):
        tensors = {k: group[k].copy_(v) for k, v in before.items() if isinstance(v, torch.Tensor) and k in group}
        group.clear()
        group.update(before, **tensors)
    if not had_step:
        vars(optimizer).pop("step", None)


def leaves(scheduler) -> list:
    """The schedulers that do the work: the children of SequentialLR/ChainedScheduler, recursively."""
    children = getattr(scheduler, "_schedulers", None)
    if children is None:
        return [scheduler]
    return [leaf for child in children for leaf in leaves(child)]


def position(scheduler) -> int:
    """How many times the scheduler has stepped (`last_epoch`; a ChainedScheduler's furthest child's)."""
    if hasattr(scheduler, "last_epoch"):
        return scheduler.last_epoch
    return max((position(leaf) for leaf in leaves(scheduler) if leaf is not scheduler), default=0)


def replayable(obj) -> bool:
    """A torch LR scheduler, or one of another stack that the preview steps as that stack does (stacks.py)."""
    return is_scheduler(obj) or stacks.stack_of(obj) is not None


def resolve_interval(requested: str, scheduler) -> str:
    if scheduler is not None and stacks.stack_of(scheduler):
        return stacks.interval(scheduler)  # the stack's own loop steps it, whatever was asked
    if requested != "auto":
        return requested
    return "step" if scheduler is not None and steps_per_optimizer_step(scheduler) else "epoch"


def steps_per_optimizer_step(scheduler) -> bool:
    """Whether the scheduler says it counts optimizer steps: OneCycleLR, CyclicLR, or a LambdaLR whose lambda is a
    functools.partial given step counts (every `get_*_schedule_with_warmup` of transformers, `get_scheduler`)."""
    return any(isinstance(s, PER_STEP_SCHEDULERS) or any(map(_counts_steps, getattr(s, "lr_lambdas", ())))
               for s in leaves(scheduler))


def _counts_steps(function) -> bool:
    return isinstance(function, functools.partial) and any(key in function.keywords for key in STEP_COUNT_KEYWORDS)


def known_groups(scheduler) -> int | None:
    """How many groups the scheduler was built for (`base_lrs`, ReduceLROnPlateau's `min_lrs`)."""
    sizes = [len(s.base_lrs) for s in leaves(scheduler) if hasattr(s, "base_lrs")]
    sizes += [len(s.min_lrs) for s in leaves(scheduler) if isinstance(s, lr_scheduler.ReduceLROnPlateau)]
    return min(sizes) if sizes else None


@contextlib.contextmanager
def quiet():
    """torch warns on a stand-in (scheduler stepped before optimizer.step()); none of it may leak."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def random_state_kept():
    """The replay runs user code (lambdas, a factory, a subclass): whatever it draws must not shift the random
    streams of the real run, or a seeded training would differ with and without the check."""
    numpy = sys.modules.get("numpy")  # only if the user imported it: never import it here
    saved = random.getstate(), numpy.random.get_state() if numpy else None
    cuda = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=cuda):
            yield
    finally:
        random.setstate(saved[0])
        if numpy:
            numpy.random.set_state(saved[1])


def make_standin(optimizer):
    """An optimizer of the same class with one tiny tensor per group and copies of the group settings."""
    groups = []
    for group in optimizer.param_groups:
        settings = {k: copy.deepcopy(v) for k, v in group.items() if k not in ("params", "param_names")}
        settings["params"] = [torch.zeros((1, 1), device="cpu")]
        if "param_names" in group:
            settings["param_names"] = ["stand-in"]
        groups.append(settings)
    cls = type(optimizer)
    standin = cls.__new__(cls)
    # The base constructor only: the class's own __init__ may reject a stand-in tensor (Muon wants 2-D
    # weights, LBFGS one group), and the settings come with every group anyway.
    torch.optim.Optimizer.__init__(standin, groups, dict(optimizer.defaults))
    return standin


def rebound_copy(scheduler, model, aliases: list, standin) -> tuple[object, list[str]]:
    """A deep copy of the scheduler whose optimizer (and every nested scheduler's) is the stand-in, and what
    it shares with the real run (see isolation.py)."""
    try:
        return isolation.isolated_copy(scheduler, model, aliases, standin)
    except Exception as exc:  # noqa: BLE001 - a user subclass may hold what cannot be copied (locks, files)
        raise TypeError(f"{type(scheduler).__name__} cannot be copied to replay it on a stand-in optimizer "
                        f"({type(exc).__name__}: {exc}); pass a factory instead: lambda opt: ...(opt, ...)") from exc


def run(step, standin, plan: Plan) -> tuple[list[list[float]], SimulationStop | None]:
    """Record every group's LR at each optimizer step, stepping the scheduler as a training loop would
    (`step(k)` after optimizer step k, see loop_step; None: there is none).

    The scheduler also steps after the last optimizer step, as the real loop does, so an error that
    torch raises at the very end of the run is found too.
    """
    groups = standin.param_groups
    schedule: list[list[float]] = [[] for _ in groups]
    steps_itself = schedule_free.is_schedule_free(standin)
    if steps_itself:
        schedule_free.prepare(standin)
    for k in range(plan.steps):
        used = schedule_free.lrs_of_next_step(standin) if steps_itself else [group_lr(standin, g, k) for g in groups]
        for lrs, lr in zip(schedule, used):
            lrs.append(lr)
        if step is not None:
            stop = _step_or_stop(step, k, plan.steps_per_epoch)
            if stop:
                return schedule, stop
    return schedule, None


def probe(step, plan: Plan) -> SimulationStop | None:
    """Keep stepping past the preview, PROBE_STEPS scheduler steps at most; the first step at which torch raises.

    When the loop steps the scheduler repeats with a period of an epoch (`frequency` epochs for "epoch", or
    counted over the run).
    """
    period = plan.steps_per_epoch * (plan.frequency if plan.interval == "epoch" or plan.frequency_over_run else 1)
    after = [k for k in range(plan.steps, plan.steps + period) if plan.steps_scheduler_after(k)]
    for n in range(PROBE_STEPS if after else 0):
        cycle, index = divmod(n, len(after))
        k = after[index] + cycle * period
        stop = _step_or_stop(step, k, plan.steps_per_epoch)
        if stop:
            return stop
    return None


def step_scheduler(scheduler) -> None:
    if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
        scheduler.step(scheduler.mode_worse)  # the metric never improves: the earliest possible cuts
    else:
        scheduler.step()


def raises_for_new_groups(scheduler) -> bool:
    """torch's measured behaviour (torch facts): a leaf class that raises for groups added later."""
    return any(_added_group_fact(s).startswith("raises") for s in leaves(scheduler))


def rescaling_class(scheduler) -> str | None:
    """The torch class among the leaves that silently rescales a group added after it was built."""
    return next((type(s).__name__ for s in leaves(scheduler) if _added_group_fact(s) == "rescales"), None)


def _added_group_fact(scheduler) -> str:
    cls = type(scheduler)
    if cls.__module__ != lr_scheduler.__name__:
        return ""  # a user subclass: only the simulation decides
    return facts.load().schedulers.get(cls.__name__, {}).get("added_group", "")


def _step_or_stop(step, k: int, steps_per_epoch: int) -> SimulationStop | None:
    try:
        step(k)
    except Exception as exc:  # noqa: BLE001 - whatever torch raises is what the real run would raise
        return SimulationStop(step=k, epoch=k // steps_per_epoch, error=f"{type(exc).__name__}: {exc}")
    return None


def as_float(value) -> float:
    return value.item() if isinstance(value, torch.Tensor) else float(value)


def lr_list(optimizer) -> list[float]:
    """The LR each group trains with at the optimizer's next step."""
    return [group_lr(optimizer, group) for group in optimizer.param_groups]


def group_lr(optimizer, group: dict, step: int | None = None) -> float:
    """The LR a group trains with at optimizer step `step` (0-based; None: the next one): its `lr`, or the
    relative step of an Adafactor that ignores it (relative_step.py)."""
    if not relative_step.uses_relative_step(optimizer, group):
        return as_float(group["lr"])
    return relative_step.relative_lr(optimizer, group, relative_step.steps_taken(optimizer, group) if step is None
                                     else step)


def unscheduled(optimizer, steps: int) -> list[list[float]]:
    """The LRs of a run without a scheduler: constant, but for an Adafactor's relative steps."""
    if schedule_free.is_schedule_free(optimizer):
        with quiet(), random_state_kept():
            return run(None, make_standin(optimizer), Plan(1, steps, "step"))[0]
    if not any(relative_step.uses_relative_step(optimizer, group) for group in optimizer.param_groups):
        return constant(lr_list(optimizer), steps)
    return [[group_lr(optimizer, group, k) for k in range(steps)] for group in optimizer.param_groups]


def constant(lrs: list[float], steps: int) -> list[list[float]]:
    return [[lr] * steps for lr in lrs]
