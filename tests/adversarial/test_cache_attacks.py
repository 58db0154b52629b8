"""What a repository (or a restored cache) can plant where optlint keeps its caches: links at and in the
results cache folder (to files, to folders, to nothing), under every name optlint writes, and forged or
damaged cache contents. Whatever is planted, files outside the repository stay as they were, the
finding is still reported, and nothing crashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
import os
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from optlint.static import cache as cache_module
from optlint.static import libcst_import
from optlint.static.runner import lint_paths

FUZZ = settings(settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")))
FEW = settings(FUZZ, max_examples=max(FUZZ.max_examples // 5, 10))
TYPO = "import torch\nopt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)\n"
CACHE_NAME = f"{cache_module.configuration_key()}.json"  # what lint_paths names it, from the released source

# Where a link may sit: the cache folder itself, or a name in it that optlint writes, prunes or may pick.
LINK_NAMES = st.sampled_from([".gitignore", CACHE_NAME, f"{0:040x}.json", f".{CACHE_NAME}.{os.getpid()}.0.tmp",
                              f".gitignore.{os.getpid()}.tmp"])
TARGETS = st.sampled_from(["outside/notes.txt", "outside/data", "outside/data/0000.json", "outside/nothing-here"])
PLACEMENTS = st.one_of(
    st.tuples(st.just(None), TARGETS),  # the cache folder is a link
    st.lists(st.tuples(LINK_NAMES, TARGETS), min_size=1, max_size=4, unique_by=lambda p: p[0]),
)


def _header(kind: str, payload: bytes) -> bytes:
    if kind == "unsigned":  # optlint's checksum line before caches were signed
        return cache_module.content_digest(payload).encode()
    mac = hmac.new(b"an attacker's key".ljust(32), CACHE_NAME.encode() + b"\n" + payload, hashlib.sha256)
    return b"optlint-cache " + mac.hexdigest().encode()


@st.composite
def forged_caches(draw) -> bytes:
    """Valid JSON mapping the file's digest (walked or named) to no findings, signed as an attacker can."""
    digest = cache_module.content_digest(TYPO.encode()) + draw(st.sampled_from(["", ":named"]))
    stat = draw(st.lists(st.integers(min_value=0, max_value=2**63), min_size=5, max_size=5))
    payload = json.dumps({"format": draw(st.sampled_from([1, cache_module.FORMAT])), "entries": {digest: []},
                          "stats": {"src/train.py": [*stat, digest]}}).encode()
    return _header(draw(st.sampled_from(["unsigned", "attacker"])), payload) + b"\n" + payload


CONTENTS = st.one_of(st.binary(max_size=300), forged_caches(),
                     forged_caches().flatmap(lambda data: st.integers(0, len(data)).map(lambda n: data[:n])))


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every name under `folder` with its bytes, or where it links."""
    return {str(path.relative_to(folder)): os.readlink(path) if path.is_symlink() else path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_symlink() or path.is_file()}


def _world(root: Path) -> Path:
    """root/outside (a victim's files), root/repo/src/train.py (a finding, old enough for its stat to count)."""
    data = root / "outside" / "data"
    data.mkdir(parents=True)
    (root / "outside" / "notes.txt").write_text("the victim's notes\n")
    for i in range(10):
        (data / f"{i:04}.json").write_text(f'{{"victim": {i}}}\n')
    source = root / "repo" / "src" / "train.py"
    source.parent.mkdir(parents=True)
    source.write_text(TYPO)
    then = time.time() - 60
    os.utime(source, (then, then))
    return root / "repo"


def _plant(repo: Path, placements, content: bytes | None) -> Path:
    cache_dir = repo / ".optlint_cache"
    if isinstance(placements, tuple):
        cache_dir.symlink_to(repo.parent / placements[1])
        return cache_dir
    cache_dir.mkdir()
    if content is not None:
        (cache_dir / CACHE_NAME).write_bytes(content)
    for name, target in placements:
        (cache_dir / name).unlink(missing_ok=True)
        (cache_dir / name).symlink_to(repo.parent / target)
    return cache_dir


def _runs_keep_the_finding_and_the_outside(placements, content: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        repo = _world(Path(temporary))
        outside = _snapshot(repo.parent / "outside")
        cache_dir = _plant(repo, placements, content)
        for _ in range(2):  # the planted state, then whatever the first run left
            result = lint_paths([str(repo / "src")], cache_dir=cache_dir)
            assert [f.code for f in result.findings] == ["OPT001"] and result.errors == []
            named = lint_paths([str(repo / "src" / "train.py")], cache_dir=cache_dir)
            assert [f.code for f in named.findings] == ["OPT001"] and named.errors == []
        assert _snapshot(repo.parent / "outside") == outside


@FEW
@given(placements=PLACEMENTS, content=st.none() | CONTENTS)
def test_links_in_or_at_the_cache_folder_never_touch_files_outside(placements, content):
    _runs_keep_the_finding_and_the_outside(placements, content)


@FEW
@given(content=CONTENTS)
def test_forged_or_damaged_cache_contents_never_hide_the_finding(content):
    _runs_keep_the_finding_and_the_outside([], content)


INTACT_CODE = {b"k" * 16: compile("x = 1", "<string>", "exec"), b"j" * 16: compile("y = 2", "<string>", "exec")}
INTACT = marshal.dumps(INTACT_CODE)


@FUZZ
@given(cut=st.integers(0, 200), flip=st.integers(0, 200), mask=st.integers(1, 255))
def test_a_cut_short_or_damaged_code_cache_is_a_miss(tmp_path_factory, cut, flip, mask):
    framed = libcst_import.HEADER + libcst_import._digest(INTACT) + INTACT
    damaged = bytearray(framed)
    damaged[flip % len(framed)] ^= mask
    path = tmp_path_factory.mktemp("code") / "cache.marshal"
    for data in (framed[: cut % len(framed)], bytes(damaged)):
        path.write_bytes(data)
        assert libcst_import._read(path) == {}
    path.write_bytes(framed)
    assert libcst_import._read(path).keys() == INTACT_CODE.keys()
