"""optlint next to torch-audit 0.3.0 on the same set-ups (issue 9): which findings each tool reports.

torch-audit is not a dependency of optlint: install it into a scratch virtual environment outside the
repository and pass that environment's python. Each set-up is built once per tool by the same factory.
optlint runs `check_setup` with every runtime rule (the opt-in OPT110 and OPT111 included) and, where
the factory returns a batch and a loss function, `probe_step`. torch-audit runs its static and init
audits, then its autopatch mode over one real training step (forward, backward, optimizer.step), the
integration its README recommends; every rule is enabled.

    python3.11 -m venv /tmp/ta && /tmp/ta/bin/pip install torch==2.13.0 torch-audit==0.3.0
    .venv/bin/python benchmarks/compare_torch_audit.py /tmp/ta/bin/python
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = "fixtures/runtime"
SETUPS = [
    ("probe_setup.py:build", "fine-tune, 100x head LR, a head forward never uses, decay on everything"),
    ("demo_setup.py:build", "classifier replaced after the optimizer was built"),
    ("onecycle_finetune.py:build", "OneCycleLR with one max_lr over two per-group LRs"),
    ("unfreezing_setup.py:build", "backbone group added after the cosine scheduler"),
    ("gpt_pretrain.py:build", "correct nanoGPT-style set-up, tied embeddings"),
    ("weight_decay_setups.py:adam_l2", "Adam with L2 on every parameter (CNN + BatchNorm)"),
    ("weight_decay_setups.py:nadam_l2", "NAdam with coupled weight decay"),
    ("weight_decay_setups.py:adam_decoupled_split", "correct: Adam(decoupled_weight_decay=True), no-decay group"),
    ("weight_decay_setups.py:llama_adamw_default", "AdamW's default decay on a user RMSNorm and the token table"),
]


def optlint_findings(target: str) -> list[str]:
    from optlint.runtime.api import check_plan
    from optlint.runtime.cli import build_target
    from optlint.runtime.probe import probe_step
    from optlint.runtime.simulate import Plan

    _, setup, recorded = build_target(target, "cpu")
    report = check_plan(setup.model, setup.optimizer, setup.scheduler, Plan(epochs=5, steps_per_epoch=1),
                        select=["OPT1", "OPT110", "OPT111"], lrs_before=recorded)
    found = [finding.code for finding in report.findings]
    if setup.batch is not None:
        probe = probe_step(setup.model, setup.optimizer, setup.loss_fn, setup.batch)
        found += [f"probe: {finding.code}" for finding in probe.findings]
    return found


def torch_audit_findings(target: str) -> list[str]:
    """Runs inside torch-audit's environment (optlint's package on PYTHONPATH, for the factory loading)."""
    from torch_audit import audit, autopatch

    from optlint.runtime.cli import build_target
    from optlint.runtime.probe import compute_loss

    _, setup, _ = build_target(target, "cpu")
    model, optimizer = setup.model, setup.optimizer
    found = [f.rule_id for phase in ("static", "init") for f in audit(model, optimizer=optimizer, phase=phase).findings]
    if setup.batch is not None:
        auditor = autopatch(model, optimizer=optimizer, every_n_steps=1, run_static=False, run_init=False)
        optimizer.zero_grad()
        compute_loss(setup.loss_fn, model, setup.batch).backward()
        optimizer.step()
        found += [f.rule_id for f in auditor.finish().findings]
        auditor.unpatch()
    return found


def summary(codes: list[str]) -> str:
    counts = Counter(codes)
    return ", ".join(code if n == 1 else f"{code} x{n}" for code, n in counts.items()) or "nothing"


def main() -> None:
    if sys.argv[1:2] == ["--torch-audit-worker"]:
        print(json.dumps(torch_audit_findings(sys.argv[2])))
        return
    python = sys.argv[1]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('torch-audit'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    print(f"torch-audit {version} vs optlint, all rules of both enabled\n")
    for target, what in SETUPS:
        path = f"{ROOT / FIXTURES}/{target}"
        worker = subprocess.run([python, __file__, "--torch-audit-worker", path], capture_output=True, text=True,
                                env=environment, cwd=ROOT)
        theirs = summary(json.loads(worker.stdout)) if worker.returncode == 0 else f"crashed: {worker.stderr[-300:]}"
        print(f"{target}  ({what})\n  optlint:     {summary(optlint_findings(path))}\n  torch-audit: {theirs}\n")


if __name__ == "__main__":
    main()
