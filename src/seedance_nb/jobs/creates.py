"""Creates and cancels, run on a lane's worker (never on the scheduler thread).

Write-ahead order with the ledger: intent (`waiting`) -> admitted and sending (one
commit: `Ledger.admit`, see admission.py) -> created (the id is stored before anything
else can fail) -> task changes -> files. A job whose budget is full is held on its
lane (a scheduled time), never slept on.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Optional

from ..errors import (BadReply, CreateOutcomeUnknown, RateLimitError, SeedanceAPIError,
                      SeedanceError, TaskFailed, redact)
from ..providers.acedata import AceDataDialect
from ..providers.base import Task
from .job import Job, _crash_point
from .lanes import Lane

log = logging.getLogger("seedance_nb")


def fail_job(job: Job, code: str, message: str, exc: Optional[BaseException] = None) -> None:
    """End a job `failed` with a client code; the ledger records the same status and error."""
    old = job.task
    task = Task(id=job.task_id or "", provider=job.provider, status="failed",
                model=job.model, tokens=getattr(old, "tokens", None),
                error={"code": code, "message": redact(message)})
    job.task = task
    if job.ledger is not None and job.ledger_id is not None:
        # A dict without an id: a row that has none keeps none (ids are unique per provider).
        record: dict[str, Any] = {"status": "failed", "error": task.error}
        if job.task_id:
            record["id"] = job.task_id
        try:
            job.ledger.record_task(job.ledger_id, record)
        except Exception:  # noqa: BLE001 - the job still ends; say why the ledger did not
            log.exception("could not record the failure of ledger row %s", job.ledger_id)
    mgr = job._manager
    if mgr is not None:
        mgr._detach(job)
    job._finish("failed", exc or TaskFailed(task))


class CreateMixin:
    def _create(self, lane: Lane, job: Job) -> None:
        led, row = job.ledger, job.ledger_id
        try:
            if isinstance(lane.dialect, AceDataDialect):  # blocking creates last up to the deadline
                call = lane.dialect.create_call(
                    job.request, wait_timeout=max(1.0, job._deadline - time.time()))
            else:
                call = lane.dialect.create_call(job.request)
        except (ValueError, SeedanceError) as exc:
            led.record_create_failed(row, "InvalidRequest", str(exc))
            job._finish("rejected", exc if isinstance(exc, SeedanceError)
                        else SeedanceError(str(exc)))
            return
        word, wait = self.admission.admit(job)
        if word == "gone":
            led.mark_sending(row)  # not a waiting row (recorded without admission)
        elif word != "admitted":
            self._hold(lane, job, word, wait)
            return
        if job.status == "waiting":
            job.status = "pending"
        self.admission.sent()
        job._sent_at = job._sent_at or time.time()
        if call.timeout is not None:
            # A blocking create is held open until the video is done: send it from a
            # side thread of this lane so the lane's other jobs keep being polled.
            def send() -> None:
                outcome = self._send_create(lane, job, call)
                with lane.lock:
                    lane.actions.append(("created", job, outcome))
                self._cmds.put(("wake", None))

            lane.blocking().submit(send)
            return
        self._created(lane, job, self._send_create(lane, job, call))

    @staticmethod
    def _send_create(lane: Lane, job: Job, call: Any) -> tuple[Any, Optional[Exception]]:
        try:
            return lane.transport.create(call, retry_429=False,
                                         attempt=job._create_attempts), None
        except Exception as exc:  # noqa: BLE001 - every outcome reaches the job
            if not isinstance(exc, SeedanceError):
                exc = SeedanceError(f"create failed in the client: {type(exc).__name__}: {exc}")
            return None, exc

    def _created(self, lane: Lane, job: Job, outcome: tuple[Any, Optional[Exception]]) -> None:
        from ..http_rules import CREATE_RETRIES, create_delay

        result, exc = outcome
        led, row = job.ledger, job.ledger_id
        if isinstance(exc, RateLimitError):
            kind = self.admission.refused(job, exc)
            if kind is not None:  # nothing was created: wait again, budget learned down
                after = exc.retry_after
                self._hold(lane, job, kind, 0.0 if after is None else create_delay(0, after),
                           scaled=True)
                log.info("create held by %s (%s); budget lowered", job.provider, exc.code)
                return
        if isinstance(exc, RateLimitError) and job._create_attempts < CREATE_RETRIES:
            delay = create_delay(job._create_attempts, exc.retry_after)
            job._create_attempts += 1
            job._next_create_at = self._later(delay)
            with lane.lock:
                lane.creating.append(job)
            log.info("create rate-limited by %s; retry %d in %.1f s", job.provider,
                     job._create_attempts, delay)
            return
        missing = isinstance(exc, (CreateOutcomeUnknown, BadReply)) and exc.code == "MissingId"
        if missing or (exc is None and not getattr(result, "task_id", None)):
            fail_job(job, "MissingId", "the gateway accepted the create but its reply names no "
                     "task id; the task may exist and be billed: look in the provider's "
                     "console before trying again" + (f" ({exc.message})" if exc else ""))
            return
        if isinstance(exc, CreateOutcomeUnknown):
            led.record_outcome_unknown(row, str(exc))
            job._finish("unknown", exc)
            return
        if isinstance(exc, SeedanceAPIError):
            led.record_create_failed(row, exc.code or f"HTTP{exc.http_status or ''}", str(exc))
            job._finish("rejected", exc)
            return
        if exc is not None:
            led.record_create_failed(row, "ClientError", str(exc))
            job._finish("rejected", exc)
            return
        _crash_point("after_send")
        twin = self._holder_of(job, result.task_id)
        if twin is not None:
            fail_job(job, "DuplicateTaskId", f"the gateway answered with task id "
                     f"{result.task_id}, which it already gave to {twin}")
            return
        try:
            led.record_created(row, result.task_id, result.upstream_id)
        except SeedanceError as dup:  # the ledger already holds that id in another row
            fail_job(job, "DuplicateTaskId", f"the gateway answered with task id "
                     f"{result.task_id}, already recorded: {dup}")
            return
        _crash_point("after_id")
        job.task_id = result.task_id
        if job.task is None:
            # What the ledger now holds (record_created: queued): a first poll that says
            # the same is not written again.
            job.task = Task(id=result.task_id, provider=job.provider, status="queued",
                            model=job.model)
        if not job.done:
            job.status = "queued"
        self._attach(job)
        if result.task is not None:
            self._apply(lane, job, result.task)
            self._download_due(lane, [job] if job._needs_download and not job.done else [])
        if job._cancel_requested and not job.done:
            self._cancel(lane, job)

    def _hold(self, lane: Lane, job: Job, word: str, wait: float, scaled: bool = False) -> None:
        """Hold a job whose budget is full: it and the lane's other jobs of that budget
        (the whole account for the queued cap) are tried again at `wait` seconds (RPM,
        Retry-After), or after the lane's next poll round (a slot frees when a task moves
        on), at the latest one poll interval from now (another process's tasks)."""
        from .job import poll_interval

        if job.done:  # its deadline passed while it was being admitted: close the row
            job.ledger.record_create_failed(job.ledger_id, "WaitTimeout", "not admitted "
                                            "before its deadline; nothing was created or billed")
            return
        job.status = "waiting"
        if wait > 0:
            until = self._later(wait) if scaled else time.time() + wait
            job._held_for = "time"
        else:
            until = time.time() + poll_interval(job.settings)[0]
            job._held_for = "slot"
        family = None if word == "queued" else getattr(job.request, "family", None)
        with lane.lock:
            job._next_create_at = until
            lane.creating.insert(0, job)  # it was first in line: it stays first
            for other in lane.creating:
                if other is not job and (family is None or
                                         getattr(other.request, "family", None) == family):
                    if other._next_create_at < until:
                        other._next_create_at = until
                        other._held_for = job._held_for

    def _release_held(self, lane: Lane) -> None:
        """After a poll round tasks may have moved on: held jobs try their slot again."""
        now = time.time()
        with lane.lock:
            for job in lane.creating:
                if getattr(job, "_held_for", None) == "slot" and job._next_create_at > now:
                    job._next_create_at = now
                    job._held_for = None

    def _holder_of(self, job: Job, task_id: str) -> Optional[str]:
        """Another job of this process that already has `task_id` on the same gateway
        (through the job table's task-id index: not a scan of every job per create)."""
        for other in self.jobs.with_task_id(task_id):
            if other is not job and other.ledger_id != job.ledger_id and \
                    other.settings.key == job.settings.key:
                return f"ledger row {other.ledger_id}"
        return None

    def _cancel(self, lane: Lane, job: Job) -> None:
        if job.done:
            return
        if not job.task_id:
            if lane.withdraw(job):  # still waiting: never sent, so nothing to cancel there
                job.ledger.record_create_failed(job.ledger_id, "Cancelled", "cancelled "
                                                "before it was sent; nothing was created or "
                                                "billed", status="cancelled")
                job._finish("cancelled", SeedanceError(
                    "cancelled before it was sent; nothing was created or billed"))
                return
            job._cancel_requested = True
            return
        call = lane.dialect.cancel_call(job.task_id)
        if call is None:
            job.warning = f"{job.provider} cannot cancel tasks"
            return
        try:
            lane.transport.send(call)
        except SeedanceAPIError as exc:
            job.warning = redact(f"cancel refused: {exc}")
            log.warning("cancel of %s refused: %s", job.task_id, exc)
            return
        self._attach(job, soon=0.0)  # read the new state at once
