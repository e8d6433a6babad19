"""Poll rounds, on a lane's worker: batched or single reads, and applying a task to its job.

A reply that cannot be understood fails only the task it belongs to (§8 Bounds):
a batch that cannot be read is read again one task at a time, once, and each task
whose own reply is bad ends `failed` with the client code, in the job and the ledger.
"""
from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections import defaultdict
from typing import Optional

from .. import catalog
from ..errors import AuthError, BadReply, SeedanceAPIError, SeedanceError, TaskFailed, TaskNotFound
from ..providers.base import Task
from .creates import fail_job
from .job import NO_URL_POLLS, TERMINAL, Job, _jittered, _warn_word_once, poll_interval
from .lanes import Deferred, Lane, RoundStat

log = logging.getLogger("seedance_nb")


class PollingMixin:
    def _round(self, lane: Lane) -> None:
        from ..http_rules import read_delay

        now = time.time()
        with lane.lock:
            jobs = list(lane.jobs)
        live = []
        for job in jobs:
            if job.done:
                lane.detach(job)
            else:
                # whole seconds are what a card shows (its clock ticks in the browser);
                # a trait set per job per round was ~2 % of a sweep's CPU
                elapsed = round(now - job._t0, 3)
                if int(elapsed) != int(job.elapsed):
                    job.elapsed = elapsed
                live.append(job)
        for job in [j for j in live if j._watching]:
            self._check_row(lane, job)
        poll: dict[str, list[Job]] = defaultdict(list)  # one read per task id
        for job in live:
            if job.task_id and not job._needs_download and not job._watching and not job.done:
                poll[job.task_id].append(job)
        before = lane.transport.counts["total"]
        try:
            with lane.deferring():
                if poll and lane.dialect.batch_size:
                    self._poll_batched(lane, poll)
                elif poll:
                    self._poll_single(lane, poll)
            lane.failures = 0
        except Deferred as wait:
            # Retry-After / backoff: this lane's next poll waits; nothing else does.
            lane.failures += 1
            delay = max(wait.seconds, read_delay(lane.failures - 1))
            lane.not_before = self._later(delay)
            log.info("%s: polls deferred %.1f s", lane.name, delay * self.retry_scale)
        if poll:
            self.rounds.append(RoundStat(now, lane.settings.provider, len(poll),
                                         lane.transport.counts["total"] - before))
        self._download_due(lane, [j for j in live if j._needs_download and not j.done])
        interval, _ = poll_interval(lane.settings)
        with lane.lock:
            lane.jobs = [j for j in lane.jobs if not j.done]
            lane.next_round_at = time.time() + _jittered(interval) if lane.jobs else float("inf")

    def _check_row(self, lane: Lane, job: Job) -> None:
        """A job that joined another process's unsent create: follow its ledger row."""
        row = job.ledger.get(job.ledger_id)
        if row is None:
            job._finish(None, SeedanceError(f"ledger row {job.ledger_id} is gone"))
            return
        if row.get("task_id"):
            job._watching = False
            job.task_id = row["task_id"]
            if row.get("status") in catalog.JOB_ACTIVE:
                job.status = row["status"]
            return  # polled like any other task from this round on
        status = row.get("status")
        if status not in catalog.JOB_ACTIVE:
            what = " ".join(x for x in (row.get("error_code"), row.get("error_message")) if x)
            job._finish(status, SeedanceError(
                f"the identical request this job joined (ledger row {job.ledger_id}) ended "
                f"{status}" + (f": {what}" if what else "")))

    def _poll_batched(self, lane: Lane, poll: dict[str, list[Job]]) -> None:
        size = lane.dialect.batch_size
        ids = list(poll)
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]
            try:
                resp = lane.transport.send(lane.dialect.batch_call(chunk))
                known = {i: poll[i][0].task for i in chunk if _settled_read(poll[i][0])}
                tasks = lane.dialect.parse_batch(resp.status_code, dict(resp.headers),
                                                 resp.content, known)
            except BadReply as exc:
                if exc.retryable:
                    log.info("batch read on %s failed (%s); next round", lane.name, exc)
                    continue
                # Which task broke it cannot be known: read each one alone, once.
                log.info("batch read on %s unreadable (%s); reading singly", lane.name, exc)
                self._poll_single(lane, {i: poll[i] for i in chunk})
                continue
            except SeedanceAPIError as exc:
                if self._fatal(exc):
                    for task_id in chunk:
                        for job in poll[task_id]:
                            self._read_failed(job, exc)
                else:
                    log.info("batch read on %s failed (%s); next round", lane.name, exc)
                continue
            by_id: dict[str, Task] = {}
            twins: set[str] = set()
            for task in tasks:
                seen = by_id.get(task.id)
                if seen is not None and seen.raw != task.raw:
                    twins.add(task.id)
                by_id.setdefault(task.id, task)
            missing = {}
            for task_id in chunk:
                if task_id in twins:
                    for job in poll[task_id]:
                        fail_job(job, "DuplicateTaskId", f"the batch read listed task "
                                 f"{task_id} twice with different content")
                elif task_id in by_id:
                    for job in poll[task_id]:
                        self._apply(lane, job, by_id[task_id])
                else:
                    missing[task_id] = poll[task_id]
            if missing:
                self._poll_single(lane, missing)  # missing from the batch: once, singly

    def _poll_single(self, lane: Lane, poll: dict[str, list[Job]]) -> None:
        def fetch(task_id: str) -> tuple[Optional[Task], Optional[BaseException]]:
            with lane.deferring():  # the fan-out threads defer like the lane's worker
                return self._fetch(lane, task_id)

        ids = list(poll)
        results = list(lane.fanout().map(fetch, ids)) if len(ids) > 1 else [fetch(ids[0])]
        wait: Optional[Deferred] = None
        for task_id, (task, exc) in zip(ids, results):
            for job in poll[task_id]:
                if isinstance(exc, Deferred):
                    wait = exc if wait is None or exc.seconds > wait.seconds else wait
                elif exc is not None:
                    self._read_error(job, exc)
                elif task is not None:
                    self._apply(lane, job, task)
        if wait is not None:
            raise wait

    def _fetch(self, lane: Lane, task_id: str) -> tuple[Optional[Task], Optional[BaseException]]:
        try:
            resp = lane.transport.send(lane.dialect.get_call(task_id))
            return lane.dialect.parse_task(resp.status_code, dict(resp.headers),
                                           resp.content), None
        except (SeedanceAPIError, Deferred) as exc:
            return None, exc

    @staticmethod
    def _fatal(exc: SeedanceAPIError) -> bool:
        """An error polling again cannot fix (bad key, account problems)."""
        return isinstance(exc, AuthError) or (exc.http_status in (401, 402, 403))

    def _read_error(self, job: Job, exc: SeedanceAPIError) -> None:
        if isinstance(exc, TaskNotFound):
            task = Task(id=job.task_id or "", provider=job.provider, status="failed",
                        error={"code": exc.code or "TaskNotFound", "message": exc.message})
            job.task = task
            job.ledger.record_task(job.ledger_id, task)
            self._detach(job)
            job._finish("failed", exc)
        elif isinstance(exc, BadReply) and not exc.retryable:
            fail_job(job, exc.code or "BadReply", exc.message)
        elif self._fatal(exc):
            self._read_failed(job, exc)
        else:
            log.info("read of %s on %s failed (%s); next round", job.task_id, job.provider, exc)

    def _read_failed(self, job: Job, exc: SeedanceAPIError) -> None:
        # The task itself is untouched and stays in the ledger; only this client stops.
        self._detach(job)
        job._finish(None, exc)

    def _apply(self, lane: Lane, job: Job, task: Task) -> None:
        if job.done or (task is job.task and task.status not in TERMINAL):
            return  # read again exactly as before (parse_batch's `known`): nothing moved
        if job._gateway_terminal and task.status not in TERMINAL:
            fail_job(job, "StatusRegressed", f"the gateway said {job._gateway_terminal} and "
                     f"then {task.status} for task {job.task_id}")
            return
        if task.status in TERMINAL:
            job._gateway_terminal = task.status
        if task.unknown_word:
            text = _warn_word_once(job.provider, task.unknown_word)
            if text:
                log.warning(text)  # once per (provider, word) for the life of the process
            if task.unknown_word not in job.warning:
                job.warning = (f"{job.provider} reported an unknown status word "
                               f"{task.unknown_word!r}; treating it as running")
        if task.status == "succeeded" and not task.video_url:
            job._no_url_polls += 1
            if job._no_url_polls > NO_URL_POLLS:
                task = dataclasses.replace(task, status="failed", error={
                    "code": "NoVideoUrl",
                    "message": f"the gateway reported success but sent no video URL in "
                               f"{NO_URL_POLLS + 1} polls"})
            else:
                task = dataclasses.replace(task, status="running")
        if task.status == "succeeded" and task.url_expires_at is None:
            task.url_expires_at = time.time() + catalog.URL_LIFETIME_S
        old = job.task
        # Persist state changes, not progress ticks: a durable SQLite write per Comet
        # poll would cost more than the poll itself. The ledger first: job and ledger agree.
        if old is None or (old.status, old.tokens, old.video_url) != \
                (task.status, task.tokens, task.video_url):
            try:
                # success claims its downloads for this manager (one commit fewer)
                job.ledger.record_task(job.ledger_id, task, claim_owner=self._owner)
            except (OverflowError, ValueError, TypeError, sqlite3.Error) as exc:
                fail_job(job, "BadNumber", f"the task holds a value the ledger cannot "
                         f"store ({exc})")
                return
        job.task = task
        job.progress = task.progress
        if task.tokens is not None:
            job.tokens = task.tokens
        if task.status == "succeeded":
            job._needs_download = True  # downloaded later in this same round
        elif task.status in TERMINAL:
            self._detach(job)
            job._finish(task.status, TaskFailed(task))
        elif job.status != task.status:
            job.status = task.status


def _settled_read(job: Job) -> bool:
    """The job's last read may stand for an identical new one: queued or running as the
    gateway said it (not a success held back for a missing video URL, which counts)."""
    task = job.task
    return task is not None and task.status in ("queued", "running") and not job._no_url_polls
