"""The manager's list of this session's jobs, without keeping finished ones alive.

An unfinished job is held. Once it ends (and its files are recorded: the ledger is
the record), the table keeps only a weak reference plus a `FinishedJob`, a brief of a
few hundred bytes. While anyone still holds the Job (the user's variable, a display
that follows it) the table gives back that same object; once it is gone, the brief
stands in for it. A Job costs about 6 KB (traits, its request, its task); the brief
lets a long session or a 1,000-job sweep keep `%seedance jobs` and `wait_all()`
without that cost.
"""
from __future__ import annotations

import sys
import threading
import weakref
from typing import Any, Iterable, Iterator, Optional, Union

PROMPT_CHARS = 120  # of the prompt kept in a brief (captions show less)
_SCALARS = ("family", "model", "mode", "seed", "resolution", "duration", "draft")


class RequestBrief:
    """The few request fields a finished job's caption, labels and `final()` read;
    other fields read as None."""

    __slots__ = ("provider", "prompt") + _SCALARS

    def __getattr__(self, name: str) -> Any:  # only for names not in __slots__
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def __init__(self, request: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, _shared(getattr(request, name, None)))
        if isinstance(self.prompt, str) and len(self.prompt) > PROMPT_CHARS:
            self.prompt = self.prompt[:PROMPT_CHARS - 1] + "…"

    def __repr__(self) -> str:
        return f"RequestBrief(model={self.model!r}, prompt={self.prompt!r})"


def _shared(value: Any) -> Any:
    """Short words ("emulator", "480p", a model id) are one object for every brief."""
    return sys.intern(value) if isinstance(value, str) and len(value) <= 64 else value


class FinishedJob:
    """What is left of a finished Job nobody holds any more: its outcome, read-only.

    Duck-types the parts of `Job` that listings use (status, paths, ids, `wait`,
    `final` of a draft, display); it never changes, so `observe` does nothing.
    """

    __slots__ = ("settings", "provider", "ledger", "ledger_id", "name", "model", "status",
                 "task_id", "tokens", "video_path", "last_frame_path", "error", "warning",
                 "elapsed", "reused", "joined", "request")

    progress = None
    task = None
    done = True
    _leader = None
    _manager = None
    _fingerprint = None  # only unfinished jobs are joined

    def __init__(self, job: Any) -> None:
        for name in self.__slots__:
            if name not in ("request", "task_id", "video_path", "last_frame_path", "error"):
                setattr(self, name, _shared(getattr(job, name, None)))
        for name in ("task_id", "video_path", "last_frame_path", "error"):  # one per job
            setattr(self, name, getattr(job, name, None))
        req = getattr(job, "request", None)
        self.request = RequestBrief(req) if req is not None else None
        seed = getattr(getattr(job, "task", None), "seed", None)
        if seed is not None and self.request is not None:
            self.request.seed = seed  # the seed the gateway used, for the caption

    @property
    def exception(self) -> Optional[BaseException]:
        if self.status == "succeeded" or not self.error:
            return None
        from ..errors import SeedanceError

        return SeedanceError(self.error)

    def wait(self, timeout: Optional[float] = None) -> "FinishedJob":
        exc = self.exception
        if exc is not None:
            raise exc
        return self

    def result(self) -> "FinishedJob":
        return self.wait()

    def observe(self, handler: Any, names: Any = None, type: str = "change") -> None:
        """Nothing to observe: a finished job never changes."""

    def unobserve(self, handler: Any, names: Any = None, type: str = "change") -> None:
        pass

    def _add_done_callback(self, fn: Any) -> None:
        fn()

    def __await__(self):  # type: ignore[no-untyped-def]
        async def done() -> "FinishedJob":
            return self.wait()
        return done().__await__()

    def cancel(self) -> None:
        raise ValueError(f"job {self.task_id or ''} already ended ({self.status}); "
                         f"nothing to cancel".replace("  ", " "))

    def final(self, **kw: Any) -> Any:
        from .job import Job

        return Job.final(self, **kw)  # type: ignore[arg-type]  (reads request, status, ids)

    def _text(self) -> str:
        from .job import Job

        return Job._text(self)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return self._text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from .job import Job

        return Job._repr_mimebundle_(self, include, exclude)  # type: ignore[arg-type]


class _Released:
    __slots__ = ("ref", "brief")

    def __init__(self, job: Any, settings: Optional[dict] = None) -> None:
        self.ref = weakref.ref(job)
        self.brief = FinishedJob(job)
        key = getattr(self.brief.settings, "key", None)
        if settings is not None and key is not None:
            # each submit resolves its own ClientSettings; one per gateway is enough
            self.brief.settings = settings.setdefault(key, self.brief.settings)

    def get(self) -> Any:
        job = self.ref()
        return self.brief if job is None else job


Entry = Union[Any, _Released]


class JobTable:
    """A list-like of this session's jobs, in submit order (see the module docstring).

    Supports what callers did with the plain list it replaces: iterate, `len`, index,
    `append`, `extend`, slice assignment (`table[:0] = jobs`) and `list(table)`.
    `release(job)` is called when a job has ended and its outcome is recorded.
    """

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._where: dict[int, int] = {}  # id(job) -> index hint, for release
        self._settings: dict[tuple, Any] = {}  # one ClientSettings per gateway key
        self._by_task: dict[str, Any] = {}  # task id -> position (a tuple if several)
        self._lock = threading.RLock()

    # --- reading -------------------------------------------------------------------
    def _snapshot(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Any]:
        for entry in self._snapshot():
            yield entry.get() if isinstance(entry, _Released) else entry

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [e.get() if isinstance(e, _Released) else e
                    for e in self._snapshot()[index]]
        entry = self._entries[index]
        return entry.get() if isinstance(entry, _Released) else entry

    def __contains__(self, job: Any) -> bool:
        return any(j is job for j in self)

    def __repr__(self) -> str:
        return f"JobTable({len(self)} jobs, {len(self.held())} held)"

    def with_task_id(self, task_id: str) -> list[Any]:
        """The jobs (or briefs) that have this task id, without scanning the table."""
        with self._lock:
            at = self._by_task.get(task_id, ())
            entries = [self._entries[i] for i in (at if isinstance(at, tuple) else (at,))
                       if i < len(self._entries)]
        jobs = [e.get() if isinstance(e, _Released) else e for e in entries]
        return [j for j in jobs if getattr(j, "task_id", None) == task_id]

    def _index(self, i: int, task_id: Any) -> None:
        if not task_id:
            return
        at = self._by_task.get(task_id)
        if at is None or at == i:
            self._by_task[task_id] = i
        else:  # the same task in several entries (joined, reused, or a gateway's repeat)
            seen = at if isinstance(at, tuple) else (at,)
            if i not in seen:
                self._by_task[task_id] = seen + (i,)

    def _reindex(self) -> None:
        self._where.clear()
        self._by_task.clear()
        for i, entry in enumerate(self._entries):
            job = entry.get() if isinstance(entry, _Released) else entry
            self._where[id(job)] = i
            self._index(i, getattr(job, "task_id", None))

    def _task_id_set(self, change: Any) -> None:
        """A job got its task id (the create's answer): index it."""
        job = change["owner"]
        with self._lock:
            i = self._where.get(id(job))
            if i is None or i >= len(self._entries) or not self._is(i, job):
                return
            self._index(i, change["new"])

    def _is(self, i: int, job: Any) -> bool:
        entry = self._entries[i]
        return (entry.ref() if isinstance(entry, _Released) else entry) is job

    def held(self) -> list[Any]:
        """The jobs held strongly: those not ended (or not yet released)."""
        return [e for e in self._snapshot() if not isinstance(e, _Released)]

    # --- changing ------------------------------------------------------------------
    def _hold(self, job: Any) -> Entry:
        """The entry for a job being added (under the lock); an ended Job is released
        at once, a running one when it ends."""
        add = getattr(job, "_add_done_callback", None)
        if add is None or isinstance(job, FinishedJob):
            return job
        if not job.done:
            add(lambda: self.release(job))  # from a lane thread: waits for our lock
            observe = getattr(job, "observe", None)
            if observe is not None:
                observe(self._task_id_set, names=["task_id"])
        # checked again: it may have ended just now, and then the callback ran here
        return _Released(job, self._settings) if job.done else job

    def append(self, job: Any) -> None:
        with self._lock:
            entry = self._hold(job)
            i = len(self._entries)
            self._where[id(job)] = i
            self._entries.append(entry)
            self._index(i, getattr(job, "task_id", None))

    def extend(self, jobs: Iterable[Any]) -> None:
        for job in jobs:
            self.append(job)

    def __setitem__(self, index: Any, value: Any) -> None:
        with self._lock:
            if isinstance(index, slice):
                value = [self._hold(j) for j in value]
            else:
                value = self._hold(value)
            self._entries[index] = value
            self._reindex()  # positions moved

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._where.clear()
            self._by_task.clear()

    def release(self, job: Any) -> bool:
        """Stop holding `job` (ended, recorded); True if it was held here."""
        with self._lock:
            i = self._where.pop(id(job), None)
            if i is None or i >= len(self._entries) or self._entries[i] is not job:
                i = next((k for k in range(len(self._entries) - 1, -1, -1)
                          if self._entries[k] is job), None)
            if i is None:
                return False  # not listed (any more); `_hold` sees it has ended
            self._entries[i] = _Released(job, self._settings)
            return True
