"""Ctrl-C or SIGTERM in the middle of a run: exit 130 or 143 (never 0 or 1, which say "no findings"
and "findings"), one line on stderr, and no worker process left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")

# Each file takes the analysis a while (nested loops, many names): hundreds keep a run busy for seconds.
SLOW_FILE = "import torch\n" + "".join(f"named{i} = model.named_parameters()\n" for i in range(20)) + "".join(
    "    " * i + f"for a{i} in range(2):\n" + "    " * (i + 1) + f"decay{i} = [p for n, p in named{i}]\n"
    for i in range(20)) + "    " * 20 + "opt = torch.optim.SGD(decay0)\n"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    for i in range(400):
        (tmp_path / f"train_{i}.py").write_text(SLOW_FILE, encoding="utf-8")
    return tmp_path


def start(corpus: Path, jobs: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "optlint", "check", "--no-cache", "--jobs", str(jobs), str(corpus)]
    # A session of its own: a signal to its process group reaches only optlint and its workers, as
    # Ctrl-C in a terminal reaches the foreground job.
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    """Running, or dead but not reaped: a zombie is left behind too."""
    return Path(f"/proc/{pid}").exists()


def wait_until(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the run never got that far"
        time.sleep(0.05)


def linting(process: subprocess.Popen) -> bool:
    """libcst's parser is loaded: discovery is over and files are being analysed."""
    return process.poll() is None and "libcst/native" in Path(f"/proc/{process.pid}/maps").read_text()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_parallel_run_stops_every_worker(corpus, signum, status):
    process = start(corpus, jobs=2)
    wait_until(lambda: process.poll() is None and len(children(process.pid)) == 2)
    workers = children(process.pid)
    try:
        time.sleep(0.3)  # the workers are linting their first files
        if signum == signal.SIGINT:
            os.killpg(process.pid, signum)  # as a terminal's Ctrl-C: the workers get it too
        else:
            process.send_signal(signum)  # as `kill` or a CI runner's timeout: the parent only
        stderr = process.communicate(timeout=30)[1].decode()
        assert (process.returncode, stderr.splitlines()) == (status, [f"optlint: interrupted by {signal.Signals(signum).name}"])
        assert not [pid for pid in workers if alive(pid)]
    finally:  # what a failing run leaves behind: only processes still running on this corpus
        if process.poll() is None:
            process.kill()
        for pid in workers:
            with contextlib.suppress(OSError):
                if str(corpus) in Path(f"/proc/{pid}/cmdline").read_text():
                    os.kill(pid, signal.SIGKILL)


def test_ctrl_c_in_a_single_process_run_exits_130_with_one_line(corpus):
    process = start(corpus, jobs=1)
    wait_until(lambda: linting(process))
    os.killpg(process.pid, signal.SIGINT)
    stderr = process.communicate(timeout=30)[1].decode()
    assert (process.returncode, stderr.splitlines()) == (130, ["optlint: interrupted by SIGINT"])
