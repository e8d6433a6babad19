"""Cancel and delete at the gateway (reference §10.6): what is possible now, and doing it.

Only the Ark dialect (ark, byteplus, and the emulator speaking either) has a DELETE
route: it cancels a `queued` task, refuses a `running` one (409
`InvalidAction.RunningTaskDeletion`) and deletes a succeeded, failed or expired task's
record and files. Comet, comet-volc and AceData cannot cancel or delete.

A job the client last saw `running` is never sent a DELETE: the gateway cannot cancel
it, and if it has just succeeded the DELETE would delete its video. Both actions send
one DELETE from the caller's thread (through the lane's transport)
and wait for its reply, bounded by `timeout`: the answer is one quick call, and the
caller (a magic, a button) wants to say what happened. A reply that comes later is
still applied. Exceptions mean nothing was sent; what the gateway said is returned.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from .. import catalog
from ..errors import SeedanceAPIError, SeedanceConfigError, SeedanceError, redact

if TYPE_CHECKING:
    from .job import Job

log = logging.getLogger("seedance_nb")

#: How long cancel/delete wait for the gateway's answer (a reply may still come later).
REPLY_WAIT_S = 20.0
#: How long cancel waits for a task id from a create already sent.
ID_WAIT_S = 5.0
DELETABLE = ("succeeded", "failed", "expired")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the gateway said. `ok`: True done, False refused, None no answer yet."""

    action: str  # "cancel" | "delete"
    ok: Optional[bool]
    reason: str  # plain words: why it was refused, or what happens next
    task_id: Optional[str] = None
    code: str = ""  # the gateway's error code on a refusal

    def __bool__(self) -> bool:
        return bool(self.ok)


def gateway_name(job: Any) -> str:
    settings = job.settings
    if settings.is_emulator:
        return f"the emulator ({settings.emulate} dialect)"
    return settings.provider


def _dialect(job: Any) -> Any:
    from ..providers import get_dialect

    return get_dialect(job.settings.provider, job.settings.emulate)


def cancel_unavailable(job: Any) -> Optional[str]:
    """Why the gateway cannot cancel this job's task now, in plain words; None if it can.

    Ark-dialect gateways cancel only `queued` tasks (a job not yet created is cancelled
    as soon as its create is answered); the others have no cancel route at all.
    """
    status = job.status or "pending"
    if status in catalog.JOB_ENDED:
        return f"the job has ended ({status})"
    if not getattr(_dialect(job), "can_cancel", False):
        return f"{gateway_name(job)} has no cancel route: the task runs to the end"
    if status == "running":
        return (f"{gateway_name(job)} cancels only queued tasks; this one is running "
                f"and runs to the end")
    return None


def _has_route(dialect: Any, name: str) -> bool:
    """Whether the dialect builds this call at all (dialects are pure: nothing is sent)."""
    build = getattr(dialect, name, None)
    return build is not None and build("probe") is not None


def delete_unavailable(job: Any) -> Optional[str]:
    """Why `job.delete()` would send nothing, in plain words; None if it can be sent."""
    status = job.status or "pending"
    if not _has_route(_dialect(job), "delete_call"):
        return f"{gateway_name(job)} has no route to delete a task; nothing was sent"
    if status == "cancelled":
        return ("the task is cancelled; the gateway deletes cancelled tasks by itself "
                "24 h after the cancel")
    if status not in DELETABLE:
        where = ("it is still running" if status in catalog.JOB_ACTIVE
                 else f"it is {status}, with no task at the gateway")
        return (f"{where}; delete is for finished tasks (succeeded, failed or expired)"
                + ("; cancel a queued one instead" if status in catalog.JOB_ACTIVE else ""))
    if not job.task_id:
        return "it has no task id at the gateway"
    if not job.done:
        return "its video is still being downloaded; delete it once that is done"
    return None


def running_text(job: Any) -> str:
    return f"the task is already running; {gateway_name(job)} cancels only queued tasks"


def refusal_text(exc: BaseException, job: Any) -> str:
    """A gateway's refusal of a DELETE in plain words (§10.6)."""
    code = getattr(exc, "code", "") or ""
    status = getattr(exc, "http_status", None)
    who = gateway_name(job)
    if code == "InvalidAction.RunningTaskDeletion" or status == 409:
        return running_text(job)
    if status == 404 or code.startswith("NotFound"):
        return (f"{who} no longer has this task (deleted, or past its 7-day retention)")
    if status == 400 and "cancelled" in str(exc):
        return "the task is already cancelled"
    message = getattr(exc, "message", None) or str(exc)
    return redact(f"{who} refused: {code + ' ' if code else ''}{message}".strip())


def _manager(job: Any) -> Any:
    if job._manager is not None:
        return job._manager
    from .api import manager

    return manager()


def _send(job: Any, call: Any, timeout: float, settle: Any) -> tuple[bool, Any, Any]:
    """Send `call` on a helper thread; (answered, response, error) within `timeout`.

    `settle(response, error)` runs on the helper thread whenever the answer comes, so a
    late reply is still applied to the job.
    """
    transport = _manager(job)._lane(job.settings).transport
    box: dict[str, Any] = {}
    answered = threading.Event()

    def run() -> None:
        try:
            box["resp"] = transport.send(call)
        except Exception as exc:  # noqa: BLE001 - every outcome reaches the caller
            box["exc"] = exc
        try:
            settle(box.get("resp"), box.get("exc"))
        except Exception:  # noqa: BLE001 - a listener must not kill the thread
            log.exception("applying a %s reply failed", call.method)
        answered.set()

    threading.Thread(target=run, name="seedance-nb-delete", daemon=True).start()
    ok = answered.wait(timeout)
    return ok, box.get("resp"), box.get("exc")


def _wake_poll(job: Any) -> None:
    """Read the task again at once, so the job shows the gateway's new state."""
    mgr = _manager(job)
    mgr._attach(job, soon=0.0)
    mgr._cmds.put(("wake", None))


def cancel(job: "Job", timeout: float = REPLY_WAIT_S) -> Outcome:
    """See `Job.cancel`."""
    if job.status in catalog.JOB_ENDED:
        raise ValueError(f"job {job.task_id or ''} already ended ({job.status}); "
                         f"nothing to cancel".replace("  ", " "))
    dialect = _dialect(job)
    if not dialect.can_cancel:
        raise SeedanceConfigError(
            f"cancel is not available on {job.settings.dialect}: only ark and byteplus "
            f"can cancel a task; it will run to the end")
    job._user_cancel = True
    end = time.monotonic() + min(timeout, ID_WAIT_S)
    while (not job.task_id and not job.done and job.status != "waiting"
           and time.monotonic() < end):
        job._done.wait(0.05)  # a create is normally answered in well under a second
    if job.status == "running":
        # Never a DELETE here: Ark refuses it (409) at best, and if the task has just
        # succeeded since the last poll, the DELETE would delete its video (§10.6).
        job._user_cancel = False
        job.warning = f"cancel refused: {running_text(job)}"
        return Outcome("cancel", False, running_text(job), job.task_id, "running")
    if not job.task_id:
        if job.done:
            return Outcome("cancel", False, f"it ended {job.status} before {gateway_name(job)} "
                           f"gave it a task id")
        _manager(job)._put(("cancel", job))  # the lane cancels it once the create answers
        return Outcome("cancel", None, f"{gateway_name(job)} has not answered its create "
                       f"yet; it is cancelled as soon as it does")
    task_id = job.task_id

    def settle(_resp: Any, exc: Optional[BaseException]) -> None:
        if exc is None:
            _wake_poll(job)
            return
        job._user_cancel = False
        job.warning = f"cancel refused: {refusal_text(exc, job)}"
        _wake_poll(job)  # e.g. running by now: show it at once

    answered, _resp, exc = _send(job, dialect.cancel_call(task_id), timeout, settle)
    if not answered:
        return Outcome("cancel", None, f"no answer from {gateway_name(job)} within "
                       f"{timeout:.0f} s; the job shows the outcome when it comes", task_id)
    if exc is not None:
        log.info("cancel of %s refused: %s", task_id, exc)
        return Outcome("cancel", False, refusal_text(exc, job), task_id,
                       getattr(exc, "code", "") or "")
    return Outcome("cancel", True, "cancelled", task_id)


def delete(job: "Job", timeout: float = REPLY_WAIT_S) -> Outcome:
    """See `Job.delete`."""
    why = delete_unavailable(job)
    if why:
        raise SeedanceError(f"job {job.task_id or job.name or job.ledger_id} cannot be "
                            f"deleted: {why}")
    task_id = job.task_id
    call = _dialect(job).delete_call(task_id)

    def settle(_resp: Any, exc: Optional[BaseException]) -> None:
        if exc is not None:
            return
        job.deleted_at_gateway = time.time()
        if job.ledger is not None and job.ledger_id is not None:
            # The ledger has no column for it; the URLs are dead from now on, which
            # keeps resume from trying to download them.
            job.ledger.record_task(job.ledger_id, {"url_expires_at": time.time()})

    answered, _resp, exc = _send(job, call, timeout, settle)
    if not answered:
        return Outcome("delete", None, f"no answer from {gateway_name(job)} within "
                       f"{timeout:.0f} s", task_id)
    if exc is not None:
        reason = refusal_text(exc, job) if isinstance(exc, SeedanceAPIError) else str(exc)
        return Outcome("delete", False, reason, task_id, getattr(exc, "code", "") or "")
    files = [p for p in (job.video_path, job.last_frame_path) if p]
    kept = (f"the local file{'s' if len(files) > 1 else ''} {' and '.join(files)} and the "
            f"ledger row are kept" if files else "the ledger row is kept")
    return Outcome("delete", True, f"its record and files there are gone; {kept}", task_id)
