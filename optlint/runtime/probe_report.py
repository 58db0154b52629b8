"""ProbeReport: what one real optimizer step did to each param group, as a table, JSON or a bar chart.

The numbers are read next to the common rule of thumb: a step moves the weights of a group by
about 1e-3 of their norm. Far above (> 1e-2), that group's LR is probably too high for it; far below
(< 1e-4), it barely trains. One step shows one update, nothing more. Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from optlint.findings import Finding
from optlint.report import text
from optlint.report.escape import escape
from optlint.runtime.report import OneOptimizer, finding_dict, finding_lines, json_float, short, table

TYPICAL_RATIO = 1e-3
HIGH_ABOVE = 1e-2
LOW_BELOW = 1e-4
RULE_OF_THUMB = ("Rule of thumb: ‖Δw‖/‖w‖ around 1e-3 per step. Far above (> 1e-2): the group's LR is probably "
                 "too high for it; far below (< 1e-4): it barely trains.")
ONE_STEP = ("One step shows one update: the ratio changes as the optimizer's state fills, as the scheduler moves "
            "the LR and as the weights grow; read a far-off value as a reason to look, not as a verdict.")


@dataclass(frozen=True)
class GroupProbe:
    index: int
    label: str  # e.g. "backbone.*", as in `optlint runtime`'s table
    lr: float  # the LR this step used
    tensors: int  # trainable tensors (requires_grad=True)
    elements: int
    frozen: int  # tensors with requires_grad=False, left out of every number
    weight_norm: float  # ‖w‖ before the step, over the trainable tensors
    update_norm: float  # ‖Δw‖
    grad_norm: float  # over the tensors that received a gradient
    no_grad_elements: int  # elements of trainable tensors that received no gradient
    no_grad_names: tuple[str, ...]  # those tensors, folded by module prefix (`aux_head.* (2 tensors)`)
    sign_like: bool = False  # a first adaptive step: ‖Δw‖ ≈ lr·√n, whatever the gradient's size
    no_grad_quoted: str = ""  # the same, as a message names them: `` `aux_head.*` (2 tensors) ``

    @property
    def ratio(self) -> float | None:
        return self.update_norm / self.weight_norm if self.weight_norm > 0 else None

    @property
    def no_grad_share(self) -> float:
        return self.no_grad_elements / self.elements if self.elements else 0.0

    @property
    def verdict(self) -> str:
        """What the ratio says next to the rule of thumb, or why there is no ratio to read."""
        ratio = self.ratio
        if not self.tensors:
            return "no trainable tensors"
        if self.no_grad_elements == self.elements:
            return "no gradient"
        if self.lr == 0:
            return "lr=0 at this step: no update"
        if ratio is None:
            return "zero weights: no ratio"
        if not (math.isfinite(ratio) and math.isfinite(self.grad_norm)):
            return "not finite"
        if ratio > HIGH_ABOVE:
            return "high: LR likely too high"
        if ratio < LOW_BELOW:
            return "low: barely trains"
        return "typical"

    def to_dict(self) -> dict:
        ratio = self.ratio
        return {
            "index": self.index, "label": self.label, "lr": json_float(self.lr), "tensors": self.tensors,
            "elements": self.elements, "frozen_tensors": self.frozen, "weight_norm": json_float(self.weight_norm),
            "update_norm": json_float(self.update_norm), "ratio": None if ratio is None else json_float(ratio),
            "grad_norm": json_float(self.grad_norm), "no_grad_share": self.no_grad_share,
            "no_grad_params": list(self.no_grad_names), "first_step_sign_like": self.sign_like,
            "verdict": self.verdict,
        }


@dataclass
class ProbeReport(OneOptimizer):
    optimizer_name: str
    loss: float
    in_place: bool
    groups: list[GroupProbe]
    scheduler_name: str | None = None  # the scheduler that set this step's LRs, when the factory built one
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what the probe rules (OPT114, OPT117, OPT118) found
    frozen_changes: list = field(default_factory=list)  # frozen.FrozenChange: what moved that was meant to stay

    def to_dict(self) -> dict:
        return {
            **self.head(),
            "in_place": self.in_place,
            "loss": json_float(self.loss),
            "rule_of_thumb": {"typical": TYPICAL_RATIO, "high_above": HIGH_ABOVE, "low_below": LOW_BELOW},
            "groups": [g.to_dict() for g in self.groups],
            "findings": [finding_dict(f) for f in self.findings],
            "notes": self._notes(),
        }

    def __str__(self) -> str:
        parts = [self._headline(), "\n".join(table(*self._rows(), left_aligned={1, 8})), RULE_OF_THUMB]
        parts += [f"note: {escape(note)}" for note in self._notes()]
        parts += [finding_lines(f) for f in self.findings]
        parts.append(text.summary(self.findings))
        return "\n\n".join(parts)

    def _headline(self) -> str:
        where = "on the real model and optimizer (in_place=True)" if self.in_place else (
            "on a copy: the model and optimizer passed in are unchanged")
        lrs = f"; LRs as {self.scheduler_name} set them for this step" if self.scheduler_name else ""
        return escape(f"One {self.optimizer_name} step {where}. Loss {self.loss:.4g}{lrs}.")

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        headers = ["group", "parameters", "lr", "‖w‖", "‖Δw‖", "‖Δw‖/‖w‖", "‖grad‖", "no grad", "reading"]
        rows = [[str(g.index), escape(g.label), f"{g.lr:.3g}", _number(g.weight_norm), _number(g.update_norm),
                 _number(g.ratio), _number(g.grad_norm if g.no_grad_elements < g.elements else None),
                 f"{g.no_grad_share:.0%}", g.verdict] for g in self.groups]
        return headers, rows

    def _notes(self) -> list[str]:
        return [*self.notes, *self._sign_like_note(), ONE_STEP]

    def _sign_like_note(self) -> list[str]:
        groups = [g.index for g in self.groups if g.sign_like]
        if not groups:
            return []
        which = "every group" if len(groups) == len(self.groups) else f"group{'s' * (len(groups) > 1)} " + ", ".join(
            map(str, groups))
        return [f"this was {self.optimizer_name}'s first step: for {which} the update was about lr·sign(g) per "
                "element (‖Δw‖ ≈ lr·√n), so the ratio reflects the LR against the weights' size, not the gradient's"]

    def plot(self, path: str) -> None:
        """A bar chart of ‖Δw‖/‖w‖ per group on a log scale, with the rule of thumb's band."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        figure, axes = plt.subplots(figsize=(max(6.0, 1.2 * len(self.groups) + 2), 4.2))
        axes.axhspan(LOW_BELOW, HIGH_ABOVE, color="tab:green", alpha=0.12, label="rule of thumb (1e-4 to 1e-2)")
        axes.axhline(TYPICAL_RATIO, color="tab:green", linewidth=1, linestyle="--")
        heights = [g.ratio if g.ratio and math.isfinite(g.ratio) else 0.0 for g in self.groups]
        shown = [h for h in heights if h > 0] or [TYPICAL_RATIO]
        floor = min(LOW_BELOW, *shown) / 10
        labels = [f"{g.index}: {short(g.label)}" for g in self.groups]
        bars = axes.bar(labels, [h or floor for h in heights], bottom=0, color=[_colour(g) for g in self.groups])
        for bar, group, height in zip(bars, self.groups, heights):
            text = f"{height:.1e}" if height else group.verdict
            axes.annotate(text, (bar.get_x() + bar.get_width() / 2, height or floor), ha="center", va="bottom",
                          fontsize=8, xytext=(0, 2), textcoords="offset points")
        axes.set_yscale("log")
        axes.set_ylim(floor, max(HIGH_ABOVE, *shown) * 10)
        axes.set_ylabel("‖Δw‖ / ‖w‖ after one step")
        axes.set_title(f"One {self.optimizer_name} step: update-to-weight ratio per param group", fontsize=10)
        axes.legend(loc="upper left", fontsize=8)
        axes.tick_params(axis="x", labelrotation=20 if len(self.groups) > 4 else 0, labelsize=8)
        figure.tight_layout()
        figure.savefig(path, dpi=120)
        plt.close(figure)


def _colour(group: GroupProbe) -> str:
    verdict = group.verdict
    if verdict == "typical":
        return "tab:green"
    return "tab:red" if verdict.startswith("high") else "tab:gray" if verdict.startswith("low") else "tab:orange"


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2e}" if value and (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3g}"
