"""`make demo`: the main job on the bundled fixtures, as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from optlint.static.command import use_color

ROOT = Path(__file__).resolve().parent.parent
STEPS = [
    ("Static findings on realistic broken training scripts", ["check", "fixtures/static/bad"]),
    ("Correct code written the way real projects write it (Lightning, HF, timm, AMP, diffusion)",
     ["check", "fixtures/static/good"]),
    ("Runtime report: coverage and the per-group LR preview of a fine-tuning set-up",
     ["runtime", "fixtures/runtime/demo_setup.py:build", "--epochs", "6"]),
    ("Runtime report: gradual unfreezing after the scheduler was built",
     ["runtime", "fixtures/runtime/unfreezing_setup.py:build", "--epochs", "6"]),
    ("One-step probe: how far each group moves, and a head that never receives a gradient",
     ["probe", "fixtures/runtime/probe_setup.py:build", "--device", "cpu"]),
]


def heading(title: str, args: list[str], color: bool) -> str:
    """A step's title, bold on a terminal (as `optlint check` colours: NO_COLOR and FORCE_COLOR honoured)."""
    shown = f"\033[1m== {title}\033[0m" if color else f"== {title}"
    return f"\n{shown}\n$ optlint {' '.join(args)}"


def main() -> int:
    for title, args in STEPS:
        if args[0] in ("runtime", "probe") and not (ROOT / args[1].split(":")[0]).exists():
            continue
        print(heading(title, args, use_color(sys.stdout)), flush=True)
        code = subprocess.run([sys.executable, "-m", "optlint", *args], cwd=ROOT).returncode
        if code == 2:
            print(f"demo step failed (exit {code})", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
