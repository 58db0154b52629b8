"""The worker processes that lint the files libcst must parse, busy while the walk still goes on.

The walk (read, hash, decode, prefilter: a third of a cold run over a large tree) runs in the parent.
Files it lets through are handed to the workers as they come, so the workers start at once instead of
after the walk. At most two files per worker wait in the pool at any time; the rest wait here, and
the largest of them goes next: a large file handed out last would leave the other cores idle at the end.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # concurrent.futures is imported only by a run that starts workers
    from concurrent.futures import Future

IN_POOL_PER_WORKER = 2


class Workers:
    """Runs `task(*arguments)` for each file submitted, and gives the results in the order submitted.
    `prepare` imports what the forked workers should inherit; `failed(error, arguments)` is the result
    of a task whose worker died. With one job, or one file, nothing is forked: the tasks run here."""

    def __init__(self, task: Callable, jobs: int | None, prepare: Callable[[], None],
                 failed: Callable[[BaseException, tuple], object]):
        self.task, self.prepare, self.failed = task, prepare, failed
        self.jobs = jobs or default_jobs()
        self.waiting: list[tuple[int, int, tuple]] = []  # a heap: (-size, order, arguments)
        self.arguments: dict[int, tuple] = {}
        self.futures: dict[int, Future] = {}
        self.in_pool: set[Future] = set()
        self.pool = None
        self.workers = 0

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        if self.pool is None:
            return
        if error is not None:  # Ctrl-C, SIGTERM: leaving the pool would wait for every queued file
            _stop(self.pool)
        self.pool.shutdown()

    def submit(self, size: int, *arguments) -> None:
        order = len(self.arguments)
        self.arguments[order] = arguments
        heapq.heappush(self.waiting, (-size, order, arguments))
        if self.pool is None and self.jobs > 1 and len(self.arguments) >= self.jobs:
            self._start(self.jobs)  # enough files for every core: start before the walk ends
        if self.pool is not None:
            self._hand_out()

    def results(self) -> list:
        if self.pool is None and min(self.jobs, len(self.arguments)) > 1:
            self._start(min(self.jobs, len(self.arguments)))
        if self.pool is None:
            return [self.task(*self.arguments[order]) for order in sorted(self.arguments)]
        from concurrent.futures import FIRST_COMPLETED, wait

        while self.waiting:
            wait(self.in_pool, return_when=FIRST_COMPLETED)
            self._hand_out()
        return [self._result(order) for order in sorted(self.arguments)]

    def _start(self, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.prepare()
        self.workers = workers
        self.pool = ProcessPoolExecutor(workers, mp_context=_pool_context(), initializer=_leave_signals_to_parent)

    def _hand_out(self) -> None:
        self.in_pool = {future for future in self.in_pool if not future.done()}
        while self.waiting and len(self.in_pool) < IN_POOL_PER_WORKER * self.workers:
            _, order, arguments = heapq.heappop(self.waiting)
            with _signals_held():  # the first submit forks the workers: none may run the parent's handlers
                future = self.pool.submit(self.task, *arguments)
            self.futures[order] = future
            self.in_pool.add(future)

    def _result(self, order: int):
        try:
            return self.futures[order].result()
        except Exception as error:  # noqa: BLE001 - a worker that died (killed, out of memory)
            return self.failed(error, self.arguments[order])


_STOPPING = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait (in the parent, and in each worker forked meanwhile, until
    `_leave_signals_to_parent` has run in it)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: workers are spawned, they inherit no handler
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _leave_signals_to_parent() -> None:
    """A worker ignores Ctrl-C (sent to the whole process group: the parent stops the workers) and
    dies of SIGTERM at once, without the handler a forked worker inherits from the command line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)


def _stop(pool) -> None:
    """End the workers now, the file each is linting included; no process is left behind."""
    processes = list(pool._processes.values())  # no public handle before Python 3.14's terminate_workers()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


def _pool_context():
    """fork where the platform has it: workers start at once, with libcst already imported."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
