"""Lanes: one per gateway setting (provider, base URL, key), each with its own threads.

A lane's I/O (creates, polls, cancels, downloads) runs on the lane's worker thread
and its small fan-out pool, never on the scheduler thread, so a gateway that is
slow, stalled or rate-limited delays only its own jobs (§8 Bounds).
"""
from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Iterable, Iterator, Optional

from .job import COMET_IN_FLIGHT, Job


class Deferred(Exception):
    """Raised from the transport's sleep during a poll: retry at a scheduled time instead."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.1f} s")
        self.seconds = seconds


class DaemonPool:
    """Up to `size` daemon threads, started on demand.

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so a read
    stuck on a stalled gateway (or a blocking create held open for an hour) would
    hold the kernel's exit.
    """

    def __init__(self, size: int, name: str) -> None:
        self.size, self.name = size, name
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} is shut down")
            self._queue.put((fut, fn, args))
            if self._idle == 0 and len(self._threads) < self.size:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self.name}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            elif self._idle > 0:
                self._idle -= 1  # that idle thread is now spoken for
        return fut

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list:
        return [f.result() for f in [self.submit(fn, item) for item in items]]

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    fut.set_exception(exc)
            del item, fut, fn, args  # an idle thread must not keep the last job alive
            with self._lock:
                self._idle += 1


@dataclasses.dataclass
class RoundStat:
    at: float
    provider: str
    jobs: int
    requests: int


class Lane:
    """One gateway setting: its transport, dialect, jobs and threads.

    Lists are guarded by `lock`: the scheduler thread adds work, the lane's worker
    takes it. `busy` is True while a turn runs on the worker (one turn at a time).
    """

    def __init__(self, settings: Any, transport: Any, dialect: Any, index: int,
                 stopping: threading.Event, scale: float = 1.0) -> None:
        self.settings = settings
        self.transport = transport
        self.dialect = dialect
        self.jobs: list[Job] = []  # created: polled, or waiting for their download
        self.creating: list[Job] = []  # waiting for their create (job._next_create_at)
        self.actions: list[tuple] = []  # ("cancel", job) / ("reconcile", job) / ("created", ...)
        self.next_round_at = float("inf")
        self.not_before = 0.0  # Retry-After / backoff: no poll before this time
        self.failures = 0  # consecutive deferred polls, for the backoff
        self.busy = False
        self.lock = threading.Lock()
        self.name = f"seedance-nb-lane{index}-{settings.provider}"
        self._stopping = stopping
        self._scale = scale  # JobManager.retry_scale
        self._defer = threading.local()
        self.worker = DaemonPool(1, self.name)
        self._fanout: Optional[DaemonPool] = None
        self._blocking: Optional[DaemonPool] = None

    def __repr__(self) -> str:
        return (f"Lane({self.name}, jobs={len(self.jobs)}, creating={len(self.creating)}, "
                f"busy={self.busy})")

    # --- the transport's sleep ---------------------------------------------------------
    def sleep(self, seconds: float) -> None:
        """The Transport's sleep: a poll's retry becomes a scheduled time (Deferred);
        a create's or cancel's retry (nothing was sent) waits here, on this lane only."""
        if getattr(self._defer, "on", False):
            raise Deferred(seconds)
        self._stopping.wait(seconds * self._scale)

    @contextlib.contextmanager
    def deferring(self) -> Iterator[None]:
        self._defer.on = True
        try:
            yield
        finally:
            self._defer.on = False

    # --- threads -----------------------------------------------------------------------
    def fanout(self) -> DaemonPool:
        """Parallel single reads and downloads of this lane (at most 4 in flight)."""
        if self._fanout is None:
            self._fanout = DaemonPool(COMET_IN_FLIGHT, self.name + "-io")
        return self._fanout

    def blocking(self) -> DaemonPool:
        """Blocking creates (acedata holds the create open until the video is done)."""
        if self._blocking is None:
            self._blocking = DaemonPool(4, self.name + "-create")
        return self._blocking

    def shutdown(self) -> None:
        for pool in (self.worker, self._fanout, self._blocking):
            if pool is not None:
                pool.shutdown()
        try:
            self.transport.close()
        except Exception:  # noqa: BLE001 - closing a test double may fail; nothing to do
            pass

    # --- timing ------------------------------------------------------------------------
    def wake_at(self) -> float:
        """When this lane next has something to do (inf: nothing)."""
        with self.lock:
            if self.actions:
                return 0.0
            due = [j._next_create_at for j in self.creating]
            if self.jobs:
                due.append(max(self.next_round_at, self.not_before))
        return min(due, default=float("inf"))

    def due(self, now: float) -> bool:
        return not self.busy and self.wake_at() <= now

    def take(self, now: float) -> tuple[list[tuple], bool]:
        """The work of one turn: pending actions, and whether to poll."""
        with self.lock:
            actions, self.actions = self.actions, []
            poll = bool(self.jobs) and now >= max(self.next_round_at, self.not_before)
        return actions, poll

    def next_create(self, now: float) -> Optional[Job]:
        """One create that is due, taken off the list. One at a time: a job whose create
        has not started stays listed, so its deadline finds it unsent (nothing billed)."""
        with self.lock:
            creating, i = self.creating, 0
            while i < len(creating):  # one pass: drop ended jobs, take the first due one
                job = creating[i]
                if job.done:
                    del creating[i]
                elif job._next_create_at <= now:
                    del creating[i]
                    return job
                else:
                    i += 1
        return None

    def withdraw(self, job: Job) -> bool:
        """Take a job off this lane; True if its create had not started (atomic with
        `next_create`, so a create is either sent or withdrawn, never both)."""
        with self.lock:
            unsent = job in self.creating
            if unsent:
                self.creating.remove(job)
            if job in self.jobs:
                self.jobs.remove(job)
        return unsent

    def attach(self, job: Job, first: float) -> None:
        with self.lock:
            if job not in self.jobs:
                self.jobs.append(job)
            self.next_round_at = min(self.next_round_at, time.time() + first)

    def detach(self, job: Job) -> None:
        with self.lock:
            if job in self.jobs:
                self.jobs.remove(job)
            if job in self.creating:
                self.creating.remove(job)
