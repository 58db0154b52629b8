"""optlint reads code and never runs it; one file's crash never stops the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from optlint import __version__
from optlint.cli import main
from optlint.static.rules import all_rules

REPO = Path(__file__).resolve().parent.parent
TYPO = "import torch\nopt = torch.optim.Adam(params, lrr=0.1)\n"  # OPT001 at row 2, so each file is seen linted

# Each module does harm at import time; each also holds an OPT001 so the test sees that it was linted.
HARMFUL = {
    "writes_sentinel.py": "from pathlib import Path\nPath({sentinel!r}).write_text('ran')\n",
    "exits_on_import.py": "import sys\nsys.exit(3)\n",
    "raises_on_import.py": "import boom_dependency\n",
    "boom_dependency.py": "from pathlib import Path\nPath({sentinel!r}).write_text('ran')\nraise RuntimeError()\n",
    # `python -m` puts the working folder first on sys.path: importing torch would run this one.
    "torch.py": "from pathlib import Path\nPath({sentinel!r}).write_text('torch shadow ran')\n",
}


def harmful_tree(folder: Path, sentinel: Path) -> None:
    for name, body in HARMFUL.items():
        (folder / name).write_text(TYPO + body.format(sentinel=str(sentinel)))


def test_linting_never_runs_the_linted_code(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    harmful_tree(tmp_path, sentinel)
    result = subprocess.run([sys.executable, "-m", "optlint", "check", "--output-format", "json", "."], cwd=tmp_path,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stderr == ""
    assert result.returncode == 1
    assert {(f["filename"], f["code"]) for f in json.loads(result.stdout)} == {(f"./{n}", "OPT001") for n in HARMFUL}
    assert not sentinel.exists()


def test_check_imports_neither_torch_nor_the_linted_modules(tmp_path):
    sentinel = tmp_path / "SENTINEL"
    harmful_tree(tmp_path, sentinel)
    probe = (
        "import json, sys\n"
        "from optlint.cli import main\n"
        "try:\n"
        "    main(['check', '--output-format', 'json', '.'])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.stderr == ""
    outcome = json.loads(result.stdout.splitlines()[-1])
    assert outcome["code"] == 1  # the findings were printed, so the files were read
    imported = {name.split(".")[0] for name in outcome["modules"]}
    assert "libcst" in imported  # the probe saw the modules of a real lint
    assert not imported & {"torch", *(Path(n).stem for n in HARMFUL)}
    assert not sentinel.exists()


def test_one_file_crashing_a_rule_is_named_and_the_others_are_still_linted(tmp_path, monkeypatch):
    rule = next(r for r in all_rules() if r.code == "OPT001")
    original = rule.check

    def crash_on_marked_file(self, ctx):
        if "CRASH-HERE" in ctx.module.code:
            raise ValueError("rule blew up")
        return original(self, ctx)

    monkeypatch.setattr(rule, "check", crash_on_marked_file)
    for name in ("a.py", "b.py", "c.py"):
        (tmp_path / name).write_text(TYPO + ("# CRASH-HERE\n" if name == "b.py" else ""))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--output-format", "json", "a.py", "b.py", "c.py"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"optlint: error: b.py: internal error in optlint {__version__}: ValueError: rule blew up. "
        "Please report it with this file."
    ]
    assert {(f["filename"], f["code"]) for f in json.loads(result.stdout)} == {("a.py", "OPT001"), ("c.py", "OPT001")}
