"""libcst imported through the cache of compiled dataclass methods: the same classes, a cache that
only ever saves work, and no trace in `dataclasses` afterwards. Each import runs in a fresh Python."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = "import torch\nopt = torch.optim.Adam(m.parameters(), lr=1e-3)  # tuned\nfor x in data:\n    opt.step()\n"

# What a node class does with its generated methods: __init__ (defaults), __repr__, __eq__, __hash__,
# the frozen __setattr__, and a round trip through the parser.
PROBE = f"""
import dataclasses, json, sys
{{setup}}
import libcst as cst
node = cst.parse_module({SAMPLE!r})
call = cst.Call(func=cst.Name("f"))
try:
    call.func = cst.Name("g")
    frozen = False
except dataclasses.FrozenInstanceError:
    frozen = True
print(json.dumps({{
    "code": node.code, "repr": repr(node), "equal": call.deep_equals(cst.Call(func=cst.Name("f"))),
    "hash_stable": hash(call) == hash(call), "frozen": frozen, "defaults": repr(call.args),
    "exec_left_behind": hasattr(dataclasses, "exec"),
}}))
"""
THROUGH_CACHE = "from optlint.static.libcst_import import import_libcst; import_libcst()"


def _run(setup: str, cache_home: Path, write_bytecode: bool = True) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(REPO))
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run([sys.executable, "-c", PROBE.replace("{setup}", setup)], env=env, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)


def _cache_files(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "optlint").glob("libcst-dataclasses.*.marshal"))


def test_classes_behave_the_same_through_a_cold_and_a_warm_cache(tmp_path):
    plain = _run("", tmp_path / "unused")
    cold = _run(THROUGH_CACHE, tmp_path)
    [cache] = _cache_files(tmp_path)
    written = cache.read_bytes()
    warm = _run(THROUGH_CACHE, tmp_path)
    assert plain == cold == warm
    assert plain["code"] == SAMPLE and plain["frozen"] and plain["equal"] and not plain["exec_left_behind"]
    assert cache.read_bytes() == written  # every method came from the cache: nothing new to write


def test_the_cache_is_named_after_the_python_that_compiled_it(tmp_path):
    _run(THROUGH_CACHE, tmp_path)
    assert [path.name for path in _cache_files(tmp_path)] == [
        f"libcst-dataclasses.{sys.implementation.cache_tag}.marshal"
    ]


def test_nothing_is_written_where_python_may_not_write_bytecode(tmp_path):
    assert _run(THROUGH_CACHE, tmp_path, write_bytecode=False)["code"] == SAMPLE
    assert _cache_files(tmp_path) == []


def test_an_unreadable_or_foreign_cache_is_ignored_and_replaced(tmp_path):
    folder = tmp_path / "optlint"
    folder.mkdir()
    plain = _run("", tmp_path / "unused")
    name = f"libcst-dataclasses.{sys.implementation.cache_tag}.marshal"
    for junk in (b"\x00garbage", marshal.dumps([1, 2]), marshal.dumps({b"k" * 16: "not code"})):
        (folder / name).write_bytes(junk)
        assert _run(THROUGH_CACHE, tmp_path) == plain
        assert (folder / name).read_bytes() != junk


def test_a_cold_check_imports_libcst_through_the_cache_and_a_warm_one_not_at_all(tmp_path):
    """Warm: the findings come from .optlint_cache; their names and severities from the registry, so
    libcst is never imported and its code cache not written."""
    (tmp_path / "train.py").write_text("import torch\nopt = torch.optim.Adam(m.parameters(), learning_rate=1e-3)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO))
    for run, code_caches in (("cold", 1), ("warm", 0)):
        for cache in _cache_files(tmp_path / "home"):
            cache.unlink()
        result = subprocess.run([sys.executable, "-m", "optlint", "check", "train.py"], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 1 and "OPT001" in result.stdout, (run, result.stdout + result.stderr)
        assert len(_cache_files(tmp_path / "home")) == code_caches, run
    assert (tmp_path / ".optlint_cache").is_dir()


def test_without_a_home_directory_libcst_is_imported_uncached(tmp_path):
    no_home = ("import pathlib\n"
               "def no_home():\n    raise RuntimeError('Could not determine home directory.')\n"
               "pathlib.Path.home = staticmethod(no_home)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "XDG_CACHE_HOME")}
    no_home += "from optlint.static import libcst_import\nassert libcst_import.cache_file() is None\n"
    probe = PROBE.replace("{setup}", no_home + THROUGH_CACHE)
    result = subprocess.run([sys.executable, "-c", probe], env={**env, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["code"] == SAMPLE and not (tmp_path / ".cache").exists()


def test_a_file_where_the_cache_folder_belongs_is_left_alone(tmp_path):
    (tmp_path / "optlint").write_text("not a folder")
    assert _run(THROUGH_CACHE, tmp_path)["code"] == SAMPLE
    assert (tmp_path / "optlint").read_text() == "not a folder"
