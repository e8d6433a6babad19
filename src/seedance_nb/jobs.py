"""Background jobs: one worker thread per process owns all HTTP and polling (§8).

The caller's thread only validates, writes the intent to the ledger and
enqueues; it never waits on the network. The worker creates tasks, polls them
in batched rounds (one request per gateway per up to 500 Ark / 50 AceData
tasks; comet and comet-volc one GET per task, at most 4 in flight), downloads
results in the round that first sees success, and updates each `Job`'s traits.

Write-ahead order with the ledger: intent -> sending -> created (the id is
stored before anything else can fail) -> task changes -> files.
"""
from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import os
import queue
import random
import socket
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import traitlets

from . import catalog
from .config import ClientSettings, defaults, resolve_client
from .errors import (AuthError, CreateOutcomeUnknown, RateLimitError, SeedanceAPIError,
                     SeedanceConfigError, SeedanceError, TaskFailed, TaskNotFound, WaitTimeout,
                     redact)
from .providers.base import Task

log = logging.getLogger("seedance_nb")

CRASH_ENV = "SEEDANCE_NB_CRASH_AT"
FIRST_CHECK_S = 1.5
JITTER = 0.10
NO_URL_POLLS = 3
DOWNLOAD_ROUNDS = 3
COMET_IN_FLIGHT = 4
TERMINAL = frozenset(catalog.TERMINAL)
ENDED = TERMINAL | {"rejected", "unknown"}


def _crash_point(name: str) -> None:
    """Crash-test hook: die here, without cleanup, when SEEDANCE_NB_CRASH_AT names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os._exit(97)


_warned_words: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def _warn_word_once(provider: str, word: str) -> Optional[str]:
    """The warning text the first time (provider, word) is seen, else None."""
    with _warned_lock:
        if (provider, word) in _warned_words:
            return None
        _warned_words.add((provider, word))
    return (f"{provider} reported an unknown status word {word!r}; treating it as running")


def poll_interval(settings: ClientSettings, wanted: Optional[float] = None) -> tuple[float, bool]:
    """(interval, raised): the configured interval, raised to the §8 floor if below it."""
    value = float(defaults.poll_interval if wanted is None else wanted)
    floor = catalog.POLL_FLOOR_EMULATOR_S if settings.is_emulator else catalog.POLL_FLOOR_REAL_S
    return (floor, True) if value < floor else (value, False)


def _jittered(interval: float) -> float:
    return interval * random.uniform(1 - JITTER, 1 + JITTER)


def _file_ok(path: Optional[str], sha256: Optional[str]) -> bool:
    from .media import file_sha256

    if not path or not os.path.isfile(path):
        return False
    return not sha256 or file_sha256(path) == sha256


class Job(traitlets.HasTraits):
    """One video generation. Traits are updated from the worker thread."""

    status = traitlets.Unicode("pending")
    progress = traitlets.Int(None, allow_none=True)
    elapsed = traitlets.Float(0.0)
    error = traitlets.Unicode("")
    warning = traitlets.Unicode("")
    video_path = traitlets.Unicode(None, allow_none=True)
    last_frame_path = traitlets.Unicode(None, allow_none=True)
    tokens = traitlets.Int(None, allow_none=True)
    task_id = traitlets.Unicode(None, allow_none=True)
    reused = traitlets.Bool(False)

    def __init__(self, *, settings: ClientSettings, request: Any = None, name: Optional[str] = None,
                 ledger: Any = None, ledger_id: Optional[int] = None, model: Optional[str] = None,
                 manager: Optional["JobManager"] = None, deadline_s: Optional[float] = None,
                 output_dir: Optional[str] = None) -> None:
        super().__init__()
        self.settings = settings
        self.provider = settings.provider
        self.request = request
        self.name = name
        self.model = model or getattr(request, "model", None)
        self.ledger = ledger
        self.ledger_id = ledger_id
        self.task: Optional[Task] = None
        self._manager = manager
        self._t0 = time.time()
        self._deadline = self._t0 + float(deadline_s if deadline_s is not None
                                          else defaults.wait_timeout)
        self._output_dir = output_dir or defaults.output_dir
        self._done = threading.Event()
        self._exc: Optional[BaseException] = None
        self._callbacks: list[Callable[[], None]] = []
        self._cb_lock = threading.Lock()
        # worker-owned state
        self._create_attempts = 0
        self._next_create_at = 0.0
        self._no_url_polls = 0
        self._download_failures = 0
        self._needs_download = False
        self._cancel_requested = False
        self._sent_at: Optional[float] = None

    def __repr__(self) -> str:
        return self._text()

    # --- outcome -------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def exception(self) -> Optional[BaseException]:
        return self._exc

    def _outcome(self) -> "Job":
        if self._exc is not None:
            raise self._exc
        return self

    def wait(self, timeout: Optional[float] = None) -> "Job":
        """Block until the job ends; raise its error (TaskFailed, WaitTimeout, ...)."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._done.is_set():
            left = 0.5 if end is None else min(0.5, end - time.monotonic())
            if left <= 0:
                raise WaitTimeout(self.task_id or "(not created yet)", self.provider,
                                  timeout or 0.0)
            if self._done.wait(left):
                break
            mgr = self._manager
            if mgr is not None and not mgr.alive:
                raise SeedanceError(
                    "the job manager stopped before this job ended; it is kept in the ledger: "
                    "resume with seedance_nb.resume()")
        return self._outcome()

    def result(self) -> "Job":
        """Like wait() with the default deadline."""
        return self.wait(timeout=defaults.wait_timeout)

    def _add_done_callback(self, fn: Callable[[], None]) -> None:
        with self._cb_lock:
            if not self._done.is_set():
                self._callbacks.append(fn)
                return
        fn()

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._await().__await__()

    async def _await(self) -> "Job":
        if not self._done.is_set():
            loop = asyncio.get_running_loop()
            fut = loop.create_future()

            def wake() -> None:
                loop.call_soon_threadsafe(lambda: fut.done() or fut.set_result(None))

            self._add_done_callback(wake)
            await fut
        return self._outcome()

    def _finish(self, status: Optional[str] = None, exc: Optional[BaseException] = None) -> None:
        if exc is not None:
            self._exc = exc
            self.error = redact(str(exc))
        if status is not None:
            self.status = status
        self.elapsed = round(time.time() - self._t0, 3)
        with self._cb_lock:
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for fn in callbacks:
            try:
                fn()
            except Exception:  # a listener must not break the worker
                log.exception("job done-callback failed")

    # --- actions -------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the gateway to cancel (ark/byteplus only). Returns at once."""
        if self.status in TERMINAL or self.status in ("rejected", "unknown"):
            raise ValueError(f"job {self.task_id or ''} already ended ({self.status}); "
                             f"nothing to cancel".replace("  ", " "))
        from .providers import get_dialect

        if not get_dialect(self.settings.provider, self.settings.emulate).can_cancel:
            raise SeedanceConfigError(
                f"cancel is not available on {self.settings.dialect}: only ark and byteplus "
                f"can cancel a task; it will run to the end")
        mgr = self._manager or manager()
        mgr._put(("cancel", self))

    # --- display -------------------------------------------------------------------
    def _text(self) -> str:
        seed = getattr(self.task, "seed", None)
        parts = [f"id={self.task_id or '-'}", f"model={self.model or '-'}",
                 f"status={self.status}"]
        if self.video_path:
            parts.append(f"path={self.video_path}")
        if seed is not None:
            parts.append(f"seed={seed}")
        if self.tokens is not None:
            parts.append(f"tokens={self.tokens}")
        if self.reused:
            parts.append("reused")
        if self.error:
            parts.append(f"error={self.error}")
        return redact(f"Job({self.provider}: " + ", ".join(parts) + ")")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = {"text/plain": self._text()}
        if self.status == "succeeded" and self.video_path:
            try:
                from .display import video_html

                bundle["text/html"] = video_html(self.video_path)
            except Exception:  # no display module, or a path it cannot serve
                src = html.escape(os.path.relpath(self.video_path), quote=True)
                bundle["text/html"] = f'<video src="{src}" controls playsinline></video>'
        return bundle


@dataclasses.dataclass
class _Conn:
    """One gateway setting: its transport, dialect and the jobs it polls."""

    settings: ClientSettings
    transport: Any
    dialect: Any
    jobs: list = dataclasses.field(default_factory=list)
    next_round_at: float = float("inf")


@dataclasses.dataclass
class RoundStat:
    at: float
    provider: str
    jobs: int
    requests: int


class JobManager:
    """The process-wide worker: one thread runs creates, polls, cancels and downloads."""

    def __init__(self, *, ledger: Any = None, transport_factory: Any = None) -> None:
        self.jobs: list[Job] = []
        self.rounds: list[RoundStat] = []
        self._fixed_ledger = ledger
        self._ledgers: dict[str, Any] = {}
        self._transport_factory = transport_factory
        self._cmds: queue.Queue = queue.Queue()
        self._conns: dict[tuple, _Conn] = {}
        self._creating: list[Job] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._pool = ThreadPoolExecutor(COMET_IN_FLIGHT, thread_name_prefix="seedance-nb-io")
        self._dl_session: Any = None
        self._blocking: Optional[ThreadPoolExecutor] = None
        self._thread = threading.Thread(target=self._run, name="seedance-nb-worker", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        active = sum(1 for j in self.jobs if not j.done)
        return f"JobManager(jobs={len(self.jobs)}, active={active}, alive={self.alive})"

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self._stopping.is_set()

    # --- caller-side API -----------------------------------------------------------
    def ledger(self, path: Any = None) -> Any:
        if self._fixed_ledger is not None:
            return self._fixed_ledger
        from .ledger import Ledger, default_path

        target = str(Path(path or default_path()).expanduser().resolve())
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
        job._manager = self
        with self._lock:
            self.jobs.append(job)
        self._put((action, job))
        return job

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker. Unfinished jobs stay in the ledger for resume()."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._cmds.put(("stop", None))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._blocking is not None:
            self._blocking.shutdown(wait=False, cancel_futures=True)

    # --- worker --------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                cmd = self._cmds.get(timeout=self._sleep_for())
                self._handle(cmd)
                while True:
                    self._handle(self._cmds.get_nowait())
            except queue.Empty:
                pass
            except Exception:  # keep the worker alive whatever happens
                log.exception("seedance-nb worker error")
            if self._stopping.is_set():
                break
            try:
                self._tick()
            except Exception:
                log.exception("seedance-nb worker error")
        for conn in self._conns.values():
            conn.transport.close()

    def _sleep_for(self) -> float:
        now = time.time()
        due = [j._next_create_at for j in self._creating]
        due += [c.next_round_at for c in self._conns.values() if c.jobs]
        if not due:
            return 0.5
        return max(0.0, min(0.5, min(due) - now))

    def _handle(self, cmd: tuple) -> None:
        action, job = cmd
        if action == "stop":
            self._stopping.set()
        elif action == "create":
            self._creating.append(job)
        elif action == "attach":
            self._attach(job)
        elif action == "download":
            job._needs_download = True
            self._attach(job, soon=0.0)
        elif action == "reconcile":
            self._reconcile(job)
        elif action == "cancel":
            self._cancel(job)
        elif action == "created":
            created, outcome = job
            self._created(self._conn(created.settings), created, outcome)

    def _tick(self) -> None:
        now = time.time()
        for job in [j for j in self._creating if j._next_create_at <= now]:
            if self._stopping.is_set():
                return
            self._creating.remove(job)
            self._create(job)
        for conn in list(self._conns.values()):
            if conn.jobs and time.time() >= conn.next_round_at and not self._stopping.is_set():
                self._round(conn)

    def _conn(self, settings: ClientSettings) -> _Conn:
        conn = self._conns.get(settings.key)
        if conn is None:
            from .providers import get_dialect

            dialect = get_dialect(settings.provider, settings.emulate)
            if self._transport_factory is not None:
                transport = self._transport_factory(settings, dialect)
            else:
                from .http import Transport

                transport = Transport(settings, dialect)
            conn = self._conns[settings.key] = _Conn(settings, transport, dialect)
        return conn

    def _attach(self, job: Job, soon: Optional[float] = None) -> None:
        conn = self._conn(job.settings)
        if job not in conn.jobs:
            conn.jobs.append(job)
        interval, _ = poll_interval(job.settings)
        first = min(FIRST_CHECK_S, interval) if soon is None else soon
        conn.next_round_at = min(conn.next_round_at, time.time() + first)

    def _detach(self, job: Job) -> None:
        conn = self._conns.get(job.settings.key)
        if conn is not None and job in conn.jobs:
            conn.jobs.remove(job)

    # --- create --------------------------------------------------------------------
    def _create(self, job: Job) -> None:
        conn = self._conn(job.settings)
        led, row = job.ledger, job.ledger_id
        try:
            call = conn.dialect.create_call(job.request)
        except (ValueError, SeedanceError) as exc:
            led.record_create_failed(row, "InvalidRequest", str(exc))
            job._finish("rejected", exc if isinstance(exc, SeedanceError)
                        else SeedanceError(str(exc)))
            return
        led.mark_sending(row)
        job._sent_at = job._sent_at or time.time()
        if call.timeout is not None:
            # A blocking create is held open until the video is done: send it from a
            # side thread so every other job keeps being polled meanwhile.
            if self._blocking is None:
                self._blocking = ThreadPoolExecutor(4, thread_name_prefix="seedance-nb-create")
            fut = self._blocking.submit(self._send_create, conn, job, call)
            fut.add_done_callback(lambda f: self._cmds.put(("created", (job, f.result()))))
            return
        self._created(conn, job, self._send_create(conn, job, call))

    @staticmethod
    def _send_create(conn: _Conn, job: Job, call: Any) -> tuple[Any, Optional[Exception]]:
        try:
            return conn.transport.create(call, retry_429=False,
                                         attempt=job._create_attempts), None
        except Exception as exc:  # noqa: BLE001 - every outcome reaches the job
            if not isinstance(exc, SeedanceError):
                exc = SeedanceError(f"create failed in the client: {type(exc).__name__}: {exc}")
            return None, exc

    def _created(self, conn: _Conn, job: Job, outcome: tuple[Any, Optional[Exception]]) -> None:
        from .http import CREATE_RETRIES, create_delay

        result, exc = outcome
        led, row = job.ledger, job.ledger_id
        if isinstance(exc, RateLimitError) and job._create_attempts < CREATE_RETRIES:
            delay = create_delay(job._create_attempts, exc.retry_after)
            job._create_attempts += 1
            job._next_create_at = time.time() + delay
            self._creating.append(job)
            log.info("create rate-limited by %s; retry %d in %.1f s", job.provider,
                     job._create_attempts, delay)
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
        led.record_created(row, result.task_id, result.upstream_id)
        _crash_point("after_id")
        job.task_id = result.task_id
        job.status = "queued"
        self._attach(job)
        if result.task is not None:
            self._apply(conn, job, result.task)
            self._download_due(conn, [job] if job._needs_download else [])
        if job._cancel_requested and not job.done:
            self._cancel(job)

    # --- polling -------------------------------------------------------------------
    def _round(self, conn: _Conn) -> None:
        now = time.time()
        live = []
        for job in list(conn.jobs):
            if job.done:
                conn.jobs.remove(job)
            elif now > job._deadline:
                conn.jobs.remove(job)
                job._finish(None, WaitTimeout(job.task_id or "?", job.provider, now - job._t0))
            else:
                job.elapsed = round(now - job._t0, 3)
                live.append(job)
        poll = [j for j in live if not j._needs_download and j.task_id]
        before = conn.transport.counts["total"]
        if poll:
            if conn.dialect.batch_size:
                self._poll_batched(conn, poll)
            else:
                self._poll_single(conn, poll)
            self.rounds.append(RoundStat(now, conn.settings.provider, len(poll),
                                         conn.transport.counts["total"] - before))
        self._download_due(conn, [j for j in live if j._needs_download and not j.done])
        conn.jobs = [j for j in conn.jobs if not j.done]
        interval, _ = poll_interval(conn.settings)
        conn.next_round_at = time.time() + _jittered(interval) if conn.jobs else float("inf")

    def _poll_batched(self, conn: _Conn, jobs: list[Job]) -> None:
        size = conn.dialect.batch_size
        for start in range(0, len(jobs), size):
            chunk = jobs[start:start + size]
            call = conn.dialect.batch_call([j.task_id for j in chunk])
            try:
                resp = conn.transport.send(call)
                tasks = conn.dialect.parse_batch(resp.status_code, dict(resp.headers),
                                                 resp.content)
            except SeedanceAPIError as exc:
                if self._fatal(exc):
                    for job in chunk:
                        self._read_failed(job, exc)
                else:
                    log.info("batch read on %s failed (%s); next round", conn.settings.provider,
                             exc)
                continue
            by_id = {t.id: t for t in tasks}
            for job in chunk:
                task = by_id.get(job.task_id)
                if task is None:
                    task = self._get_one(conn, job)  # missing from the batch: once, singly
                if task is not None:
                    self._apply(conn, job, task)

    def _poll_single(self, conn: _Conn, jobs: list[Job]) -> None:
        results = list(self._pool.map(lambda j: self._fetch(conn, j), jobs))
        for job, (task, exc) in zip(jobs, results):
            if exc is not None:
                self._read_error(job, exc)
            elif task is not None:
                self._apply(conn, job, task)

    def _fetch(self, conn: _Conn, job: Job) -> tuple[Optional[Task], Optional[Exception]]:
        try:
            resp = conn.transport.send(conn.dialect.get_call(job.task_id))
            return conn.dialect.parse_task(resp.status_code, dict(resp.headers),
                                           resp.content), None
        except SeedanceAPIError as exc:
            return None, exc

    def _get_one(self, conn: _Conn, job: Job) -> Optional[Task]:
        task, exc = self._fetch(conn, job)
        if exc is not None:
            self._read_error(job, exc)
        return task

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
        elif self._fatal(exc):
            self._read_failed(job, exc)
        else:
            log.info("read of %s on %s failed (%s); next round", job.task_id, job.provider, exc)

    def _read_failed(self, job: Job, exc: SeedanceAPIError) -> None:
        # The task itself is untouched and stays in the ledger; only this client stops.
        self._detach(job)
        job._finish(None, exc)

    def _apply(self, conn: _Conn, job: Job, task: Task) -> None:
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
        job.task = task
        # Persist state changes, not progress ticks: a durable SQLite write per Comet
        # poll would cost more than the poll itself.
        if old is None or (old.status, old.tokens, old.video_url) != \
                (task.status, task.tokens, task.video_url):
            job.ledger.record_task(job.ledger_id, task)
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

    # --- downloads -----------------------------------------------------------------
    def _session(self) -> Any:
        if self._dl_session is None:
            import requests

            from .http import USER_AGENT

            # A separate session without the bearer key: file URLs are on other hosts.
            self._dl_session = requests.Session()
            self._dl_session.headers["User-Agent"] = USER_AGENT
        return self._dl_session

    def _download_due(self, conn: _Conn, jobs: list[Job]) -> None:
        if not jobs:
            return
        results = list(self._pool.map(self._download, jobs))
        for job, (files, exc) in zip(jobs, results):
            for kind, path in files.items():
                setattr(job, "video_path" if kind == "video" else "last_frame_path", path)
            if exc is None and "video" in files:
                job._needs_download = False
                self._detach(job)
                job._finish("succeeded")
                continue
            if exc is None:
                continue  # another process holds the claim: look again next round
            job._download_failures += 1
            if getattr(exc, "expired", False) or job._download_failures >= DOWNLOAD_ROUNDS:
                self._detach(job)
                job._finish("succeeded", exc)
            else:
                log.info("download for %s failed (%s); next round", job.task_id, exc)

    def _download(self, job: Job) -> tuple[dict, Optional[BaseException]]:
        from . import media

        task, led, row = job.task, job.ledger, job.ledger_id
        files: dict[str, str] = {}
        if task is None or not task.video_url:
            return files, SeedanceError("no video URL to download")
        for kind, url in (("video", task.video_url), ("last_frame", task.last_frame_url)):
            if not url:
                continue
            current = led.get(row) or {}
            recorded = current.get(f"{kind}_path")
            if _file_ok(recorded, current.get(f"{kind}_sha256")):
                files[kind] = recorded
                continue
            if not led.claim_download(row, kind, self._owner):
                return files, None
            dest = Path(job._output_dir) / media.output_name(job.provider, task.id, kind)
            try:
                got = media.download(url, dest, session=self._session(),
                                     expires_at=task.url_expires_at)
            except Exception as exc:  # noqa: BLE001 - reported on the job, never lost
                led.release_claim(row, kind, self._owner)
                if not isinstance(exc, SeedanceError) and not hasattr(exc, "expired"):
                    exc = SeedanceError(f"download of {kind} failed: {exc}")
                return files, exc
            led.record_file(row, kind, got.path, got.sha256, got.size)
            files[kind] = str(got.path)
        return files, None

    # --- cancel and reconcile ------------------------------------------------------
    def _cancel(self, job: Job) -> None:
        if job.done:
            return
        if not job.task_id:
            job._cancel_requested = True
            return
        conn = self._conn(job.settings)
        call = conn.dialect.cancel_call(job.task_id)
        if call is None:
            job.warning = f"{job.provider} cannot cancel tasks"
            return
        try:
            conn.transport.send(call)
        except SeedanceAPIError as exc:
            job.warning = redact(f"cancel refused: {exc}")
            log.warning("cancel of %s refused: %s", job.task_id, exc)
            return
        self._attach(job, soon=0.0)  # read the new state at once

    def _reconcile(self, job: Job) -> None:
        """A create whose outcome is unknown: find its task where the gateway can list."""
        conn = self._conn(job.settings)
        row = job.ledger.get(job.ledger_id) or {}
        call = conn.dialect.list_recent_call(job.model, 20) if job.model else None
        if call is None:
            job.status = "unknown"
            job._finish("unknown", CreateOutcomeUnknown(
                f"a create sent to {job.provider} at {_clock(row.get('sent_at'))} got no "
                f"answer and {job.provider} cannot list tasks to find it; look in the "
                f"provider's console", provider=job.provider))
            return
        try:
            resp = conn.transport.send(call)
            tasks = conn.dialect.parse_batch(resp.status_code, dict(resp.headers), resp.content)
        except SeedanceAPIError as exc:
            job._finish("unknown", exc)
            return
        known = job.ledger.task_ids(job.provider) if hasattr(job.ledger, "task_ids") else set()
        sent = row.get("sent_at") or row.get("created_at") or 0.0
        prompt = (row.get("request") or {}).get("prompt") if isinstance(row.get("request"),
                                                                         dict) else None
        found = [t for t in tasks
                 if t.id not in known and (t.model is None or t.model == job.model)
                 and (t.created_at is None or int(sent) - 1 <= t.created_at <= sent + 70)
                 and _prompt_matches(t, prompt)]
        if len(found) == 1:
            job.ledger.record_created(job.ledger_id, found[0].id)
            job.task_id = found[0].id
            job.status = "queued"
            self._apply(conn, job, found[0])
            if not job.done:
                self._attach(job, soon=0.0)
            return
        if row.get("status") == "pending":
            job.ledger.record_outcome_unknown(job.ledger_id, "create outcome unknown")
        job._finish("unknown", CreateOutcomeUnknown(
            f"a create sent at {_clock(sent)} got no answer; "
            + ("no matching task was found" if not found else
               f"{len(found)} tasks could be it"),
            orphans=[t.id for t in found], provider=job.provider))


def _clock(ts: Optional[float]) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "an unknown time"


def _prompt_matches(task: Task, prompt: Optional[str]) -> bool:
    """Match on the prompt when the listed task carries its content; else do not exclude."""
    raw = task.raw if isinstance(task.raw, dict) else {}
    content = raw.get("content")
    texts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"] \
        if isinstance(content, list) else []
    if not prompt or not texts:
        return True
    return prompt in texts


# --- the process-wide manager and the public functions --------------------------------

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
           timeout: Optional[float] = None, **fields: Any) -> Job:
    """Validate, record the intent and hand the job to the worker; returns at once."""
    from .request import build_request

    settings = resolve_client(provider, api_key, base_url, emulate, endpoints)
    if settings.provider == "emulator" and (provider or defaults.provider) is None:
        _emulator_notice()
    request = build_request(prompt, provider=settings.provider, model=model or defaults.model,
                            images=images, emulate=settings.emulate,
                            endpoints=dict(settings.endpoints) or None, **fields)
    interval, raised = poll_interval(settings)
    if raised and settings.provider not in _floor_warned:
        _floor_warned.add(settings.provider)
        text = (f"poll interval {defaults.poll_interval} s is below the floor for "
                f"{settings.provider}; using {interval} s")
        warnings.warn(text, stacklevel=2)
        log.warning(text)
    mgr = manager()
    led = mgr.ledger()
    fingerprint = request.fingerprint()
    deadline = timeout if timeout is not None else defaults.wait_timeout
    job_kw = dict(settings=settings, request=request, name=name, ledger=led, manager=mgr,
                  deadline_s=deadline, output_dir=str(defaults.output_dir))
    if not new:
        reused = _reuse(led, fingerprint, job_kw)
        if reused is not None:
            with mgr._lock:
                mgr.jobs.append(reused)
            if reused._needs_download:
                mgr._put(("download", reused))
            return reused
    row = led.record_intent(fingerprint=fingerprint, provider=settings.provider,
                            dialect=settings.dialect, model=request.model,
                            base_url=settings.base_url, request=request, name=name)
    _crash_point("after_intent")
    job = Job(ledger_id=row, **job_kw)
    if request.warnings:
        job.warning = "; ".join(request.warnings)
    return mgr.add(job, "create")


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


def generate(prompt: str = "", *, timeout: Optional[float] = None, **kwargs: Any) -> Job:
    """Submit and block until the job ends; raises TaskFailed on failure."""
    job = submit(prompt, timeout=timeout, **kwargs)
    return job.wait()


def wait_all(jobs: Optional[Iterable[Job]] = None, timeout: Optional[float] = None) -> list[Job]:
    """Wait for every job (default: all of this process); errors stay on the jobs."""
    items = list(jobs) if jobs is not None else list(manager().jobs)
    end = None if timeout is None else time.monotonic() + timeout
    for job in items:
        left = None if end is None else max(0.0, end - time.monotonic())
        try:
            job.wait(left)
        except WaitTimeout:
            if end is not None and time.monotonic() >= end:
                raise
        except SeedanceError:
            pass
    return items


def resume(*, api_key: Optional[str] = None, ledger_path: Any = None) -> list[Job]:
    """Reattach every unfinished ledger row: poll it to the end and download its files."""
    mgr = manager()
    led = mgr.ledger(ledger_path)
    live = {j.ledger_id: j for j in mgr.jobs if j.ledger is led and not j.done}
    out: list[Job] = []
    for row in led.inflight():
        if row["id"] in live:
            out.append(live[row["id"]])
            continue
        out.append(_resume_row(mgr, led, row, api_key))
    _close_unsent(led)
    return out


UNSENT_GRACE_S = 3600.0  # younger unsent rows may belong to a live submit in another kernel


def _close_unsent(led: Any) -> None:
    """Report requests a dead process recorded but never sent, once, and close them."""
    stale = [r for r in led.unsent() if (r.get("created_at") or 0) < time.time() - UNSENT_GRACE_S]
    for row in stale:
        led.record_create_failed(row["id"], "NeverSent", "recorded but never sent (the process "
                                 "ended first); nothing was billed; submit it again to generate it")
    if stale:
        prompts = "; ".join(repr((r.get("request") or {}).get("prompt", "")[:40]) for r in stale)
        warnings.warn(f"{len(stale)} request(s) were recorded but never sent, so nothing was "
                      f"billed: {prompts}. Submit them again to generate them.", stacklevel=3)


def _resume_row(mgr: JobManager, led: Any, row: dict, api_key: Optional[str]) -> Job:
    provider = row["provider"]
    try:
        settings = resolve_client(provider, api_key, row.get("base_url"),
                                  row.get("dialect") if provider == "emulator" else None)
    except SeedanceConfigError as exc:
        settings = ClientSettings(provider=provider, dialect=row.get("dialect") or provider,
                                  api_key="", base_url=row.get("base_url") or "")
        job = Job(settings=settings, ledger=led, ledger_id=row["id"], model=row.get("model"),
                  name=row.get("name"), manager=mgr)
        job.task_id = row.get("task_id")
        job._finish(row.get("status"), exc)
        return job
    job = Job(settings=settings, ledger=led, ledger_id=row["id"], model=row.get("model"),
              name=row.get("name"), manager=mgr)
    job.task_id = row.get("task_id")
    job.tokens = row.get("tokens")
    job._t0 = row.get("created_at") or job._t0
    job._deadline = time.time() + defaults.wait_timeout
    status = row.get("status")
    if status == "succeeded":
        job.task = Task(id=row["task_id"], provider=provider, status="succeeded",
                        model=row.get("model"), video_url=row.get("video_url"),
                        last_frame_url=row.get("last_frame_url"),
                        url_expires_at=row.get("url_expires_at"), tokens=row.get("tokens"))
        job.status = "running"
        return mgr.add(job, "download")
    if row.get("task_id"):
        job.status = status or "queued"
        return mgr.add(job, "attach")
    job.status = "unknown"
    return mgr.add(job, "reconcile")
