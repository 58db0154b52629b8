"""The results cache is input a repository brings: it never writes or deletes outside the repository, and
a cache file a repository commits never hides a finding."""

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from optlint.cli import main
from optlint.static import cache as cache_module
from optlint.static.runner import lint_paths

REPO = Path(__file__).resolve().parent.parent
TYPO = "import torch\nopt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)\n"
NOTES = "the victim's own notes\n"


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A checkout at tmp/repo with a file with a finding, and a victim's file beside it at tmp/victim."""
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "notes.txt").write_text(NOTES)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text(TYPO)
    monkeypatch.chdir(repo)
    return repo


def _check(*paths: str) -> str:
    outcome = CliRunner().invoke(main, ["check", *paths])
    assert outcome.exit_code == 1 and "OPT001" in outcome.output, outcome.output
    return outcome.output


def test_a_gitignore_link_in_the_cache_folder_never_writes_its_target(repository):
    (repository / ".optlint_cache").mkdir()
    (repository / ".optlint_cache" / ".gitignore").symlink_to("../../victim/notes.txt")
    _check(".")
    assert (repository.parent / "victim" / "notes.txt").read_text() == NOTES
    gitignore = repository / ".optlint_cache" / ".gitignore"
    assert not gitignore.is_symlink() and gitignore.read_text().splitlines()[-1] == "*"


def test_a_cache_folder_that_is_a_link_is_neither_read_written_nor_pruned(repository):
    victim = repository.parent / "victim"
    for i in range(12):
        (victim / f"{i:040x}.json").write_text(f"the victim's data {i}\n")
    before = {path.name: path.read_bytes() for path in victim.iterdir()}
    (repository / ".optlint_cache").symlink_to(victim, target_is_directory=True)
    for _ in range(2):
        _check(".")
        _check("train.py")
    assert {path.name: path.read_bytes() for path in victim.iterdir()} == before


def test_pruning_removes_only_optlint_caches_of_this_user(repository):
    cache_dir = repository / ".optlint_cache"
    cache_dir.mkdir()
    foreign = {f"{i:040x}.json": f"not optlint's {i}\n".encode() for i in range(10)}
    for name, content in foreign.items():
        (cache_dir / name).write_bytes(content)
    (cache_dir / f"{99:040x}.json").symlink_to(repository.parent / "victim" / "notes.txt")
    for i in range(cache_module.KEPT_CONFIGURATIONS + 3):  # one cache file per configuration
        lint_paths([str(repository)], settings={"run": i}, cache_dir=cache_dir)
    left = {path.name for path in cache_dir.glob("*.json")}
    assert left >= set(foreign) | {f"{99:040x}.json"}
    assert len(left - set(foreign)) == cache_module.KEPT_CONFIGURATIONS + 1  # 8 of optlint's, and the link
    assert all((cache_dir / name).read_bytes() == content for name, content in foreign.items())
    assert (repository.parent / "victim" / "notes.txt").read_text() == NOTES


def _forged_payload(path: Path, named: bool) -> bytes:
    """What an attacker commits: the finding's file's digest mapped to no findings, from the released source
    (the configuration key and the layout are public), with the file's own stat to boot."""
    digest = cache_module.content_digest(path.read_bytes()) + ":named" * named
    stat = path.stat()
    entries = {digest: []}
    stats = {name: [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev, digest]
             for name in ("train.py", "./train.py", str(path))}
    return json.dumps({"format": cache_module.FORMAT, "entries": entries, "stats": stats},
                      separators=(",", ":")).encode()


def _unsigned(name: str, payload: bytes) -> bytes:  # the checksum line of optlint before caches were signed
    return cache_module.content_digest(payload).encode() + b"\n" + payload


def _signed_with_the_attackers_key(name: str, payload: bytes) -> bytes:
    mac = hmac.new(b"the attacker's own key".ljust(32), name.encode() + b"\n" + payload, hashlib.sha256)
    return b"optlint-cache " + mac.hexdigest().encode() + b"\n" + payload


def _optlint(paths: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optlint", "check", *paths], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO), **env})


def _cache_name_of_a_run(paths: list[str], tmp_path: Path) -> str:
    """The name optlint gives its cache file for these paths: the attacker runs optlint on a copy."""
    copy = tmp_path / "attackers-copy"
    copy.mkdir()
    (copy / "train.py").write_text(TYPO)
    _optlint(paths, copy, XDG_CACHE_HOME=str(tmp_path / "attackers-home"))
    [cache] = (copy / ".optlint_cache").glob("*.json")
    return cache.name


@pytest.mark.parametrize("sign", [_unsigned, _signed_with_the_attackers_key])
@pytest.mark.parametrize("paths", [["."], ["train.py"]], ids=["walked", "named (pre-commit)"])
def test_a_committed_cache_never_hides_a_finding(repository, tmp_path, sign, paths):
    name = _cache_name_of_a_run(paths, tmp_path)
    (repository / ".optlint_cache").mkdir()
    for _ in range(2):  # a fresh user, and one whose own cache sits beside the forged one
        forged = _forged_payload(repository / "train.py", named=paths != ["."])
        (repository / ".optlint_cache" / name).write_bytes(sign(name, forged))
        result = _optlint(paths, repository)
        assert result.returncode == 1 and "OPT001" in result.stdout, result.stdout + result.stderr


def test_the_key_is_made_private_on_first_use_and_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    key = cache_module.user_key()
    path = tmp_path / "home" / "optlint" / "results.key"
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert cache_module.user_key() == key
