"""Waiting for a cell's jobs: whether to block, blocking with live progress, or following.

`should_wait` decides (--wait/--no-wait, SEEDANCE_NB_WAIT, `%config Seedance.wait`, then
whether a live frontend can receive updates after the cell returns). `wait_for` blocks
the cell and updates its one display from the main thread; `follow` lets the job worker thread
update the display handle, and nothing else.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, Callable, Optional

from . import catalog

TERMINAL = catalog.JOB_ENDED



def live_frontend(shell: Any) -> bool:
    """True when a frontend can receive display updates after the cell returns.

    That is an ipykernel kernel started by a Jupyter server (JupyterLab, Notebook 7:
    the server sets JPY_SESSION_NAME) or by VS Code (which sets __vsc_ipynb_file__).
    nbclient, papermill, nbconvert, plain IPython and Colab are not live in this sense:
    they keep only what the cell shows before it returns.
    """
    if "google.colab" in sys.modules:
        return False
    if type(shell).__name__ != "ZMQInteractiveShell":
        return False
    if os.environ.get("JPY_SESSION_NAME"):
        return True
    return "__vsc_ipynb_file__" in getattr(shell, "user_ns", {})


def should_wait(option: Optional[bool], policy: str, shell: Any) -> bool:
    """--wait/--no-wait, then SEEDANCE_NB_WAIT=1/0, then policy, then `live_frontend`."""
    if option is not None:
        return option
    env = os.environ.get("SEEDANCE_NB_WAIT", "").strip().lower()
    if env in ("1", "true", "yes"):
        return True
    if env in ("0", "false", "no"):
        return False
    if policy == "always":
        return True
    if policy == "never":
        return False
    return not live_frontend(shell)


def follow(jobs: list[Any], handle: Any, render: Callable[[], dict]) -> None:
    """Live frontend: the worker thread updates the display handle, nothing else."""
    lock = threading.Lock()

    def update(_change: Any = None) -> None:
        with lock:  # several jobs may finish in the same poll cycle
            try:
                handle.update(render(), raw=True)
            except Exception:  # a display glitch must never kill the worker
                pass

    for job in jobs:
        job.observe(update, names=["status", "progress", "video_path", "error", "tokens",
                                   "task_id"])
    update()  # a job may have finished (or been reused) before the observer was set


def wait_for(jobs: list[Any], handle: Any, render: Callable[[], dict],
             labels: Optional[list[str]] = None) -> None:
    """No live frontend: block here, updating the cell's one display from the main thread.

    Progress is the display itself (status, percent, elapsed), replaced in place on each
    change: no log lines pile up under the finished video. `labels` is unused (kept for
    callers); the display names each tile.
    """
    from .config import settings

    timeout = float(settings.wait_timeout)
    start = time.monotonic()
    last: list[tuple] = []
    try:
        while True:
            state = [(job.status, job.progress) for job in jobs]
            if state != last:
                last = state
                _update(handle, render)
            if all(_finished(j) for j in jobs):
                break
            if time.monotonic() - start > timeout:
                print(f"[seedance] stopped waiting after {timeout:.0f} s; the tasks go on: "
                      f"%seedance resume picks them up", flush=True)
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        print("[seedance] stopped waiting; the tasks go on: %seedance jobs / resume",
              flush=True)
        follow(jobs, handle, render)  # a live frontend still gets the result
        return
    _update(handle, render)  # the result (an error is shown in it, not printed)


def _update(handle: Any, render: Callable[[], dict]) -> None:
    try:
        handle.update(render(), raw=True)
    except Exception:  # a display glitch must not stop the wait
        pass


def _finished(job: Any) -> bool:
    done = getattr(job, "done", None)
    if isinstance(done, bool):
        return done
    if job.status not in TERMINAL:
        return False
    # a success counts once its file is on disk (downloaded in the same cycle)
    return job.status != "succeeded" or bool(job.video_path) or bool(job.error)
