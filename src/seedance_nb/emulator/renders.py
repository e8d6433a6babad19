"""Rendering off the request threads: 1-2 worker processes plus a cache by spec.

Workers are plain subprocesses (worker.py) fed from a job queue, so rendering
never runs on a request thread nor competes for the caller's GIL. The pool and
cache are shared by every emulator in one process: identical specs render once.
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import hashlib
import os
import pickle
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Any, Optional

from . import worker as wire

DEFAULT_MODULE = "seedance_nb.emulator.render"


class _Worker(threading.Thread):
    """Feeds jobs from the shared queue to one worker process."""

    def __init__(self, jobs: "queue.Queue", renderer: "Renderer") -> None:
        super().__init__(daemon=True, name="emulator-render")
        self.jobs, self.renderer = jobs, renderer
        self.proc: Optional[subprocess.Popen] = None

    def _process(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "seedance_nb.emulator.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        return self.proc

    def run(self) -> None:
        while True:
            item = self.jobs.get()
            if item is None:
                break
            future, payload = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                proc = self._process()
                wire.send(proc.stdin, (list(sys.path), *payload))
                status, value = wire.receive(proc.stdout)
            except (OSError, EOFError) as err:
                self.proc = None
                future.set_exception(RuntimeError(f"render worker died: {err!r}"))
                continue
            if status == "ok":
                self.renderer.seconds.append(value)
                future.set_result(value)
            else:
                future.set_exception(RuntimeError(value))
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


class Renderer:
    def __init__(self, module: str = DEFAULT_MODULE, workers: int | None = None) -> None:
        self.module = module
        self.n_workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.dir = tempfile.mkdtemp(prefix="seedance-emulator-")
        self._queue: "queue.Queue" = queue.Queue()
        self._workers: list[_Worker] = []
        self._jobs: dict[str, cf.Future] = {}
        self._refs: dict[str, int] = {}  # tasks using each render
        self._ext: dict[str, str] = {}  # key -> video file extension (mp4 | mov)
        self._lock = threading.Lock()
        self.seconds: list[float] = []  # render time per finished clip

    def submit(self, spec: Any, want_png: bool) -> str:
        """Start (or reuse) the render of `spec`; returns its cache key."""
        key = hashlib.sha256(pickle.dumps((self.module, spec, want_png))).hexdigest()[:32]
        with self._lock:
            job = self._jobs.get(key)
            if job is None or (job.done() and job.exception() is not None):
                if not self._workers:
                    self._workers = [_Worker(self._queue, self) for _ in range(self.n_workers)]
                    for w in self._workers:
                        w.start()
                ext = getattr(spec, "container", "mp4")
                video = os.path.join(self.dir, f"{key}.{ext}")
                png = os.path.join(self.dir, key + "-last.png") if want_png else None
                job = cf.Future()
                self._queue.put((job, (self.module, spec, video, png)))
                self._jobs[key] = job
                self._ext[key] = ext
            self._refs[key] = self._refs.get(key, 0) + 1
        return key

    def release(self, key: str) -> None:
        """A task no longer needs this render; its files go when no task does."""
        with self._lock:
            self._refs[key] = self._refs.get(key, 1) - 1
            if self._refs[key] > 0:
                return
            del self._refs[key]
            job = self._jobs.pop(key, None)
            self._ext.pop(key, None)
        if job is not None:
            job.add_done_callback(lambda _: self._remove_files(key))

    def _remove_files(self, key: str) -> None:
        for suffix in (".mp4", ".mov", "-last.png"):
            try:
                os.remove(os.path.join(self.dir, key + suffix))
            except FileNotFoundError:
                pass

    def state(self, key: str) -> tuple[str, Any]:
        """("pending", None) | ("done", {"video": path, "png": path|None}) | ("error", message)."""
        job = self._jobs.get(key)
        if job is None or not job.done():
            return "pending", None
        err = job.exception()
        if err is not None:
            return "error", str(err)
        png = os.path.join(self.dir, key + "-last.png")
        return "done", {"video": os.path.join(self.dir, f"{key}.{self._ext.get(key, 'mp4')}"),
                        "png": png if os.path.exists(png) else None}

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for _ in workers:
            self._queue.put(None)
        for w in workers:
            w.join(10)
        shutil.rmtree(self.dir, ignore_errors=True)


_shared: dict[str, Renderer] = {}
_shared_lock = threading.Lock()


def shared_renderer(module: str = DEFAULT_MODULE) -> Renderer:
    with _shared_lock:
        if module not in _shared:
            _shared[module] = Renderer(module)
        return _shared[module]


@atexit.register
def _close_all() -> None:
    with _shared_lock:
        renderers = list(_shared.values())
        _shared.clear()
    for renderer in renderers:
        renderer.close()
