"""libcst imported through the cache of compiled dataclass methods: the same classes, a cache that
only ever saves work, and no trace in `dataclasses` afterwards. Each import runs in a fresh Python."""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from optlint.static import libcst_import

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
CACHE_NAME = f"libcst-dataclasses.{sys.implementation.cache_tag}.marshal"
# The texts `dataclasses` compiles for libcst, by the digest the cache keys them with: what anyone can
# compute from the released libcst and optlint.
KEYS = """
import dataclasses, hashlib, marshal, sys
keys = []
dataclasses.exec = lambda text, *a: (keys.append(hashlib.blake2b(text.encode(), digest_size=16).digest()), exec(text, *a))
import libcst
sys.stdout.buffer.write(marshal.dumps(keys))
"""


def _environment(bytecode: Path, write_bytecode: bool = True, **extra: str) -> dict:
    """Python's bytecode (and so the code cache) under `bytecode`, as PYTHONPYCACHEPREFIX puts it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=str(bytecode), PYTHONPATH=str(REPO), **extra)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(setup: str, bytecode: Path, write_bytecode: bool = True, **extra: str) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE.replace("{setup}", setup)], capture_output=True, text=True,
                            env=_environment(bytecode, write_bytecode, **extra), check=True)
    return json.loads(result.stdout)


def _cache_path(bytecode: Path) -> Path:
    """Beside libcst_import's own .pyc, where Python puts it under the prefix."""
    return bytecode / (REPO / "optlint" / "static").relative_to(REPO.anchor) / CACHE_NAME


def _cache_files(bytecode: Path) -> list[Path]:
    return sorted(bytecode.rglob("libcst-dataclasses.*.marshal"))


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """What libcst's classes do imported the ordinary way."""
    return _run("", tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def bytecode_home(tmp_path_factory):
    """One bytecode prefix for the module (compiling libcst's .pyc afresh for each test is slow)."""
    return tmp_path_factory.mktemp("bytecode")


@pytest.fixture
def bytecode(bytecode_home):
    """The prefix, with no code cache in it yet."""
    for path in _cache_files(bytecode_home):
        path.unlink()
    return bytecode_home


def test_classes_behave_the_same_through_a_cold_and_a_warm_cache(plain, bytecode):
    cold = _run(THROUGH_CACHE, bytecode)
    [cache] = _cache_files(bytecode)
    written = cache.read_bytes()
    warm = _run(THROUGH_CACHE, bytecode)
    assert plain == cold == warm
    assert plain["code"] == SAMPLE and plain["frozen"] and plain["equal"] and not plain["exec_left_behind"]
    assert cache.read_bytes() == written  # every method came from the cache: nothing new to write


def test_the_cache_lies_beside_the_modules_bytecode_named_after_the_python_that_compiled_it(bytecode):
    _run(THROUGH_CACHE, bytecode)
    assert _cache_files(bytecode) == [_cache_path(bytecode)]
    assert (_cache_path(bytecode).parent / f"libcst_import.{sys.implementation.cache_tag}.pyc").is_file()


def test_nothing_is_written_where_python_may_not_write_bytecode(bytecode):
    assert _run(THROUGH_CACHE, bytecode, write_bytecode=False)["code"] == SAMPLE
    assert _cache_files(bytecode) == []


def _framed(body: bytes) -> bytes:
    """A cache file as optlint frames one: header, digest, marshal data."""
    return libcst_import.HEADER + libcst_import._digest(body) + body


def _damaged(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def test_an_unreadable_damaged_or_foreign_cache_is_ignored_and_replaced(plain, bytecode):
    _run(THROUGH_CACHE, bytecode)
    path = _cache_path(bytecode)
    intact = path.read_bytes()
    junk = {"garbage": b"\x00garbage", "cut short": intact[: len(intact) // 2], "a byte changed": _damaged(intact),
            "unframed (an older optlint)": intact[len(libcst_import.HEADER) + libcst_import.DIGEST_BYTES:],
            "not a dict": _framed(marshal.dumps([1, 2])), "no code": _framed(marshal.dumps({b"k" * 16: "not code"}))}
    for name, content in junk.items():
        path.write_bytes(content)
        assert _run(THROUGH_CACHE, bytecode) == plain, name
        assert path.read_bytes() != content, name


def test_code_planted_in_the_users_cache_folder_never_runs(plain, bytecode, tmp_path):
    """A CI cache restored from a pull request, a shared volume: the user's cache folder is not the package's."""
    keys = marshal.loads(subprocess.run([sys.executable, "-c", KEYS], capture_output=True, check=True).stdout)
    marker = tmp_path / "ran"
    payload = compile(f"open({str(marker)!r}, 'a').close()", "<planted>", "exec")
    planted = {key: payload for key in keys}
    folder = tmp_path / "home" / "optlint"
    folder.mkdir(parents=True)
    for data in (marshal.dumps(planted), _framed(marshal.dumps(planted))):  # as optlint wrote it there, or frames it
        (folder / CACHE_NAME).write_bytes(data)
        assert _run(THROUGH_CACHE, bytecode, XDG_CACHE_HOME=str(tmp_path / "home")) == plain
    assert not marker.exists()


def test_a_cold_check_imports_libcst_through_the_cache_and_a_warm_one_not_at_all(bytecode, tmp_path):
    """Warm: the findings come from .optlint_cache; their names and severities from the registry, so
    libcst is never imported and its code cache not written."""
    (tmp_path / "train.py").write_text("import torch\nopt = torch.optim.Adam(m.parameters(), learning_rate=1e-3)\n")
    for run, code_caches in (("cold", 1), ("warm", 0)):
        for cache in _cache_files(bytecode):
            cache.unlink()
        result = subprocess.run([sys.executable, "-m", "optlint", "check", "train.py"], cwd=tmp_path,
                                env=_environment(bytecode), capture_output=True, text=True)
        assert result.returncode == 1 and "OPT001" in result.stdout, (run, result.stdout + result.stderr)
        assert len(_cache_files(bytecode)) == code_caches, run
    assert (tmp_path / ".optlint_cache").is_dir()


def test_a_file_where_the_cache_folder_belongs_is_left_alone(tmp_path):
    folder = _cache_path(tmp_path).parent
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")
    assert _run(THROUGH_CACHE, tmp_path)["code"] == SAMPLE
    assert folder.read_text() == "not a folder"
