"""What the runtime rules read: one `Analysis` per optimizer of a set-up.

`analyse` looks through the wrappers, maps the optimizer's tensors to the model's names by identity
(coverage.py), names each group, replays the schedule on a stand-in optimizer (simulate.py) and
recovers the group LRs from before the scheduler was built. The rules of runtime/rules/ ask it
questions and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch.optim import lr_scheduler

from optlint.runtime import simulate, stacks
from optlint.runtime.coverage import Coverage, coverage_of
from optlint.runtime.naming import common_prefix
from optlint.runtime.report import every, setting
from optlint.runtime.unwrap import is_scheduler, unwrap_optimizer

# Schedulers that write every group's `lr` in their constructor: the LRs set before are gone afterwards.
OVERWRITE_GROUP_LRS = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
# Settings that tell two groups over the same modules apart in the table (decay / no-decay).
DISTINGUISHING_KEYS = ("weight_decay", "lr")
SHORT_KEYS = {"weight_decay": "wd"}
NOT_SETTINGS = {"params", "param_names", "initial_lr"}
LABEL_WIDTH = 40
FOLD_AT_MOST = 5000  # larger groups are named by their common module prefix: folding them costs seconds


class SchedulerSimulationError(ValueError):
    """The scheduler raised while its schedule was simulated: the real run would raise at that step."""


@dataclass
class Analysis:
    """One optimizer of the set-up, as the rules see it."""

    model: object  # the module written, wrappers looked through
    optimizer: object  # the torch optimizer, wrappers looked through
    coverage: Coverage  # the model's names of the tensors of each group, by identity
    labels: list[str]  # what each group is called: `backbone.*`
    lrs_now: list[float]  # each group's LR after the scheduler was built
    preview: simulate.Preview  # the LR of each group at each simulated optimizer step
    lrs_before: list[float] | None  # each group's LR before the scheduler was built, when known
    optimizers: list = field(default_factory=list)  # every optimizer of the set-up, wrappers looked through
    index: int = 0  # this one's place among them
    other_scheduler: tuple[str, object] | None = None  # (class name, its optimizer): it drives another one
    notes: list[str] = field(default_factory=list)

    @property
    def groups(self) -> list[dict]:
        return self.optimizer.param_groups

    @property
    def live(self) -> list[bool]:
        """Which groups hold tensors: the LR of an empty one changes nothing."""
        return [n > 0 for n in self.coverage.group_tensors]

    def label(self, g: int) -> str:
        """`1 (`aux_head.*`)`: a group as the messages name it."""
        return f"{g} (`{self.labels[g]}`)"


def analyse(outer_model, model, optimizer, scheduler, plan: simulate.Plan, *, optimizers: list, index: int,
            trained_elsewhere: frozenset[int], lrs_before: dict[int, list[float]] | None) -> Analysis:
    """`outer_model` as given, `model` unwrapped; `optimizer` as given; `scheduler` a scheduler, a factory or None.
    Raises SchedulerSimulationError when the scheduler raises within the preview (the real run would)."""
    plan, cut = plan.capped()
    optimizer, aliases = unwrap_optimizer(optimizer)
    coverage = coverage_of(model, optimizer.param_groups, trained_elsewhere)
    now = simulate.lr_list(optimizer)
    scheduler, other, notes = _scheduler_to_replay(scheduler, optimizer, aliases)
    notes += [cut] if cut else []
    preview = simulate.preview(optimizer, aliases, scheduler, model=outer_model, plan=plan)
    notes += [note for note in [stacks.deepspeed_peak_note(scheduler, outer_model)] if note]
    if preview.stop and preview.known_groups is None:
        raise SchedulerSimulationError(_simulation_error(preview))
    if preview.shared:
        notes.append(f"the preview shares {', '.join(preview.shared)} with the real run, as it cannot be copied: "
                     "what the scheduler changes there, the real run sees")
    if preview.assumes_a_metric:
        notes.append("ReduceLROnPlateau follows a metric: the preview assumes it never improves, so the LRs drop "
                     "at the earliest epochs they can")
    before = _lrs_before(scheduler, optimizer, aliases, lrs_before, now, notes)
    return Analysis(model, optimizer, coverage, group_labels(coverage, optimizer.param_groups), now, preview,
                    before, optimizers, index, other, notes)


def _scheduler_to_replay(scheduler, optimizer, aliases: list):
    """The scheduler (or factory) whose schedule this optimizer really follows, the (name, optimizer) of a
    scheduler that drives another optimizer (OPT109: this one's LRs stay constant), and notes."""
    if simulate.replayable(scheduler) and not any(scheduler.optimizer is a for a in aliases):
        other = unwrap_optimizer(scheduler.optimizer)[0]
        if other is not optimizer:
            return None, (type(scheduler).__name__, other), []
        aliases.append(scheduler.optimizer)
    if scheduler is not None and not simulate.replayable(scheduler) and not callable(scheduler):
        return None, None, [f"{type(scheduler).__name__} is not a torch LR scheduler: the preview shows the current LRs"]
    return scheduler, None, []


def _lrs_before(scheduler, optimizer, aliases, recorded, now: list[float], notes: list[str]) -> list[float] | None:
    """The group LRs before the scheduler was built: known for a factory (the real optimizer never saw
    it), recorded by `optlint runtime`, or kept by torch in `initial_lr` unless the scheduler overwrote them."""
    if scheduler is None:
        return None
    if not simulate.replayable(scheduler):
        return now
    if not is_scheduler(scheduler):  # timm's keep `initial_lr` as torch's do; DeepSpeed's keep nothing
        return [simulate.as_float(g["initial_lr"]) for g in optimizer.param_groups] if all(
            "initial_lr" in g for g in optimizer.param_groups) else None
    for alias in aliases:
        if recorded and id(alias) in recorded and len(recorded[id(alias)]) == len(now):
            return recorded[id(alias)]
    overwriter = next((s for s in simulate.leaves(scheduler) if isinstance(s, OVERWRITE_GROUP_LRS)), None)
    if overwriter is not None:
        name = type(overwriter).__name__
        notes.append(f"{name} set every group's LR when it was built, so the LRs written before it are gone; "
                     f"to compare with them (OPT107), pass a factory: scheduler=lambda opt: {name}(opt, ...)")
        return None
    return [simulate.as_float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]


def _simulation_error(preview: simulate.Preview) -> str:
    stop, plan = preview.stop, preview.plan
    return (f"{preview.scheduler_name}.step() after optimizer step {stop.step} (epoch {stop.epoch}) raised "
            f"{stop.error}. The preview ran {plan.steps} optimizer steps, {plan.steps_per_epoch} per epoch, stepping the "
            f"scheduler {every(plan.interval, plan.frequency)}: the real run raises there too, unless it is shorter.")


def group_labels(coverage: Coverage, groups: list[dict]) -> list[str]:
    """What to call each group in the table: `backbone.*`, `cls_token, pos_embed, patch_embed.*`,
    `* but head.*`; with a setting when two groups cover the same modules (`* weight_decay=0.0`)."""
    labels = []
    for names, tensors in zip(coverage.group_names, coverage.group_tensors):
        label = _modules_of(coverage.tree, names) if names else "empty" if not tensors else "not in the model"
        foreign = tensors - len(names)
        labels.append(f"{label} +{foreign} foreign" if names and foreign else label)
    for label in {label for label in labels if labels.count(label) > 1}:
        same = [i for i, other in enumerate(labels) if other == label]
        key = _distinguishing_key([groups[i] for i in same])
        if key:
            for i in same:
                labels[i] = f"{label} {SHORT_KEYS.get(key, key)}={setting(groups[i][key])}"
    return labels


def _modules_of(tree, names: list[str]) -> str:
    if len(names) == len(tree.names):
        return "*"
    if len(names) <= FOLD_AT_MOST:
        folded = tree.fold(names)
        listed = ", ".join(entry.text for entry in folded)
        if len(folded) <= 3 and len(listed) <= LABEL_WIDTH:
            return listed
    if len(tree.names) - len(names) <= FOLD_AT_MOST:
        others = tree.fold(tree.names_except(names))
        listed = ", ".join(entry.text for entry in others)
        if len(others) == 1 or (len(others) <= 3 and len(listed) <= LABEL_WIDTH):
            return f"* but {listed}"
    return common_prefix(names)


def _distinguishing_key(groups: list[dict]) -> str | None:
    keys = [k for k in DISTINGUISHING_KEYS if k in groups[0]]
    keys += sorted(k for k in groups[0] if isinstance(k, str) and k not in NOT_SETTINGS and k not in keys)
    for key in keys:
        values = [setting(g.get(key)) for g in groups]
        if len(set(values)) == len(values):
            return key
    return None
