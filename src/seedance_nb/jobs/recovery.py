"""Recovery: resume unfinished ledger rows; let the user settle lost creates.

Two rules make a resume safe with a ledger that travelled with a notebook folder:

- The key goes only to the base URL it was configured for (§8 Bounds). A row whose
  base URL differs from the current configuration for its provider is contacted only
  with a key given for that base URL (`resume(api_keys={url: key})` or
  `resume(api_key=..., base_url=url)`); otherwise it is reported, not contacted.
- A create whose answer was lost (`unknown`) is never matched to a listed task
  automatically: Ark lists carry no prompt, so "a task of that model created just
  after we sent ours" may be another client's. `resume()` shows those candidates and
  the user decides: `adopt(row, task_id)` or `dismiss(row)` (also the way out for
  providers that cannot list tasks).
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Mapping, Optional, Union

from .. import catalog
from ..client import ClientSettings, resolve_client
from ..config import settings as _settings
from ..errors import CreateOutcomeUnknown, SeedanceConfigError, SeedanceError
from ..providers.base import Task
from .job import Job
from .resume_report import (Candidate, Resumed, ResumeReport, Skipped,  # noqa: F401
                            Unresolved, _clock, _show)
from .scheduler import JobManager

# Candidates for a lost create: tasks of its model created from a little before it was
# sent (the gateway's clock may differ from ours) to the longest a create can stay
# unanswered (read timeout plus retries and slack).
CANDIDATE_BEFORE_S = 30.0
CANDIDATE_AFTER_S = 180.0
LIST_PAGE_SIZE = 100
UNSENT_GRACE_S = 3600.0  # younger unsent rows may belong to a live submit in another kernel

_UNRESOLVED = catalog.JOB_ENDED - catalog.JOB_FINAL  # {"unknown"}


def resume(*, api_key: Optional[str] = None, base_url: Optional[str] = None,
           api_keys: Optional[Mapping[str, str]] = None, provider: Optional[str] = None,
           ledger_path: Any = None, allow_insecure: Optional[bool] = None,
           show: bool = True) -> Resumed:
    """Reattach every unfinished ledger row: poll it to the end and download its files.

    Keys go only where they were given for: `api_key` with `base_url` is for that base
    URL; `api_key` alone is for `provider` (default: the configured provider) at its
    configured base URL; `api_keys={base_url: key}` names keys for other base URLs;
    every other row uses its provider's key variable at the configured base URL. A row
    whose base URL is none of these is reported, not contacted. Rows whose create outcome is unknown are reported with
    candidate tasks (never adopted automatically); settle each with `adopt(row, task_id)`
    or `dismiss(row)`. With `show`, the report is displayed (HTML in a notebook) or
    printed. Returns the reattached Jobs; `.report` holds the rest.
    """
    from .api import manager

    mgr = manager()
    led = mgr.ledger(ledger_path)
    keys = _KeyRing(api_key, base_url, api_keys, provider, allow_insecure)
    live = {j.ledger_id: j for j in mgr.jobs if j.ledger is led and not j.done}
    out = Resumed()
    lister = _Lister(led)
    try:
        for row in led.inflight():
            if row["id"] in live:
                out.append(live[row["id"]])
                continue
            settings = keys.settings_for(row)
            lost = row.get("status") in _UNRESOLVED or not row.get("task_id")
            if lost:
                if row.get("status") not in _UNRESOLVED:  # sent, then the process died
                    led.record_outcome_unknown(row["id"], "the process that sent this create "
                                               "ended before its answer was recorded")
                    row = led.get(row["id"]) or row
                out.report.unresolved.append(lister.candidates(row, settings))
            elif isinstance(settings, str):
                out.report.skipped.append(Skipped(row, settings))
            else:
                out.append(_reattach(mgr, led, row, settings))
    finally:
        lister.close()
    # rows polled from here hold their queued slots as this process's (admission.py)
    led.take_over([j.ledger_id for j in out if j.ledger_id not in live])
    out.extend(_send_waiting(mgr, led, keys, live, out.report))
    _close_unsent(led)
    if show and out.report:
        _show(out.report)
    return out


def adopt(row: int, task_id: str, *, ledger_path: Any = None) -> dict:
    """Settle a lost create: ledger row `row` is task `task_id` (e.g. a candidate shown by
    `resume()`, or an id from the provider's console). The next `resume()` polls and
    downloads it. Returns the updated row; refuses a row that is not `unknown` and a
    task id another row already holds."""
    from .api import manager

    return manager().ledger(ledger_path).adopt(int(row), str(task_id))


def dismiss(row: int, *, ledger_path: Any = None) -> dict:
    """Settle a lost create by giving up on it: row `row` becomes `dismissed` and is not
    reported again. Nothing is sent; a task that does exist is not cancelled."""
    from .api import manager

    return manager().ledger(ledger_path).dismiss(int(row))


def reconcile(mgr: JobManager, job: Job) -> None:
    """A job whose create outcome is unknown: record it and say how to settle it.

    Kept for the scheduler's "reconcile" command; it never adopts a listed task.
    """
    row = job.ledger.get(job.ledger_id) or {}
    if row.get("status") == "pending":
        job.ledger.record_outcome_unknown(job.ledger_id, "create outcome unknown")
    job._finish("unknown", CreateOutcomeUnknown(
        f"a create sent to {job.provider} at {_clock(row.get('sent_at'))} got no answer; "
        f"seedance_nb.resume() lists the tasks that could be it; settle it with "
        f"seedance_nb.adopt({job.ledger_id}, TASK_ID) or seedance_nb.dismiss({job.ledger_id})",
        provider=job.provider))


# --- keys: only to the base URL they were given for ---------------------------------------

def _norm(url: Optional[str]) -> str:
    return (url or "").strip().rstrip("/")


def _configured_base(provider: str, emulate: str) -> Optional[str]:
    """The base URL the current configuration uses for `provider`, without starting anything."""
    from ..config import _emulator_base, default_provider

    # %config Seedance.base_url belongs to the configured provider
    mine = _settings.base_url if provider == (_settings.provider or default_provider()) else None
    if provider != "emulator":
        return _norm(mine or catalog.PROVIDER_INFO[provider].base_url)
    import os

    from ..emulator import local_url

    root = mine or os.environ.get(catalog.EMULATOR_URL_ENV, "").strip() or local_url()
    return _norm(_emulator_base(root, emulate)) if root else None


class _KeyRing:
    def __init__(self, api_key: Optional[str], base_url: Optional[str],
                 api_keys: Optional[Mapping[str, str]], provider: Optional[str],
                 allow_insecure: Optional[bool]) -> None:
        from ..config import _own_key

        # no key given: the configured one (%config Seedance.api_key)
        self.api_key = api_key if api_key is not None else _settings.secret()
        self.base_url = _norm(base_url) or None
        # A bare api_key belongs to the named provider, else to the configured one (with
        # none configured, to the real providers; never the emulator), never to all.
        self.owns = (lambda p: p == provider.lower()) if provider else _own_key
        self.api_keys = {_norm(k): v for k, v in (api_keys or {}).items()}
        self.allow_insecure = allow_insecure

    def settings_for(self, row: dict) -> Union[ClientSettings, str]:
        """Settings to contact this row's gateway with, or the reason not to contact it."""
        provider = row["provider"]
        if provider not in catalog.PROVIDERS:
            return f"unknown provider {provider!r}"
        emulate = (row.get("dialect") or "ark") if provider == "emulator" else None
        where = _norm(row.get("base_url"))
        if where and where in self.api_keys:
            key: Optional[str] = self.api_keys[where]
        elif where and where == self.base_url:
            key = self.api_key
        else:
            configured = _configured_base(provider, emulate or "ark")
            if where and where != configured:
                now = configured or ("none: SEEDANCE_EMULATOR_URL is not set and this kernel "
                                     "runs no emulator" if provider == "emulator" else "none")
                return (f"its base URL {where} is not the one configured for {provider} "
                        f"({now}), so the key is not sent there; if you trust it: "
                        f"seedance_nb.resume(api_keys={{{where!r}: KEY}})")
            where = configured or where
            key = self.api_key if self.owns(provider) and not self.base_url else None
        try:
            # the pure resolver: which key goes where was decided above
            return resolve_client(provider, key, where or None, emulate,
                                  allow_insecure=self.allow_insecure).started(
                                      _settings.emulator_speed)
        except SeedanceConfigError as exc:
            return str(exc)


# --- candidates for a lost create ---------------------------------------------------------

class _Lister:
    """Lists recent tasks once per gateway, for every lost create of this resume."""

    def __init__(self, led: Any) -> None:
        self.led = led
        self._transports: dict[tuple, Any] = {}
        self._listings: dict[tuple, list[Task]] = {}

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()

    def candidates(self, row: dict, settings: Union[ClientSettings, str]) -> Unresolved:
        if isinstance(settings, str):
            return Unresolved(row, note=f"not contacted: {settings}")
        from ..providers import get_dialect

        dialect = get_dialect(settings.provider, settings.emulate)
        model = row.get("model")
        call = dialect.list_recent_call(model, LIST_PAGE_SIZE) if model else None
        if call is None:
            return Unresolved(row, note=f"{settings.provider} cannot list tasks: look for it "
                                        f"in the provider's console")
        slot = (settings.key, model)
        if slot not in self._listings:
            try:
                self._listings[slot] = self._list(settings, dialect, call)
            except SeedanceError as exc:
                return Unresolved(row, note=f"could not list tasks: {exc}")
        known = self.led.task_ids(row["provider"])
        sent = row.get("sent_at") or row.get("created_at") or 0.0
        prompt = (row.get("request") or {}).get("prompt")
        found = []
        for task in self._listings[slot]:
            if not task.id or task.id in known or (task.model and task.model != model):
                continue
            if task.created_at is not None and not (
                    sent - CANDIDATE_BEFORE_S <= task.created_at <= sent + CANDIDATE_AFTER_S):
                continue
            matches = _prompt_matches(task, prompt)
            if matches is False:
                continue  # the listing shows another prompt: certainly not ours
            found.append(_candidate(task, matches))
        found.sort(key=lambda c: abs((c.created_at or sent) - sent))
        note = "" if found else "no task of that model was created around the time it was sent"
        return Unresolved(row, found, note)

    def _list(self, settings: ClientSettings, dialect: Any, call: Any) -> list[Task]:
        transport = self._transports.get(settings.key)
        if transport is None:
            from ..http import Transport

            transport = self._transports[settings.key] = Transport(settings, dialect)
        resp = transport.send(call)
        try:
            return list(dialect.parse_batch(resp.status_code, dict(resp.headers), resp.content))
        except ValueError as exc:
            raise SeedanceError(f"the task list could not be read: {exc}") from None


def _candidate(task: Task, matches: Optional[bool]) -> Candidate:
    return Candidate(task_id=task.id, model=task.model, created_at=task.created_at,
                     status=task.status, resolution=task.resolution, ratio=task.ratio,
                     duration=task.duration, frames=task.frames, seed=task.seed,
                     prompt_matches=matches)


def _prompt_matches(task: Task, prompt: Optional[str]) -> Optional[bool]:
    """True/False when the listed task carries its prompt; None when it does not."""
    raw = task.raw if isinstance(task.raw, dict) else {}
    content = raw.get("content")
    texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"] \
        if isinstance(content, list) else []
    if not prompt or not texts:
        return None
    return prompt in texts


# --- reattaching rows that have a task ----------------------------------------------------

def _reattach(mgr: JobManager, led: Any, row: dict, settings: ClientSettings) -> Job:
    provider = row["provider"]
    job = Job(settings=settings, ledger=led, ledger_id=row["id"], model=row.get("model"),
              name=row.get("name"), manager=mgr)
    job.task_id = row.get("task_id")
    job.tokens = row.get("tokens")
    job._t0 = row.get("created_at") or job._t0
    job._deadline = time.time() + _settings.wait_timeout
    status = row.get("status")
    if status == "succeeded":
        job.task = Task(id=row["task_id"], provider=provider, status="succeeded",
                        model=row.get("model"), video_url=row.get("video_url"),
                        last_frame_url=row.get("last_frame_url"),
                        url_expires_at=row.get("url_expires_at"), tokens=row.get("tokens"))
        job.status = "running"
        return mgr.add(job, "download")
    job.status = status or "queued"
    return mgr.add(job, "attach")


def _send_waiting(mgr: JobManager, led: Any, keys: "_KeyRing", live: dict,
                  report: ResumeReport) -> list[Job]:
    """Queue again the `waiting` rows of processes that died (never sent, so never billed):
    each request is built again from the ledger and sent as its budget frees."""
    from .admission import rebuild_request

    ready, jobs = [], []
    for row in led.waiting():
        if row["id"] in live:  # already queued in this process: it is part of the resume
            jobs.append(live[row["id"]])
            continue
        settings = keys.settings_for(row)
        if isinstance(settings, str):
            report.skipped.append(Skipped(row, settings))
            continue
        try:
            request = rebuild_request(row, settings)
        except (SeedanceError, OSError, ValueError) as exc:
            led.record_create_failed(row["id"], "NeverSent", f"recorded but never sent, and "
                                     f"it cannot be sent now: {exc}; nothing was billed")
            report.skipped.append(Skipped(row, f"not sent: {exc}"))
            continue
        ready.append((row, settings, request))
    taken = set(led.take_over([row["id"] for row, _, _ in ready]))  # a live owner keeps its own
    for row, settings, request in ready:
        if row["id"] not in taken:
            continue
        job = Job(settings=settings, request=request, ledger=led, ledger_id=row["id"],
                  name=row.get("name"), manager=mgr, deadline_s=_settings.wait_timeout,
                  output_dir=str(_settings.output_dir))
        job._fingerprint = row.get("fingerprint")
        job._t0 = row.get("created_at") or job._t0
        job._deadline = time.time() + _settings.wait_timeout
        job.status = "waiting"
        jobs.append(mgr.add(job, "create"))
    return jobs


def _close_unsent(led: Any) -> None:
    """Report requests a dead process recorded but never sent, once, and close them."""
    stale = [r for r in led.unsent() if r["status"] == "pending"
             and (r.get("created_at") or 0) < time.time() - UNSENT_GRACE_S]
    for row in stale:
        led.record_create_failed(row["id"], "NeverSent", "recorded but never sent (the process "
                                 "ended first); nothing was billed; submit it again to generate it")
    if stale:
        prompts = "; ".join(repr((r.get("request") or {}).get("prompt", "")[:40]) for r in stale)
        warnings.warn(f"{len(stale)} request(s) were recorded but never sent, so nothing was "
                      f"billed: {prompts}. Submit them again to generate them.", stacklevel=3)


# --- showing the report -------------------------------------------------------------------
