"""Tasks, lifecycle, limits and retention (reference §10.4, §10.8, §10.9).

All state lives in memory under one lock. `tick()` advances every task from
wall-clock timestamps; it runs on each request and on a background thread, so a
read always sees the state the timestamps imply. Emulated spans are divided by
`speed`; Retry-After and callback timing are real seconds.

Each route prefix is its own gateway: RPM windows are kept per (token, prefix,
model) and concurrency slots per (token, prefix, family). The queued cap counts
a token's queued tasks on every prefix.
"""
from __future__ import annotations

import math
import random
import secrets
import string
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .. import catalog
from .envelopes import EmuError, rate_limited, unknown_task
from .renders import Renderer
from .validate import REF_VIDEO_S, Params

DAY = 86400.0
RETENTION_S = 7 * DAY
MIN_QUEUED_S = 2.0
READ_TICK_GAP_S = 0.002  # reads see state at most 2 ms old
FAIL_CODE = "OutputVideoSensitiveContentDetected.PolicyViolation"
_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def default_rpm(family: str) -> int:
    return 300 if family.startswith("1.0-lite") else 600


def default_concurrency(family: str) -> int:
    return 5 if family.startswith("1.0-lite") else 10


@dataclass
class Settings:
    speed: float = 1.0
    tokens: tuple[str, ...] = (catalog.EMULATOR_DEFAULT_TOKEN,)
    comet_status_case: str = "upper"
    run_seconds: Optional[float] = None  # None -> 30 + 10 x video seconds
    rpm: dict[str, int] = field(default_factory=dict)
    concurrency: dict[str, int] = field(default_factory=dict)
    max_queued: int = 120
    endpoints: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = catalog.MAX_BODY_BYTES
    #: False when the families come from a catalog file that only the serving process loads
    check_families: bool = True

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"--speed must be > 0, got {self.speed}")
        if self.comet_status_case not in ("upper", "lower"):
            raise ValueError("--comet-status-case must be upper or lower")
        if self.run_seconds is not None and self.run_seconds < 0:
            raise ValueError("--run-seconds must be >= 0")
        if self.max_queued < 0:
            raise ValueError("--max-queued must be >= 0")
        if self.max_body_bytes < 1:
            raise ValueError("--max-body-bytes must be >= 1")
        for opt, table in (("--rpm", self.rpm), ("--concurrency", self.concurrency),
                           ("--endpoint", {v: 1 for v in self.endpoints.values()})):
            for fam, n in table.items():
                if self.check_families and fam not in catalog.FAMILIES:
                    raise ValueError(f"{opt}: unknown family {fam!r}; use one of "
                                     f"{', '.join(catalog.FAMILIES)}")
                if n < 1:
                    raise ValueError(f"{opt}: {fam} limit must be >= 1")
        for ep in self.endpoints:
            if not ep.startswith("ep-"):
                raise ValueError(f"--endpoint ids start with 'ep-', got {ep!r}")


@dataclass(eq=False)
class Task:
    id: str
    prefix: str  # ark | comet | volc | ace
    token: str
    params: Params
    base_url: str  # scheme://host of the create request, for file URLs
    created: float
    seed: int
    width: int
    height: int
    n_frames: int
    tokens: int
    marker: Optional[str]  # "fail" | "stall" | None
    run_s: float  # real seconds of running
    expires_s: float  # real seconds from created to expiry
    status: str = "queued"
    started: Optional[float] = None
    finished: Optional[float] = None
    updated: float = 0.0
    cancelled_at: Optional[float] = None
    error: Optional[dict] = None
    render_key: Optional[str] = None
    files: dict = field(default_factory=dict)  # "video"/"png" -> path, set on success
    trace_id: str = ""  # ace
    upstream_id: str = ""  # ace data.task_id
    request: Any = None  # ace record's `request`

    def progress(self, now: float) -> int:
        if self.status == "queued":
            return 0
        if self.status == "succeeded":
            return 100
        if self.started is None:
            return 0
        span = (self.finished or now) - self.started
        return max(0, min(99, int(100 * span / self.run_s))) if self.run_s > 0 else 99


def video_name(task: Task) -> str:
    """The served file name of a task's video: `<id>.mp4`, or `<id>.mov` (2.5 mov)."""
    return f"{task.id}.{task.params.output_format}"


def ark_id() -> str:
    return ("cgt-" + time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-"
            + "".join(secrets.choice(_ALNUM_LOWER) for _ in range(5)))


def new_id(prefix: str) -> str:
    if prefix == "ark":
        return ark_id()
    if prefix == "comet":
        return "task_" + "".join(secrets.choice(_ALNUM) for _ in range(24))
    if prefix == "volc":
        return "02" + str(int(time.time() * 1000)) + "".join(
            secrets.choice(string.digits) for _ in range(10))
    return str(uuid.uuid4())


class Store:
    def __init__(self, settings: Settings, renderer: Renderer,
                 on_change: Callable[[Task, str], None] = lambda t, s: None) -> None:
        self.s = settings
        self.renderer = renderer
        self.on_change = on_change
        self.cond = threading.Condition()
        self.tasks: dict[tuple[str, str], Task] = {}  # insertion order = FIFO order
        self.files: dict[str, tuple[Task, str]] = {}  # "<id>.mp4" -> (task, kind)
        self._rpm: dict[tuple[str, str, str], deque] = {}
        self.accepted: dict[str, int] = {"ark": 0, "comet": 0, "volc": 0, "ace": 0}
        self.max_queued = 0  # most queued tasks one token had at once (stats)
        self.refused = {"rpm": 0, "queued": 0}  # creates answered 429, by limit (stats)
        self._last_tick = 0.0
        self.started = time.time()

    # --- spans --------------------------------------------------------------
    def scaled(self, seconds: float) -> float:
        return seconds / self.s.speed

    def _limit(self, table: dict[str, int], family: str, default: Callable[[str], int]) -> int:
        return table.get(family, default(family))

    # --- create ---------------------------------------------------------------
    def create(self, prefix: str, token: str, params: Params, base_url: str,
               spec_factory: Callable[[Task], Any], request: Any = None) -> Task:
        now = time.time()
        with self.cond:
            self._tick_locked(now, [])
            window = self.scaled(60.0)
            hits = self._rpm.setdefault((token, prefix, params.model), deque())  # per gateway
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= self._limit(self.s.rpm, params.family, default_rpm):
                self.refused["rpm"] += 1
                raise rate_limited(prefix, max(1, math.ceil(hits[0] + window - now)))
            queued = sum(1 for t in self.tasks.values() if t.token == token and t.status == "queued")
            if queued >= self.s.max_queued:
                self.refused["queued"] += 1
                raise rate_limited(prefix, 0, queued_cap=True)
            self.max_queued = max(self.max_queued, queued + 1)
            hits.append(now)
            task_id = new_id(prefix)
            while (prefix, task_id) in self.tasks:
                task_id = new_id(prefix)
            width, height = params.width, params.height
            n_frames = catalog.frame_count(params.duration, params.frames)
            # reference videos are never fetched: each counts as REF_VIDEO_S s (§10.5)
            ref_tokens = params.ref_videos * catalog.video_tokens(
                width, height, catalog.FPS * REF_VIDEO_S)
            seed = params.seed if params.seed not in (None, -1) else random.randint(0, catalog.SEED_MAX)
            marker = ("fail" if "[emu:fail]" in params.prompt else
                      "stall" if "[emu:stall]" in params.prompt else None)
            video_s = n_frames / catalog.FPS if params.frames else params.duration
            run = self.s.run_seconds if self.s.run_seconds is not None else 30 + 10 * video_s
            task = Task(id=task_id, prefix=prefix, token=token, params=params,
                        base_url=base_url, created=now, updated=now, seed=seed, width=width,
                        height=height, n_frames=n_frames,
                        tokens=catalog.video_tokens(width, height, n_frames) + ref_tokens,
                        marker=marker,
                        run_s=self.scaled(run),
                        expires_s=self.scaled(params.execution_expires_after), request=request)
            if prefix == "ace":
                task.trace_id, task.upstream_id = str(uuid.uuid4()), ark_id()
            if marker is None:  # render early so the file is ready at success
                task.render_key = self.renderer.submit(spec_factory(task), params.return_last_frame)
            self.tasks[(prefix, task_id)] = task
            self.accepted[prefix] += 1
        self.on_change(task, "queued")
        return task

    # --- lifecycle -----------------------------------------------------------
    def tick(self, min_gap: float = 0.0) -> None:
        """Advance every task to now. Reads pass a small `min_gap` to skip
        back-to-back walks over all tasks under load."""
        changes: list[tuple[Task, str]] = []
        with self.cond:
            now = time.time()
            if now - self._last_tick < min_gap:
                return
            self._tick_locked(now, changes)
            if changes:
                self.cond.notify_all()
        for task, status in changes:
            self.on_change(task, status)

    def _set(self, task: Task, status: str, now: float, changes: list) -> None:
        task.status, task.updated = status, now
        if status in catalog.TERMINAL:
            task.finished = now
        changes.append((task, status))

    def _tick_locked(self, now: float, changes: list) -> None:
        self._last_tick = now
        retire = []
        running: dict[tuple[str, str, str], int] = {}  # (token, prefix, family)
        for key, t in self.tasks.items():
            if now >= t.created + self.scaled(RETENTION_S) or (
                    t.cancelled_at is not None and now >= t.cancelled_at + self.scaled(DAY)):
                retire.append(key)
                continue
            if t.status == "succeeded" and t.files and now >= t.finished + self.scaled(DAY):
                self._drop_files(t)
            if t.status in catalog.TERMINAL:
                continue
            if now >= t.created + t.expires_s:
                self._set(t, "expired", now, changes)
                continue
            if t.status == "running" and t.marker != "stall" and now >= t.started + t.run_s:
                self._finish(t, now, changes)
            if t.status == "running":
                slot = (t.token, t.prefix, t.params.family)
                running[slot] = running.get(slot, 0) + 1
        for key in retire:
            self._drop_files(self.tasks.pop(key))
        for t in self.tasks.values():
            if t.status != "queued" or now < t.created + self.scaled(MIN_QUEUED_S):
                continue
            slot = (t.token, t.prefix, t.params.family)
            if running.get(slot, 0) < self._limit(self.s.concurrency, t.params.family,
                                                   default_concurrency):
                running[slot] = running.get(slot, 0) + 1
                t.started = now
                self._set(t, "running", now, changes)

    def _finish(self, t: Task, now: float, changes: list) -> None:
        if t.marker == "fail":
            t.error = {"code": FAIL_CODE, "message": "The output video may contain sensitive "
                                                     "content (emulator [emu:fail] marker)."}
            self._set(t, "failed", now, changes)
            return
        state, value = self.renderer.state(t.render_key)
        if state == "pending":
            return  # stays running until the file exists
        if state == "error":
            t.error = {"code": "InternalServiceError", "message": f"render failed: {value}"}
            self._set(t, "failed", now, changes)
            return
        t.files = {k: v for k, v in value.items() if v}
        self.files[video_name(t)] = (t, "video")
        if "png" in t.files:
            self.files[f"{t.id}-last.png"] = (t, "png")
        self._set(t, "succeeded", now, changes)

    def _drop_files(self, t: Task) -> None:
        self.files.pop(video_name(t), None)
        self.files.pop(f"{t.id}-last.png", None)
        t.files = {}
        if t.render_key is not None:  # lets the renderer delete files nobody serves
            self.renderer.release(t.render_key)
            t.render_key = None

    # --- reads and deletes ------------------------------------------------------
    def get(self, prefix: str, task_id: str, token: str) -> Task:
        self.tick(READ_TICK_GAP_S)
        with self.cond:
            task = self.tasks.get((prefix, task_id))
        if task is None or task.token != token:
            raise unknown_task(prefix, task_id)
        return task

    def find(self, prefix: str, task_id: str, token: str) -> Optional[Task]:
        try:
            return self.get(prefix, task_id, token)
        except EmuError:
            return None

    def draft(self, prefix: str, token: str, draft_id: str) -> Optional[Task]:
        """The token's succeeded draft `draft_id` if it can still become a final (§3).

        On /seedance the id is the draft's upstream `cgt-` id (§3, uncertain)."""
        self.tick(READ_TICK_GAP_S)
        now = time.time()
        with self.cond:
            if prefix == "ace":
                task = next((t for t in self.tasks.values()
                             if t.prefix == "ace" and t.upstream_id == draft_id), None)
            else:
                task = self.tasks.get((prefix, draft_id))
            if (task is None or task.token != token or not task.params.draft
                    or task.status != "succeeded"
                    or now >= task.created + self.scaled(catalog.DRAFT_VALID_S)):
                return None
            return task

    def wait_terminal(self, task: Task, timeout: float) -> bool:
        deadline = time.time() + timeout
        with self.cond:
            while task.status not in catalog.TERMINAL:
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.05))
        return True

    def listing(self, token: str, statuses: set, ids: set, model: str, tier: str) -> list[Task]:
        self.tick()
        with self.cond:
            found = [t for t in self.tasks.values() if t.prefix == "ark" and t.token == token
                     and (not statuses or t.status in statuses) and (not ids or t.id in ids)
                     and (not model or t.params.model == model)
                     and (not tier or t.params.service_tier == tier)]
        return sorted(found, key=lambda t: t.created, reverse=True)

    def delete(self, task_id: str, token: str) -> None:
        """DELETE on /api/v3 (§10.6)."""
        self.tick()
        with self.cond:
            task = self.tasks.get(("ark", task_id))
            if task is None or task.token != token:
                raise unknown_task("ark", task_id)
            now = time.time()
            if task.status == "queued":
                task.status, task.updated, task.finished = "cancelled", now, now
                task.cancelled_at = now
            elif task.status == "running":
                raise EmuError(409, "InvalidAction.RunningTaskDeletion",
                               f"task {task_id} is running and cannot be cancelled or deleted", "id")
            elif task.status == "cancelled":
                raise EmuError(400, "InvalidParameter", f"task {task_id} is already cancelled",
                               "id")
            else:
                del self.tasks[("ark", task_id)]
                self._drop_files(task)
            self.cond.notify_all()

    def file(self, name: str) -> Optional[str]:
        self.tick()
        with self.cond:
            entry = self.files.get(name)
            return entry[0].files.get(entry[1]) if entry else None
