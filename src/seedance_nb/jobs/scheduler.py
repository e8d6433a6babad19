"""The JobManager: the scheduler thread and its lanes.

The scheduler thread only keeps time: it takes commands from callers, ends jobs
whose deadline passed (whatever their lane is doing), and starts a lane's turn on
that lane's worker when the lane has work due. It never sends a request.
"""
from __future__ import annotations

import collections
import heapq
import itertools
import logging
import os
import queue
import socket
import threading
import time
from pathlib import Path
from typing import Any, Optional

from ..config import ClientSettings
from ..errors import SeedanceError, WaitTimeout
from .creates import CreateMixin
from .downloads import DownloadMixin
from .job import FIRST_CHECK_S, Job, poll_interval
from .lanes import Lane, RoundStat
from .polling import PollingMixin
from .table import JobTable

log = logging.getLogger("seedance_nb")

TICK_S = 0.5  # the longest the scheduler sleeps without looking at deadlines
ROUNDS_KEPT = 1000  # poll-round stats kept (the newest), so a long session does not grow

__all__ = ["JobManager", "RoundStat", "Lane"]


class JobManager(CreateMixin, PollingMixin, DownloadMixin):
    """The process-wide scheduler: a timing thread plus one lane per gateway setting.

    `retry_scale` multiplies every retry wait (rate-limited creates, backed-off
    polls, a create's nothing-sent retries); tests set it small instead of sleeping
    through backoff.
    """

    def __init__(self, *, ledger: Any = None, transport_factory: Any = None,
                 retry_scale: float = 1.0, limits: Optional[dict] = None) -> None:
        from .admission import Admission

        self.admission = Admission(limits)  # budgets, learned limits, counts (admission.py)
        # Ended jobs are held weakly, plus a brief (table.py): a long session keeps
        # about 0.5 KB per finished job, not the whole Job.
        self.jobs = JobTable()
        self.rounds: collections.deque[RoundStat] = collections.deque(maxlen=ROUNDS_KEPT)
        self.retry_scale = float(retry_scale)
        self._fixed_ledger = ledger
        self._ledgers: dict[str, Any] = {}
        self._transport_factory = transport_factory
        self._cmds: queue.Queue = queue.Queue()
        self._lanes: dict[tuple, Lane] = {}
        self._lanes_lock = threading.Lock()
        self._live: dict[int, Job] = {}  # jobs not ended, for the deadline check
        self._deadlines: list[tuple[float, int, int]] = []  # heap: (deadline, seq, id(job))
        self._seq = itertools.count()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._thread = threading.Thread(target=self._run, name="seedance-nb-scheduler",
                                        daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        active = sum(1 for j in self.jobs if not j.done)
        return (f"JobManager(jobs={len(self.jobs)}, active={active}, lanes={len(self._lanes)}, "
                f"alive={self.alive})")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping.is_set()

    # --- caller-side API -----------------------------------------------------------
    def ledger(self, path: Any = None) -> Any:
        if self._fixed_ledger is not None:
            return self._fixed_ledger
        from ..config import settings
        from ..ledger import Ledger

        target = str(Path(path or settings.ledger_file()).expanduser().resolve())
        with self._lock:
            led = self._ledgers.get(target)
            if led is None:
                led = self._ledgers[target] = Ledger(target)
        return led

    def _put(self, cmd: tuple) -> None:
        if not self.alive:
            raise SeedanceError("the job manager has stopped; use seedance_nb.manager() for a new one")
        self._cmds.put(cmd)

    def add(self, job: Job, action: str) -> Job:
        """Hand a job over: "create", "attach" (task id known), "download", "watch"
        (another process's unsent row), "reconcile", or "follow" (already driven)."""
        job._manager = self
        with self._lock:
            self.jobs.append(job)
        self._put((action, job))
        return job

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the scheduler and the lanes. Unfinished jobs stay in the ledger for resume()."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._cmds.put(("stop", None))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # --- the scheduler thread --------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._handle(self._cmds.get(timeout=self._sleep_for()))
                while True:
                    self._handle(self._cmds.get_nowait())
            except queue.Empty:
                pass
            except Exception:  # keep the scheduler alive whatever happens
                log.exception("seedance-nb scheduler error")
            if self._stopping.is_set():
                break
            try:
                self._tick()
            except Exception:
                log.exception("seedance-nb scheduler error")
        for lane in list(self._lanes.values()):
            lane.shutdown()

    def _sleep_for(self) -> float:
        now = time.time()
        due = [lane.wake_at() for lane in self._lanes.values() if not lane.busy]
        if self._deadlines:
            due.append(self._deadlines[0][0])
        return max(0.0, min(TICK_S, min(due, default=now + TICK_S) - now))

    def _handle(self, cmd: tuple) -> None:
        action, job = cmd
        if action in ("stop", "wake"):
            return
        if job.done:
            return
        if id(job) not in self._live:
            # every job's deadline is kept here, followers' too; an ended job leaves at
            # once (not held for the manager's life), and the heap finds the next deadline
            # without a pass over every job
            self._live[id(job)] = job
            heapq.heappush(self._deadlines, (job._deadline, next(self._seq), id(job)))
            job._add_done_callback(lambda: self._live.pop(id(job), None))
        if action == "follow":
            return  # its leader's lane drives it
        lane = self._lane(job.settings)
        if action == "create":
            with lane.lock:
                lane.creating.append(job)
        elif action == "attach":
            self._attach(job)
        elif action == "watch":
            job._watching = True
            self._attach(job)
        elif action == "download":
            job._needs_download = True
            self._attach(job, soon=0.0)
        elif action in ("reconcile", "cancel"):
            with lane.lock:
                lane.actions.append((action, job))

    def _tick(self) -> None:
        now = time.time()
        self._enforce_deadlines(now)
        for lane in list(self._lanes.values()):
            if lane.due(now) and not self._stopping.is_set():
                lane.busy = True
                lane.worker.submit(self._turn, lane)

    def _due_jobs(self, now: float) -> list[Job]:
        """Jobs whose deadline passed, off the heap (ended jobs' entries are dropped)."""
        heap, due = self._deadlines, []
        while heap and heap[0][0] < now:
            _, _, key = heapq.heappop(heap)
            job = self._live.get(key)
            if job is None or job.done:
                continue
            if now <= job._deadline:  # moved later (resume): look again then
                heapq.heappush(heap, (job._deadline, next(self._seq), key))
                continue
            due.append(job)
        if len(heap) > 2 * len(self._live) + 64:  # many ended jobs' entries: compact
            live = set(self._live)
            self._deadlines = [e for e in heap if e[2] in live]
            heapq.heapify(self._deadlines)
        return due

    def _enforce_deadlines(self, now: float) -> None:
        """End every job whose deadline passed, whatever its lane is doing (§8)."""
        for job in self._due_jobs(now):
            self._live.pop(id(job), None)
            lane = self._lanes.get(job.settings.key)
            unsent = lane is not None and lane.withdraw(job)
            waited = now - job._t0
            if unsent and job.ledger is not None:
                # Never sent: nothing was billed; close the row so no later submit joins it.
                try:
                    job.ledger.record_create_failed(job.ledger_id, "WaitTimeout",
                                                    "not accepted before its deadline; "
                                                    "nothing was created or billed")
                except Exception:  # noqa: BLE001 - the job still ends on time
                    log.exception("could not record the deadline of row %s", job.ledger_id)
                exc = WaitTimeout("(not created yet)", job.provider, waited)
                exc.args = (f"stopped waiting after {waited:.0f} s: {job.provider} had not "
                            f"accepted the request yet (busy or rate-limited), so nothing was "
                            f"created or billed; submit it again",)
                job._finish("rejected", exc)
            else:
                job._finish(None, WaitTimeout(job.task_id or "(not created yet)",
                                              job.provider, waited))

    # --- lanes -----------------------------------------------------------------------
    def _lane(self, settings: ClientSettings) -> Lane:
        lane = self._lanes.get(settings.key)
        if lane is not None:
            return lane
        with self._lanes_lock:
            lane = self._lanes.get(settings.key)
            if lane is not None:
                return lane
            from ..providers import get_dialect

            dialect = get_dialect(settings.provider, settings.emulate)
            lane = Lane(settings, None, dialect, len(self._lanes) + 1, self._stopping,
                        self.retry_scale)
            if self._transport_factory is not None:
                lane.transport = self._transport_factory(settings, dialect)
            else:
                from ..http import Transport

                lane.transport = Transport(settings, dialect, sleep=lane.sleep)
            self._lanes[settings.key] = lane
            return lane

    _conn = _lane  # the name recovery code used before lanes

    def _turn(self, lane: Lane) -> None:
        """One turn of a lane, on the lane's worker: actions, due creates, a poll round."""
        try:
            now = time.time()
            actions, poll = lane.take(now)
            for action in actions:
                if self._stopping.is_set():
                    return
                self._act(lane, action)
            job = lane.next_create(now)
            while job is not None and not self._stopping.is_set():
                self._create(lane, job)
                job = lane.next_create(now)
            if poll and not self._stopping.is_set():
                self._round(lane)
                self._release_held(lane)
        except Exception:  # a lane's error never stops the scheduler or other lanes
            log.exception("seedance-nb %s error", lane.name)
        finally:
            lane.busy = False
            self._cmds.put(("wake", None))

    def _act(self, lane: Lane, action: tuple) -> None:
        kind, job = action[0], action[1]
        if kind == "cancel":
            self._cancel(lane, job)
        elif kind == "reconcile":
            from .recovery import reconcile

            reconcile(self, job)
        elif kind == "created":
            self._created(lane, job, action[2])

    def _attach(self, job: Job, soon: Optional[float] = None) -> None:
        interval, _ = poll_interval(job.settings)
        first = min(FIRST_CHECK_S, interval) if soon is None else soon
        self._lane(job.settings).attach(job, first)

    def _detach(self, job: Job) -> None:
        lane = self._lanes.get(job.settings.key)
        if lane is not None:
            lane.detach(job)

    def _later(self, seconds: float) -> float:
        """A scheduled retry time `seconds` from now (scaled for tests)."""
        return time.time() + seconds * self.retry_scale
