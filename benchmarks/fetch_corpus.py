"""Fetch the benchmark corpus and the tools optlint is measured against, outside the repository.

The corpus is real ML code nobody here wrote: five code bases from their PyPI wheels, pinned so that
numbers stay comparable, unzipped into ~/.cache/optlint-bench/corpus/<package>/ (about 3,750 files
and 1.5 M lines). ruff, TorchFix and the profilers go into their own virtual environment beside it,
never into optlint's dependencies. Set OPTLINT_BENCH_DIR to keep all of it elsewhere.

    python benchmarks/fetch_corpus.py    # fetches what is missing, prints where it is
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

BENCH_DIR = Path(os.environ.get("OPTLINT_BENCH_DIR", Path.home() / ".cache" / "optlint-bench"))
PACKAGES = ("transformers==5.23.0", "timm==1.0.31", "pytorch-lightning==2.6.6", "torchtune==0.6.1", "accelerate==1.15.0")
TOOLS = ("ruff==0.17.6", "torchfix==0.7.0", "pyinstrument==5.1.3", "py-spy==0.4.3")


def corpus() -> Path:
    """The unzipped wheels' Python files, one folder per package."""
    root = BENCH_DIR / "corpus"
    stamp = root / ".fetched"
    if stamp.is_file() and stamp.read_text() == "\n".join(PACKAGES):
        return root
    wheels = BENCH_DIR / "wheels"
    _run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels), *PACKAGES])
    for requirement in PACKAGES:
        name, version = requirement.split("==")
        wheel = _wheel(wheels, name, version)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.endswith(".py"):
                    archive.extract(member, root / wheel.name.split("-")[0])
    stamp.write_text("\n".join(PACKAGES))
    return root


def tools() -> Path:
    """The bin/ folder of the benchmark's own virtual environment (ruff, torchfix, py-spy, pyinstrument)."""
    env = BENCH_DIR / "venv"
    stamp = env / ".installed"
    if stamp.is_file() and stamp.read_text() == "\n".join(TOOLS):
        return env / "bin"
    venv.create(env, with_pip=True, clear=True)
    _run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", *TOOLS])
    stamp.write_text("\n".join(TOOLS))
    return env / "bin"


def installed_optlint(checkout: Path) -> Path:
    """The bin/ folder of a virtual environment holding optlint as users install it: built from the
    checkout into a wheel (no editable-install import hook, bytecode compiled by pip), with its
    dependencies at the versions of the environment running this script."""
    from importlib.metadata import requires, version

    env = BENCH_DIR / "optlint-venv"
    if not (env / "bin" / "python").is_file():
        venv.create(env, with_pip=True, clear=True)
    needed = [re.split(r"[^A-Za-z0-9_.-]", r, maxsplit=1)[0] for r in requires("optlint") or () if "extra ==" not in r]
    pins = [f"{name}=={version(name)}" for name in needed]
    _run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(checkout)])
    _run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", *pins])
    return env / "bin"


def _wheel(folder: Path, name: str, version: str) -> Path:
    prefix = f"{name.replace('-', '_')}-{version}-".lower()
    return next(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix))


def _run(command: list[str]) -> None:
    print("$", " ".join(command), file=sys.stderr)
    subprocess.run(command, check=True)


if __name__ == "__main__":
    print(corpus())
    print(tools())
