"""What the runtime rules read: one `Analysis` per optimizer of a set-up.

`analyse` looks through the wrappers, maps the optimizer's tensors to the model's names by identity
(coverage.py), names each group, replays the schedule on a stand-in optimizer (simulate.py) and
recovers the group LRs from before the scheduler was built. The rules of runtime/rules/ ask it
questions and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch.optim import lr_scheduler

from optlint.runtime import accelerated, relative_step, schedule_free, simulate, stacks
from optlint.runtime.coverage import Coverage, coverage_of
from optlint.runtime.naming import common_prefix, distinct_suffixes
from optlint.runtime.report import setting
from optlint.runtime.unwrap import is_scheduler, unwrap_optimizer, unwrap_scheduler

# Schedulers that write every group's `lr` in their constructor: the LRs set before are gone afterwards.
OVERWRITE_GROUP_LRS = (lr_scheduler.OneCycleLR, lr_scheduler.CyclicLR)
# Settings that tell two groups over the same modules apart in the table (decay / no-decay).
DISTINGUISHING_KEYS = ("weight_decay", "lr")
SHORT_KEYS = {"weight_decay": "wd"}
NOT_SETTINGS = {"params", "param_names", "initial_lr"}
LABEL_WIDTH = 40
FOLD_AT_MOST = 5000  # larger groups are named by their common module prefix: folding them costs seconds


class SchedulerSimulationError(ValueError):
    """Kept for the code that catches it: a scheduler that raises in the preview is now the finding OPT116."""


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
    """`outer_model` as given, `model` unwrapped; `optimizer` as given; `scheduler` a scheduler (in a framework's
    wrapper or not), a factory or None."""
    plan, cut = plan.capped()
    optimizer, aliases = unwrap_optimizer(optimizer)
    coverage = coverage_of(model, optimizer.param_groups, trained_elsewhere)
    now = simulate.lr_list(optimizer)
    stepping, notes = (accelerated.stepping(scheduler), [accelerated.note(scheduler)]) \
        if accelerated.is_accelerated(scheduler) else (None, [])
    scheduler, other, replay_notes = _scheduler_to_replay(unwrap_scheduler(scheduler), optimizer, aliases)
    notes += [*replay_notes, *([cut] if cut else [])]
    preview = simulate.preview(optimizer, aliases, scheduler, model=outer_model, plan=plan, stepping=stepping)
    notes += [note for note in [stacks.deepspeed_peak_note(scheduler, outer_model)] if note]
    if preview.shared:
        notes.append(f"the preview shares {', '.join(preview.shared)} with the real run, as it cannot be copied: "
                     "what the scheduler changes there, the real run sees")
    if preview.assumes_a_metric:
        notes.append("ReduceLROnPlateau follows a metric: the preview assumes it never improves, so the LRs drop "
                     "at the earliest epochs they can")
    if schedule_free.is_schedule_free(optimizer):
        notes.append(schedule_free.note(optimizer, scheduled=scheduler is not None))
    relative = [g for g, group in enumerate(optimizer.param_groups) if relative_step.uses_relative_step(optimizer, group)]
    if relative:
        notes.append(relative_step.note(optimizer, relative))
    # An Adafactor that sets its own LR ignores what a group's `lr` was: OPT107 has nothing to compare with.
    before = None if relative else _lrs_before(scheduler, optimizer, aliases, lrs_before, now, notes)
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
    if overwriter is not None and (kept := _kept_by_earlier_scheduler(scheduler, optimizer)) is not None:
        return kept
    if overwriter is not None:
        name = type(overwriter).__name__
        notes.append(f"{name} set every group's LR when it was built, so the LRs written before it are gone; "
                     f"to compare with them (OPT107), pass a factory: scheduler=lambda opt: {name}(opt, ...)")
        return None
    return [simulate.as_float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]


def _kept_by_earlier_scheduler(scheduler, optimizer) -> list[float] | None:
    """The group LRs from before an overwriter, when a scheduler of the same SequentialLR/ChainedScheduler built
    earlier kept them: its `base_lrs` are the groups' `initial_lr` when it was built, and they differ from the
    `initial_lr` the overwriter wrote (OneCycleLR: `max_lr / div_factor`), so they cannot come after it."""
    written = [simulate.as_float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups]
    for leaf in simulate.leaves(scheduler):
        base = getattr(leaf, "base_lrs", None)
        if (not isinstance(leaf, OVERWRITE_GROUP_LRS) and base is not None and len(base) == len(written)
                and [simulate.as_float(lr) for lr in base] != written):
            return [simulate.as_float(lr) for lr in base]
    return None


def base_lr(group: dict):
    """The LR a group was given: `initial_lr`, which torch's schedulers keep, when one changed `lr` (a warm-up's 0)."""
    return group.get("initial_lr", group.get("lr"))


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
    prefix = common_prefix(names)
    return prefix if prefix != "*" else _by_endings(tree, names) or "mixed modules"


def _by_endings(tree, names: list[str]) -> str | None:
    """`*.bias, *.LayerNorm.weight` and `* but *.bias, *.LayerNorm.weight`: a decay / no-decay split by name."""
    if len(tree.names) > FOLD_AT_MOST:
        return None
    others = tree.names_except(names)
    for endings, form in ((distinct_suffixes(names, others), "{}"),
                          (distinct_suffixes(others, names), "* but {}")):
        listed = ", ".join(f"*.{ending}" for ending in endings)
        if endings and len(endings) <= 3 and len(listed) <= LABEL_WIDTH:
            return form.format(listed)
    return None


def _distinguishing_key(groups: list[dict]) -> str | None:
    keys = [k for k in DISTINGUISHING_KEYS if k in groups[0]]
    keys += sorted(k for k in groups[0] if isinstance(k, str) and k not in NOT_SETTINGS and k not in keys)
    for key in keys:
        values = [setting(g.get(key)) for g in groups]
        if len(set(values)) == len(values):
            return key
    return None
