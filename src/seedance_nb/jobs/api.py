"""The public functions: submit, generate, wait_all and the process-wide manager."""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import warnings
from typing import Any, Iterable, Optional, Sequence

from .. import catalog
from ..config import resolve_client, settings
from ..errors import SeedanceError, SeedanceValidationError, TaskFailed, WaitTimeout
from ..ledger_history import current_notebook
from ..providers.base import Task
from . import drafts
from .job import WAIT_GRACE_S, Job, _crash_point, _file_ok, poll_interval
from .recovery import UNSENT_GRACE_S
from .scheduler import JobManager

log = logging.getLogger("seedance_nb")


_manager: Optional[JobManager] = None
_manager_lock = threading.Lock()


def manager() -> JobManager:
    """The process-wide worker (a new one if the last was stopped)."""
    global _manager
    with _manager_lock:
        if _manager is None or not _manager.alive:
            _manager = JobManager()
        return _manager


def set_manager(mgr: Optional[JobManager]) -> None:
    """Replace the process-wide manager (tests; `%reload_ext`)."""
    global _manager
    with _manager_lock:
        _manager = mgr


_floor_warned: set[str] = set()


_noticed: list[bool] = []

EMULATOR_NOTICE = (
    "seedance-nb: no API key is set, so videos come from the offline emulator (test "
    "patterns, nothing billed). To use a real gateway set ARK_API_KEY, BYTEPLUS_API_KEY, "
    "COMETAPI_KEY or ACEDATACLOUD_API_TOKEN (or pass provider= and api_key=).")


def _emulator_notice() -> None:
    """Say once per process where videos come from; only on the main thread, because
    printing from a widget-callback thread may land in the wrong cell (the panel
    names the emulator in its provider control instead)."""
    if not _noticed and threading.current_thread() is threading.main_thread():
        _noticed.append(True)
        print(EMULATOR_NOTICE, flush=True)


def submit(prompt: str = "", *, provider: Optional[str] = None, model: Optional[str] = None,
           api_key: Optional[str] = None, base_url: Optional[str] = None,
           images: Sequence[Any] = (), new: bool = False, name: Optional[str] = None,
           emulate: Optional[str] = None, endpoints: Optional[dict] = None,
           timeout: Optional[float] = None, limits: Optional[dict] = None,
           **fields: Any) -> Job:
    """Validate, record the intent and hand the job to the worker; returns at once.

    `limits={"queued": N, "rpm": N, "concurrency": N}` (any subset) sets this job's
    account budget (jobs/admission.py); the job waits in the ledger until it fits.
    """
    from ..request import build_request, check_sendable
    from .admission import account_of, check_limits

    limits = check_limits(limits)

    client = resolve_client(provider, api_key, base_url, emulate, endpoints)
    if client.provider == "emulator" and (provider or settings.provider) is None:
        _emulator_notice()
    mgr = manager()
    led = mgr.ledger()
    model = model or settings.model
    draft_id = fields.get("draft_task_id")
    if isinstance(draft_id, str) and draft_id:
        # a final uses its draft's model and, on acedata, the draft's upstream id (§3)
        model = model or drafts.draft_model(led, client.provider, draft_id)
        fields["draft_task_id"] = drafts.wire_draft_id(led, client.provider,
                                                       client.dialect, draft_id)
    request = build_request(prompt, provider=client.provider, model=model,
                            images=images, emulate=client.emulate,
                            endpoints=dict(client.endpoints) or None, **fields)
    interval, raised = poll_interval(client)
    if raised and client.provider not in _floor_warned:
        _floor_warned.add(client.provider)
        text = (f"poll interval {settings.poll_interval} s is below the floor for "
                f"{client.provider}; using {interval} s")
        warnings.warn(text, stacklevel=2)
        log.warning(text)
    fingerprint = request.fingerprint()
    deadline = timeout if timeout is not None else settings.wait_timeout
    # the place that sends: a local emulator starts here, not when settings are resolved
    client = client.started(settings.emulator_speed)
    job_kw = dict(settings=client, request=request, name=name, ledger=led, manager=mgr,
                  deadline_s=deadline, output_dir=str(settings.output_dir))
    if not new:
        reused = _reuse(led, fingerprint, job_kw)
        if reused is not None:
            with mgr._lock:
                mgr.jobs.append(reused)
            if reused._needs_download:
                mgr._put(("download", reused))
            return reused
        joined = _join(mgr, led, fingerprint, job_kw)
        if joined is not None:
            return joined
    # Only a request that would be sent is checked for retirement and its draft (§2.4, §3).
    check_sendable(request)
    if request.mode == "final":
        problems = drafts.draft_problems(led, client.provider, request.draft_task_id)
        if problems:
            raise SeedanceValidationError(problems)
    if request.model_is_default:
        _default_changed_notice(led, request, prompt, images, client, fields)
    row = led.record_intent(fingerprint=fingerprint, provider=client.provider,
                            dialect=client.dialect, model=request.model,
                            base_url=client.base_url, request=request, name=name,
                            status="waiting", account=account_of(client.api_key),
                            family=request.family, notebook=current_notebook())
    _crash_point("after_intent")
    job = Job(ledger_id=row, **job_kw)
    job._fingerprint = fingerprint
    job._limits = limits
    if request.warnings:
        job.warning = "; ".join(request.warnings)
    return mgr.add(job, "create")


_FORMER_DEFAULT = "1.5-pro"  # the default family until the 2026-12 lineup (§2.4)
_default_warned: list[bool] = []


def _default_changed_notice(led: Any, request: Any, prompt: str, images: Any, settings: Any,
                            fields: dict) -> None:
    """Say once when this cell ran before on the former default model (§2.4)."""
    if _default_warned or catalog.capabilities(_FORMER_DEFAULT, settings.dialect) is None:
        return
    from ..request import build_request

    try:
        old = build_request(prompt, provider=settings.provider, model=_FORMER_DEFAULT,
                            images=images, emulate=settings.emulate,
                            endpoints=dict(settings.endpoints) or None, **fields)
    except SeedanceError:
        return  # the old model could not have made it
    if led.find_reusable(old.fingerprint()) or led.find_active(old.fingerprint()):
        _default_warned.append(True)
        text = (f"seedance-nb: the default model changed from {_FORMER_DEFAULT} (retired) to "
                f"{catalog.DEFAULT_FAMILY}; this request ran before on {_FORMER_DEFAULT}, so it "
                f"is sent again on {request.family}. Pin a model with --model / model=.")
        warnings.warn(text, stacklevel=3)
        log.warning(text)


def _reuse(led: Any, fingerprint: str, job_kw: dict) -> Optional[Job]:
    """A Job for an earlier identical success, or None when there is none."""
    row = led.find_reusable(fingerprint)
    if not row:
        return None
    job = Job(ledger_id=row["id"], **job_kw)
    job.reused = True
    job.task_id = row.get("task_id")
    job.tokens = row.get("tokens")
    job.task = Task(id=row.get("task_id") or "", provider=row["provider"], status="succeeded",
                    model=row.get("model"), video_url=row.get("video_url"),
                    last_frame_url=row.get("last_frame_url"),
                    url_expires_at=row.get("url_expires_at"), tokens=row.get("tokens"),
                    seed=row.get("seed"))
    if _file_ok(row.get("video_path"), row.get("video_sha256")):
        job.video_path = row["video_path"]
        if _file_ok(row.get("last_frame_path"), row.get("last_frame_sha256")):
            job.last_frame_path = row["last_frame_path"]
        job._finish("succeeded")
        return job
    expires = row.get("url_expires_at")
    if row.get("video_url") and (expires is None or expires > time.time()):
        job.status = "running"
        job._needs_download = True  # the worker downloads it again
        return job
    failed = dataclasses.replace(job.task, status="failed", error={
        "code": "ReuseUnavailable",
        "message": f"an identical video was made before (task {job.task_id}) but its file is "
                   f"gone and its URL has expired; pass new=True to generate it again"})
    job.task = failed
    job._finish("failed", TaskFailed(failed))
    return job


def _join(mgr: JobManager, led: Any, fingerprint: str, job_kw: dict) -> Optional[Job]:
    """A Job following an identical request still in flight, or None (never bill twice).

    In this process: a job that follows the running one (same ledger row, same end).
    In another process sharing the ledger: attach by task id, or, while that row has
    no id yet, watch the row until it gets one or ends.
    """
    settings = job_kw["settings"]
    with mgr._lock:
        mine = [j for j in mgr.jobs if getattr(j, "_fingerprint", None) == fingerprint
                and j.ledger is led
                and not j.done and j._leader is None and j.settings.key == settings.key
                and j.status in catalog.JOB_ACTIVE]
    if mine:
        return _follow(mgr, mine[-1], job_kw)
    row = led.find_active(fingerprint)
    if not row or row.get("provider") != settings.provider or \
            (row.get("base_url") or "").rstrip("/") != settings.base_url.rstrip("/"):
        return None
    if row.get("status") == "waiting":
        if led.take_over([row["id"]]):  # its process died: send it from here
            job = Job(ledger_id=row["id"], **job_kw)
            job._fingerprint = fingerprint
            return mgr.add(job, "create")
    elif not row.get("task_id") and \
            (row.get("created_at") or 0) < time.time() - UNSENT_GRACE_S:
        return None  # an old unsent row: its process is gone (resume closes it)
    job = Job(ledger_id=row["id"], **job_kw)
    job.joined = True
    job.task_id = row.get("task_id")
    job.status = row.get("status") or "pending"
    return mgr.add(job, "attach" if job.task_id else "watch")


def _follow(mgr: JobManager, leader: Job, job_kw: dict) -> Job:
    """A Job mirroring `leader` (same task, same ledger row); its own deadline applies."""
    job = Job(ledger_id=leader.ledger_id, **job_kw)
    job.joined = True
    job._leader = leader
    names = ["status", "progress", "task_id", "tokens", "video_path", "last_frame_path",
             "warning"]

    def copy(change: Any = None) -> None:
        if not job.done:
            for name in names:
                setattr(job, name, getattr(leader, name))
            job.task = leader.task

    copy()
    leader.observe(copy, names=names)
    leader._add_done_callback(lambda: (copy(), job._finish(leader.status, leader._exc)))
    return mgr.add(job, "follow")


def generate(prompt: str = "", *, timeout: Optional[float] = None, **kwargs: Any) -> Job:
    """Submit and block until the job ends; raises TaskFailed on failure."""
    job = submit(prompt, timeout=timeout, **kwargs)
    return job.wait()


def wait_all(jobs: Optional[Iterable[Job]] = None, timeout: Optional[float] = None, *,
             summary: Optional[bool] = None) -> list[Job]:
    """Wait for every job (default: all of this process); errors stay on the jobs.

    In a Jupyter kernel, more than display_summary.THRESHOLD jobs show one live summary
    (counts, tokens, cost, ETA, paged videos) while waiting; `summary=True` shows it in
    any IPython, `summary=False` never.
    """
    from ..ui.summary import for_wait_all

    items = list(jobs) if jobs is not None else list(manager().jobs)
    view = for_wait_all(items, summary)
    end = None if timeout is None else time.monotonic() + timeout
    try:
        for job in items:
            # as job.wait(None) would: its deadline plus a grace, should the scheduler hang
            deadline = getattr(job, "_deadline", None)
            own = (float("inf") if deadline is None
                   else time.monotonic() + max(0.0, deadline - time.time()) + WAIT_GRACE_S)
            while True:
                left = None if end is None else max(0.0, end - time.monotonic())
                step = left if view is None else min(0.5, 0.5 if left is None else left)
                try:
                    job.wait(step)
                except WaitTimeout:
                    if end is not None and time.monotonic() >= end:
                        raise
                    if view is not None and not job.done and time.monotonic() < own:
                        view.refresh()  # only our short step ran out
                        continue
                except SeedanceError:
                    pass
                break
    finally:
        if view is not None:
            view.refresh()
    return items
