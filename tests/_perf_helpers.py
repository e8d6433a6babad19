"""Shared pieces for the tests/test_perf_*.py files: an emulator in its own process
(its werkzeug threads never show up in this process's thread counts) and thread
accounting. Not a conftest: import what you need."""
from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from seedance_nb.emulator import Emulator

FAMILY = "1.0-pro-fast"


TESTS = str(Path(__file__).resolve().parent)
NO_RENDER = "[no-render]"  # in a prompt: _emulator_helpers renders a 1-frame clip


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    """A fast emulator subprocess: tasks succeed as soon as they start; prompts with
    NO_RENDER get a tiny clip (the stand-in renderer of _emulator_helpers)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = TESTS + (os.pathsep + old if old else "")
    try:
        e = Emulator(port=0, speed=100, run_seconds=0, max_queued=500,
                     concurrency={FAMILY: 200}, rpm={FAMILY: 100_000},
                     render_module="_emulator_helpers")
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    with e:
        yield e


@contextlib.contextmanager
def started_threads() -> Iterator[list[str]]:
    """Names of the threads started in this process inside the block."""
    names: list[str] = []
    real = threading.Thread.start

    def start(self: threading.Thread, *a: Any, **kw: Any) -> None:
        names.append(self.name)
        return real(self, *a, **kw)

    threading.Thread.start = start  # type: ignore[method-assign]
    try:
        yield names
    finally:
        threading.Thread.start = real  # type: ignore[method-assign]
