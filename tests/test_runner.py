"""Many files: the cache, the worker pool and the lazy imports change how fast, never what."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optlint.static import cache as cache_module
from optlint.static.rule import Rule
from optlint.static.rules import all_rules
from optlint.static.runner import lint_paths, lint_text

TYPO = "import torch\nopt = torch.optim.Adam(model.parameters(), learning_rate=1e-3)\n"
CLEAN = "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
NO_OPTIMIZER = "def add(a, b):\n    return a + b\n"
BROKEN = "import torch\nopt = torch.optim.Adam(model.parameters(), lr=\n"


def _project(root: Path, sources: dict[str, str], age_s: float = 60) -> Path:
    """Files written `age_s` seconds ago, old enough for the cache to trust their times."""
    for name, text in sources.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        then = time.time() - age_s
        os.utime(path, (then, then))
    return root / "src"


def _summary(result):
    return [(Path(f.filename).name, f.row, f.column, f.code, f.message, f.fix) for f in result.findings], result.errors


@pytest.fixture
def project(tmp_path):
    sources = {f"m{i:02}.py": (TYPO, CLEAN, NO_OPTIMIZER, BROKEN)[i % 4] for i in range(12)}
    return _project(tmp_path, sources), tmp_path / "cache"


def test_a_warm_run_gives_what_a_cold_run_gave(project):
    src, cache_dir = project
    cold = lint_paths([str(src)], cache_dir=cache_dir)
    warm = lint_paths([str(src)], cache_dir=cache_dir)
    assert _summary(warm) == _summary(cold) == _summary(lint_paths([str(src)]))
    assert {f.code for f in cold.findings} == {"OPT001", "OPT000"}
    assert warm.files_checked == cold.files_checked == 12


def test_a_warm_run_parses_nothing(project, monkeypatch):
    src, cache_dir = project
    lint_paths([str(src)], cache_dir=cache_dir, jobs=1)
    monkeypatch.setattr("optlint.static.runner._lint_parsed", lambda *a: pytest.fail("parsed again"))
    assert len(lint_paths([str(src)], cache_dir=cache_dir, jobs=1).findings) == 6


def test_an_edited_file_is_linted_again_even_with_the_same_size_and_time(project):
    src, cache_dir = project
    lint_paths([str(src)], cache_dir=cache_dir)
    target = src / "m01.py"  # CLEAN, now a typo of the same length and the same times
    stat = target.stat()
    target.write_text(CLEAN.replace("lr=1e-3", "lx=1e-3"), encoding="utf-8")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    rows = {(Path(f.filename).name, f.code) for f in lint_paths([str(src)], cache_dir=cache_dir).findings}
    assert ("m01.py", "OPT001") in rows


def _same_size_typo(path: Path) -> None:
    path.write_text(CLEAN.replace("lr=1e-3", "lx=1e-3"), encoding="utf-8")


def _copied_in_with_its_times(path: Path) -> None:  # cp -p, rsync -a: a new inode, the old times
    copy = path.with_suffix(".copy")
    _same_size_typo(copy)
    shutil.copystat(path, copy)
    os.replace(copy, path)


@pytest.mark.parametrize("change", [_same_size_typo, _copied_in_with_its_times], ids=["in place", "copied in"])
def test_a_file_changed_with_its_size_and_mtime_restored_is_linted_again(project, monkeypatch, change):
    """touch -r, cp -p, rsync -a: only ctime and the inode tell, as git knows."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)  # the stat of a file written a moment ago is trusted too
    src, cache_dir = project
    target = src / "m01.py"  # CLEAN
    lint_paths([str(src)], cache_dir=cache_dir)
    stat = target.stat()
    change(target)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size
    rows = {(Path(f.filename).name, f.code) for f in lint_paths([str(src)], cache_dir=cache_dir).findings}
    assert ("m01.py", "OPT001") in rows


def test_a_file_changed_just_now_is_never_trusted_on_its_times(tmp_path):
    src = _project(tmp_path, {"fresh.py": CLEAN}, age_s=0)
    lint_paths([str(src)], cache_dir=tmp_path / "cache")
    data = json.loads(next((tmp_path / "cache").glob("*.json")).read_text().split("\n", 1)[1])
    assert data["stats"] == {} and len(data["entries"]) == 1


CORRUPTIONS = {
    "truncated": lambda text: text[: len(text) // 2],
    "not a dict": lambda text: "[1, 2]",
    "wrong types": lambda text: json.dumps({"format": cache_module.FORMAT, "entries": 7, "stats": []}),
    "a row as text": lambda text: text.replace('"row":2', '"row":"2"'),
    "an unknown key": lambda text: text.replace('"fix":{', '"fix":{"extra":1,'),
    "odd values": lambda text: text.replace("[]", "[1]").replace('"stats":{', '"stats":{"x":5,'),
}


@pytest.mark.parametrize("signed", [False, True], ids=["bad signature", "signed with the user's key"])
@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS)
def test_a_corrupt_cache_is_ignored(project, corrupt, signed):
    src, cache_dir = project
    cold = lint_paths([str(src)], cache_dir=cache_dir)
    (path,) = cache_dir.glob("*.json")
    signature, _, payload = path.read_bytes().partition(b"\n")
    payload = corrupt(payload.decode()).encode()
    cache = cache_module.Cache(cache_dir, path.stem, cache_module.user_key())
    path.write_bytes(cache.signed(payload) if signed else signature + b"\n" + payload)
    assert _summary(lint_paths([str(src)], cache_dir=cache_dir)) == _summary(cold)
    assert _summary(lint_paths([str(src)], cache_dir=cache_dir)) == _summary(cold)


def test_binary_garbage_in_the_cache_is_ignored(project):
    src, cache_dir = project
    cold = lint_paths([str(src)], cache_dir=cache_dir)
    (path,) = cache_dir.glob("*.json")
    path.write_bytes(b"\xff\xfe\x00garbage\n\x80")
    assert _summary(lint_paths([str(src)], cache_dir=cache_dir)) == _summary(cold)


def test_the_cache_is_per_configuration(project):
    src, cache_dir = project
    lint_paths([str(src)], cache_dir=cache_dir)
    only_opt002 = [r for r in all_rules() if r.code == "OPT002"]
    assert lint_paths([str(src)], rules=only_opt002, cache_dir=cache_dir).findings == [
        f for f in lint_paths([str(src)], rules=only_opt002).findings
    ]
    assert {f.code for f in lint_paths([str(src)], rules=only_opt002, cache_dir=cache_dir).findings} == {"OPT000"}
    assert len(list(cache_dir.glob("*.json"))) == 2
    assert cache_module.configuration_key(settings={"a": 1}) != cache_module.configuration_key(settings={"a": 2})


def test_the_cache_directory_is_ignored_by_git(project):
    src, cache_dir = project
    lint_paths([str(src)], cache_dir=cache_dir)
    assert (cache_dir / ".gitignore").read_text().splitlines()[-1] == "*"


def test_an_unwritable_cache_directory_only_costs_speed(project):
    src, cache_dir = project
    cache_dir.write_text("a file where the directory should be")
    assert _summary(lint_paths([str(src)], cache_dir=cache_dir)) == _summary(lint_paths([str(src)]))


def _user_cache_is_a_file(home: Path) -> None:
    home.write_text("a file where the user's cache folder should be")


def _key_others_may_read(home: Path) -> None:
    (home / "optlint").mkdir(parents=True)
    (home / "optlint" / "results.key").write_bytes(b"k" * 32)
    (home / "optlint" / "results.key").chmod(0o644)


def _key_through_a_link(home: Path) -> None:
    (home / "optlint").mkdir(parents=True)
    (home / "key").write_bytes(b"k" * 32)
    (home / "key").chmod(0o600)
    (home / "optlint" / "results.key").symlink_to(home / "key")


@pytest.mark.parametrize("no_key", [_user_cache_is_a_file, _key_others_may_read, _key_through_a_link])
def test_without_a_key_of_the_users_own_nothing_is_cached_and_nothing_breaks(project, monkeypatch, tmp_path, no_key):
    src, cache_dir = project
    no_key(tmp_path / "home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home"))
    assert cache_module.user_key() is None
    for _ in range(2):
        assert _summary(lint_paths([str(src)], cache_dir=cache_dir)) == _summary(lint_paths([str(src)]))
    assert not cache_dir.exists()


def test_workers_give_the_findings_in_the_same_stable_order(project):
    src, _ = project
    serial = lint_paths([str(src)], jobs=1)
    assert _summary(lint_paths([str(src)], jobs=3)) == _summary(serial)
    assert [f.filename for f in serial.findings] == sorted(f.filename for f in serial.findings)


class Crashes(Rule):
    code = "OPT001"
    name = "crashes"

    def check(self, ctx):
        if "learning_rate" in ctx.module.code:
            raise KeyError("boom")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_crash_in_one_file_is_reported_and_the_others_are_linted(project, jobs):
    src, cache_dir = project
    result = lint_paths([str(src)], rules=[Crashes], jobs=jobs, cache_dir=cache_dir)
    assert len(result.errors) == 3
    assert all("m0" in e or "m1" in e for e in result.errors)
    assert all("internal error in optlint 0.1.0: KeyError: 'boom'" in e for e in result.errors)
    assert {f.code for f in result.findings} == {"OPT000"} and result.files_checked == 9
    again = lint_paths([str(src)], rules=[Crashes], jobs=jobs, cache_dir=cache_dir)
    assert again.errors == result.errors  # a crash is never cached


def _modules_after_check(tmp_path, source: str) -> set[str]:
    target = tmp_path / "script.py"
    target.write_text(source, encoding="utf-8")
    code = (
        "import sys\nfrom optlint.cli import main\n"
        "try:\n    main(['check', '--no-cache', sys.argv[1]])\n"
        "except SystemExit:\n    print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, check=True)
    return set(done.stdout.split("\n")[-2].split())


def test_a_file_without_optimizer_code_never_imports_libcst(tmp_path):
    assert "libcst" not in _modules_after_check(tmp_path, NO_OPTIMIZER + "optimizer.step()\n")


BROKEN_WITHOUT_OPTIMIZER = "def evaluate(model, loader:\n    return 0\n"


@pytest.mark.parametrize("cache", [None, ".cache"])
def test_a_named_file_is_always_checked_for_syntax_a_walked_one_only_when_it_can_hold_a_finding(tmp_path, cache):
    (tmp_path / "eval.py").write_text(BROKEN_WITHOUT_OPTIMIZER)
    cache_dir = tmp_path / cache if cache else None
    for _ in range(2):  # the second run from the cache, when there is one: walked and named entries stay apart
        walked = lint_paths([str(tmp_path)], cache_dir=cache_dir)
        named = lint_paths([str(tmp_path / "eval.py")], cache_dir=cache_dir)
        assert walked.findings == [] and walked.files_checked == 1
        assert [(f.code, f.row) for f in named.findings] == [("OPT000", 1)]
    assert [f.code for f in lint_text(BROKEN_WITHOUT_OPTIMIZER, "-")] == ["OPT000"]  # stdin is named too


def test_syntax_only_cpython_refuses_is_left_to_libcst(tmp_path):
    """Newer syntax than the running Python (PEP 695 on 3.11): libcst parses it, so no OPT000."""
    (tmp_path / "generic.py").write_text("def first[T](xs: list[T]) -> T:\n    return xs[0]\n")
    assert lint_paths([str(tmp_path / "generic.py")]).findings == []


def test_a_file_with_optimizer_code_is_parsed_without_torch(tmp_path):
    modules = _modules_after_check(tmp_path, TYPO)
    assert "libcst" in modules and "torch" not in modules


@pytest.mark.parametrize(("flags", "cached"), [([], True), (["--no-cache"], False), (["--jobs", "2"], True)])
def test_check_keeps_its_cache_in_the_working_directory_unless_told_not_to(tmp_path, monkeypatch, flags, cached):
    from click.testing import CliRunner

    from optlint.cli import main

    _project(tmp_path, {"a.py": TYPO, "b.py": CLEAN, "c.py": TYPO})
    monkeypatch.chdir(tmp_path)
    outputs = [CliRunner().invoke(main, ["check", *flags, "src"]) for _ in range(2)]
    assert [(o.exit_code, type(o.exception)) for o in outputs] == [(1, SystemExit)] * 2
    assert outputs[0].output == outputs[1].output
    assert outputs[0].output.count("OPT001") == 2
    assert (tmp_path / ".optlint_cache").is_dir() == cached


def test_check_rejects_zero_jobs():
    from click.testing import CliRunner

    from optlint.cli import main

    outcome = CliRunner().invoke(main, ["check", "--jobs", "0", "."])
    assert outcome.exit_code == 2 and "--jobs" in outcome.output


def test_source_libcst_parses_but_python_rejects_is_a_syntax_error_not_a_crash(tmp_path):
    src = _project(tmp_path, {"mixed.py": 'import torch\nx = b"a" "b"\n' + TYPO})
    result = lint_paths([str(src)])
    assert result.errors == []
    assert [(f.code, f.row, f.message) for f in result.findings] == [
        ("OPT000", 2, "Syntax error: cannot mix bytes and nonbytes literals")
    ]
