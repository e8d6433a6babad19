"""Shared helpers for the notebook-experience tests (magic, display, panel).

`TestingShell` follows jupysql's idea: an InteractiveShell whose run_cell
raises the cell's error instead of printing a traceback, with history off.
`real_engine` runs the real job engine against an in-process emulator and reads
back what was sent (the emulator's tasks, the ledger's rows). `FakeJob` has the
traits of `seedance_nb.jobs.Job` and is only for display tests of a given state.
"""
from __future__ import annotations

import contextlib
import itertools
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import traitlets
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]


class TestingShell(InteractiveShell):
    def run_cell(self, *args: Any, **kwargs: Any) -> Any:
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


def make_shell() -> TestingShell:
    cfg = Config()
    cfg.HistoryManager.enabled = False
    if InteractiveShell.initialized() and not isinstance(InteractiveShell.instance(), TestingShell):
        InteractiveShell.clear_instance()  # another test's plain shell: replace it
    shell = TestingShell.instance(config=cfg)
    shell.run_line_magic("load_ext", "seedance_nb")
    return shell


_ids = itertools.count(1)


class FakeJob(traitlets.HasTraits):
    """The traits of jobs.Job (architecture.md); the test sets them like the worker."""

    status = traitlets.Unicode("pending")
    progress = traitlets.Int(None, allow_none=True)
    elapsed = traitlets.Float(0.0)
    error = traitlets.Unicode("")
    video_path = traitlets.Unicode(None, allow_none=True)
    last_frame_path = traitlets.Unicode(None, allow_none=True)
    tokens = traitlets.Int(None, allow_none=True)
    task_id = traitlets.Unicode(None, allow_none=True)
    reused = traitlets.Bool(False)

    def __init__(self, prompt: str = "", request: Any = None, name: str | None = None,
                 **kw: Any) -> None:
        super().__init__()
        self.prompt = prompt
        self.kw = kw
        self.request = request
        self.name = name
        self.provider = kw.get("provider") or "emulator"
        self.ledger_id = next(_ids)
        self.task = None
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.status = "cancelled"

    def wait(self, timeout: float | None = None) -> "FakeJob":
        return self


def make_mp4(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48)) -> Path:
    """A tiny real H.264 MP4 (PyAV), so players and decoders accept it."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            img = np.full((size[1], size[0], 3), (i * 20) % 255, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def fresh_modules(code: str) -> str:
    """Run `code` in a fresh interpreter and return its stdout."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


class Engine:
    """The real engine of one test: its emulator and job manager, and what was sent."""

    def __init__(self, emu: Any, mgr: Any) -> None:
        self.emu, self.mgr = emu, mgr

    def creates(self) -> int:
        """Creates the emulator accepted (every route)."""
        return sum(self.emu.stats()["creates"].values())

    def rows(self) -> list[dict]:
        """The ledger's rows, oldest first (each `request` as recorded before sending)."""
        return self.mgr.ledger().rows()

    def wire(self) -> list[Any]:
        """The emulator's parsed create bodies (emulator.validate.Params), oldest first."""
        return [t.params for t in list(self.emu._server.app.store.tasks.values())]

    def nothing_sent(self) -> bool:
        return self.creates() == 0 and self.rows() == []

    def wait_sent(self, jobs: list[Any], timeout: float = 30.0) -> None:
        """Until every job's create was answered (it has a task id) or it ended."""
        end = time.monotonic() + timeout
        while not all(j.task_id or j.done for j in jobs):
            assert time.monotonic() < end, [j.status for j in jobs]
            time.sleep(0.02)


@contextlib.contextmanager
def real_engine(tmp_path: Path, monkeypatch: Any, **options: Any) -> Iterator[Engine]:
    """A fresh JobManager (output and ledger in tmp_path, polls every 0.1 s) sending to
    an in-process emulator (speed 100, 1 s runs; `options` are Emulator options)."""
    from seedance_nb import Emulator

    from _client_helpers import isolated_jobs

    options = {"speed": 100, "run_seconds": 1, **options}
    with Emulator(in_process=True, **options) as emu:
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
        monkeypatch.delenv("SEEDANCE_EMULATOR_TOKEN", raising=False)
        with isolated_jobs(tmp_path) as mgr:
            yield Engine(emu, mgr)
