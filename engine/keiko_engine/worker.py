"""One torch worker thread behind an async queue.

Every engine call runs on this thread, in arrival order. Sampling jobs that are waiting together are
merged into one batch (up to `max_batch_rows` rows) and generated in a single pass; a training job in
the queue is a barrier, so samples requested after `optim_step` see the new weights.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from .generation import GenRow


@dataclass
class _Job:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    fn: Callable[[], Any] | None = None  # a plain call
    rows: list[GenRow] | None = None  # or rows to sample


class Worker:
    def __init__(self, generate: Callable[[list[GenRow]], None], max_batch_rows: int = 64, batch_wait_s: float = 0.003):
        self._generate = generate
        self.max_batch_rows = max_batch_rows
        self.batch_wait_s = batch_wait_s
        self._queue: collections.deque[_Job] = collections.deque()
        self._cv = threading.Condition()
        self._stopped = False
        self.batches = 0  # number of generation passes run (for tests/metrics)
        self.last_batch_rows = 0
        self.busy_since: float | None = None  # monotonic time the current job started (None: idle)
        self._thread = threading.Thread(target=self._run, name="keiko-torch", daemon=True)
        self._thread.start()

    async def call(self, fn: Callable[[], Any]) -> Any:
        loop = asyncio.get_running_loop()
        job = _Job(loop, loop.create_future(), fn=fn)
        self._put(job)
        return await job.future

    async def sample(self, rows: list[GenRow]) -> list[GenRow]:
        loop = asyncio.get_running_loop()
        job = _Job(loop, loop.create_future(), rows=rows)
        self._put(job)
        await job.future
        return rows

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()

    def _put(self, job: _Job) -> None:
        with self._cv:
            self._queue.append(job)
            self._cv.notify()

    @staticmethod
    def _resolve(job: _Job, result: Any = None, error: BaseException | None = None) -> None:
        def done() -> None:
            if job.future.done():
                return
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

        job.loop.call_soon_threadsafe(done)

    def _take_batch(self, first: _Job) -> list[_Job]:
        """`first` plus the sampling jobs queued right behind it (waiting briefly for stragglers)."""
        jobs = [first]
        rows = len(first.rows or [])
        deadline = time.monotonic() + self.batch_wait_s
        with self._cv:
            while True:
                while self._queue and self._queue[0].rows is not None and rows + len(self._queue[0].rows) <= self.max_batch_rows:
                    job = self._queue.popleft()
                    jobs.append(job)
                    rows += len(job.rows or [])
                left = deadline - time.monotonic()
                if left <= 0 or (self._queue and self._queue[0].rows is None) or rows >= self.max_batch_rows:
                    return jobs
                self._cv.wait(left)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._stopped:
                    self._cv.wait()
                if self._stopped:
                    return
                job = self._queue.popleft()
            self.busy_since = time.monotonic()
            try:
                self._run_job(job)
            finally:
                self.busy_since = None

    def state(self) -> dict:
        """What the worker is doing: seconds on the current job (0 when idle) and jobs waiting."""
        since = self.busy_since
        return {"busy_s": 0.0 if since is None else time.monotonic() - since, "queued": len(self._queue)}

    def _run_job(self, job: _Job) -> None:
        if job.fn is not None:
            try:
                self._resolve(job, job.fn())
            except BaseException as e:  # noqa: BLE001 - delivered to the awaiting request
                self._resolve(job, error=e)
            return
        jobs = self._take_batch(job)
        rows = [r for j in jobs for r in (j.rows or []) if not r.cancelled]  # abandoned by their clients
        try:
            if rows:
                self._generate(rows)
                self.batches += 1
                self.last_batch_rows = len(rows)
            for j in jobs:
                self._resolve(j, None)
        except BaseException as e:  # noqa: BLE001
            for j in jobs:
                self._resolve(j, error=e)
