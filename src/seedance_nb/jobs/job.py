"""The Job object: one video generation, its traits and its outcome."""
from __future__ import annotations

import asyncio
import html
import logging
import os
import random
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

import traitlets

from .. import catalog
from ..config import ClientSettings, settings as _settings
from ..errors import SeedanceError, WaitTimeout, redact
from ..providers.base import Task

if TYPE_CHECKING:
    from .scheduler import JobManager

log = logging.getLogger("seedance_nb")

CRASH_ENV = "SEEDANCE_NB_CRASH_AT"
FIRST_CHECK_S = 1.5
JITTER = 0.10
NO_URL_POLLS = 3
DOWNLOAD_ROUNDS = 3
COMET_IN_FLIGHT = 4
WAIT_GRACE_S = 30.0
TERMINAL = frozenset(catalog.TERMINAL)
ENDED = catalog.JOB_ENDED


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
    """(interval, raised): the configured interval (default: about 1 s with the emulator,
    the §8 default with a gateway), raised to the §8 floor if below it."""
    value = float(_settings.effective_poll_interval(settings.is_emulator) if wanted is None
                  else wanted)
    floor = catalog.POLL_FLOOR_EMULATOR_S if settings.is_emulator else catalog.POLL_FLOOR_REAL_S
    return (floor, True) if value < floor else (value, False)


def _jittered(interval: float) -> float:
    return interval * random.uniform(1 - JITTER, 1 + JITTER)


def _file_ok(path: Optional[str], sha256: Optional[str]) -> bool:
    from ..media import file_sha256

    if not path or not os.path.isfile(path):
        return False
    return not sha256 or file_sha256(path) == sha256


class JobTraits(traitlets.HasTraits):
    """The observable state of a job, as cards and displays read it (`Job`, and a past
    job rebuilt from its ledger row, `ui.restore.PastJob`)."""

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
    joined = traitlets.Bool(False)  # follows a task another submit already started


class Job(JobTraits):
    """One video generation. Traits are updated from its lane's thread."""

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
                                          else _settings.wait_timeout)
        self._output_dir = output_dir or _settings.output_dir
        self._done = threading.Event()
        self._exc: Optional[BaseException] = None
        self._callbacks: list[Callable[[], None]] = []
        self._cb_lock = threading.Lock()
        self._ending = False
        # worker-owned state
        self._create_attempts = 0
        self._next_create_at = 0.0
        self._no_url_polls = 0
        self._download_failures = 0
        self._needs_download = False
        self._cancel_requested = False
        self._user_cancel = False  # the user asked: a cancelled end is not an error
        #: when the gateway deleted this task's record and files (job.delete()), or None
        self.deleted_at_gateway: Optional[float] = None
        self._sent_at: Optional[float] = None
        self._gateway_terminal: Optional[str] = None  # first terminal status the gateway sent
        self._watching = False  # following another process's unsent row in the ledger
        self._leader: Optional["Job"] = None  # the in-process job this one follows
        self._fingerprint: Optional[str] = None  # set by submit for the jobs it creates

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
        # No timeout: the scheduler ends the job at its deadline; the grace only guards
        # against a scheduler that has died without saying so.
        end = time.monotonic() + (timeout if timeout is not None
                                  else max(0.0, self._deadline - time.time()) + WAIT_GRACE_S)
        while not self._done.is_set():
            left = min(0.5, end - time.monotonic())
            if left <= 0:
                raise WaitTimeout(self.task_id or "(not created yet)", self.provider,
                                  timeout if timeout is not None else time.time() - self._t0)
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
        return self.wait(timeout=_settings.wait_timeout)

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
        """End the job once; a later end (a lane finishing after the deadline) is ignored."""
        with self._cb_lock:
            if self._done.is_set() or self._ending:
                return
            self._ending = True
        if exc is not None:
            self._exc = exc
            # A cancel the user asked for is an outcome, not an error: nothing shows red.
            neutral = status == "cancelled" and (self._user_cancel or self._cancel_requested)
            self.error = "" if neutral else redact(str(exc))
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
    def cancel(self, timeout: Optional[float] = None) -> Any:
        """Cancel the task at the gateway: ark and byteplus, while it is queued (§10.6).

        Sends one DELETE and waits up to `timeout` s (default 20) for the answer; returns
        an `Outcome` (`.ok` True cancelled, False refused with `.reason` in plain words,
        None no answer yet). A refusal is also kept in `job.warning`. A job not created
        yet is cancelled as soon as its create is answered. Raises ValueError when the
        job has ended and SeedanceConfigError where the gateway has no cancel route;
        then nothing is sent.
        """
        if self._leader is not None:
            return self._leader.cancel(timeout)
        from . import actions

        return actions.cancel(self, actions.REPLY_WAIT_S if timeout is None else timeout)

    def delete(self, timeout: Optional[float] = None) -> Any:
        """Delete a finished task (succeeded, failed or expired) at the gateway: its record
        and files there are gone, later reads are 404 (§10.6; ark and byteplus only).

        The local video file and the ledger row are kept. Waits up to `timeout` s
        (default 20) and returns an `Outcome` like `cancel`. Raises SeedanceError, and
        sends nothing, for a task still in flight, a cancelled one, or a gateway
        without a delete route.
        """
        if self._leader is not None:
            return self._leader.delete(timeout)
        from . import actions

        return actions.delete(self, actions.REPLY_WAIT_S if timeout is None else timeout)

    def final(self, *, watermark: Optional[bool] = None, wait: bool = False, **kw: Any) -> "Job":
        """Render this 2.5 draft's final video (1080p) as a new job (§3). Returns at once
        unless `wait`; asking twice reuses the same final."""
        request = self.request
        if not getattr(request, "draft", None):
            raise SeedanceError("final() is for drafts: submit with draft=True (--draft) first")
        if self.status != "succeeded" or not self.task_id:
            raise SeedanceError(f"draft {self.task_id or '(not created yet)'} is {self.status}; "
                                f"wait for it (job.wait() or await job) before its final")
        from .api import submit

        fields = dict(kw)
        if watermark is not None:
            fields["watermark"] = watermark
        job = submit(provider=self.settings.provider, api_key=self.settings.api_key or None,
                     base_url=self.settings.base_url, emulate=self.settings.emulate,
                     model=request.model, draft_task_id=self.task_id, **fields)
        return job.wait() if wait else job

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
        if self.joined:
            parts.append(f"already running as task {self.task_id}" if self.task_id
                         else "already being sent by another submit")
        if self.error:
            parts.append(f"error={self.error}")
        return redact(f"Job({self.provider}: " + ", ".join(parts) + ")")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = {"text/plain": self._text()}
        try:  # lazy: display pulls in Pillow/PyAV only when a poster is made
            from .. import display

            shown = display.job_bundle(self, embed=display.should_embed(_settings.embed))
            # the Job(...) repr stays the text view; HTML and the poster PNG come from display
            bundle.update({k: redact(v) for k, v in shown.items() if k != "text/plain"})
        except Exception:  # a path it cannot serve: a bare <video> when done
            if self.status == "succeeded" and self.video_path:
                src = html.escape(os.path.relpath(self.video_path), quote=True)
                bundle["text/html"] = f'<video src="{src}" controls playsinline></video>'
        return bundle
