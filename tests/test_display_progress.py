"""Live progress in what a notebook shows: the `%%seedance` placeholder (and a sweep's
gallery) carries a progress bar, a clock that ticks in the browser and the typical
duration while a job runs, and drops them once it has ended. A displayed Job shows the
same HTML plus the poster PNG. Real InteractiveShell, real engine, in-process emulator."""
from __future__ import annotations

import base64
import io
import time

import pytest
from IPython.utils.capture import capture_output
from PIL import Image

from seedance_nb import jobs, live

from _magic_helpers import make_shell, real_engine

LINE = "--model 1.0-pro-fast --rs 480p"  # silent 2 s renders: small on a shared machine
TICKING = 'class="seedance-clock seedance-ticking"'  # a running clock (not the CSS)
HINT = 'class="seedance-hint"'
BAR = 'role="progressbar"'


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    return make_shell()


def _until(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _shown(cap, status: str) -> list[dict]:
    """The outputs whose text says a job is in `status` (placeholder updates)."""
    return [o.data for o in list(cap.outputs) if f": {status}" in o.data.get("text/plain", "")]


def test_running_placeholder_ticks_and_says_how_long_it_usually_takes(shell, tmp_path,
                                                                      monkeypatch):
    with real_engine(tmp_path, monkeypatch):
        with capture_output() as cap:
            shell.run_cell_magic("seedance", f"--no-wait {LINE} --name river",
                                 "a slow river [emu:stall] --dur 2")
            job = shell.user_ns["_seedance_job"]
            _until(lambda: _shown(cap, "running"))  # the worker updated the placeholder
        html = _shown(cap, "running")[-1]["text/html"]
        assert job.status == "running"
        assert TICKING in html and BAR in html and live.STYLE in html
        assert HINT in html and "emulator:" in html  # typical time of this emulator's runs
        assert "river" in html and "running" in html


def test_placeholder_stops_ticking_when_the_job_ends(shell, tmp_path, monkeypatch):
    with real_engine(tmp_path, monkeypatch):
        with capture_output() as cap:
            shell.run_cell_magic("seedance", f"--wait {LINE} --name sunk",
                                 "a paper boat sinks [emu:fail] --dur 2")
        job = shell.user_ns["_seedance_job"]
        assert job.status == "failed"
        first, last = cap.outputs[0].data["text/html"], cap.outputs[-1].data["text/html"]
        assert TICKING in first and HINT in first  # the placeholder while it was pending
        assert "failed" in last and "emu:fail" in last  # the error stays in the output
        assert TICKING not in last and HINT not in last and BAR not in last

        with capture_output() as cap:
            shell.run_cell_magic("seedance", f"--wait {LINE}", "a paper boat --dur 2")
        last = cap.outputs[-1].data["text/html"]
        assert "<video" in last and TICKING not in last and HINT not in last


def test_gallery_holds_the_clock_style_once_and_a_clock_per_running_tile(shell, tmp_path,
                                                                         monkeypatch):
    with real_engine(tmp_path, monkeypatch):
        with capture_output() as cap:
            shell.run_cell_magic("seedance", f"--no-wait {LINE} --sweep seed=1,2",
                                 "two slow rivers [emu:stall] --dur 2")
            group = shell.user_ns["_seedance_jobs"]
            _until(lambda: all(j.status == "running" for j in group)
                   and any(o.data.get("text/plain", "").count("] running") == 2
                           for o in list(cap.outputs)))
        html = [o.data["text/html"] for o in list(cap.outputs)
                if o.data.get("text/plain", "").count("] running") == 2][-1]
        assert html.count("<style>") == 1 and html.startswith(live.STYLE)
        assert html.count(TICKING) == 2 and html.count(HINT) == 2
        assert "seed=1" in html and "seed=2" in html


def test_displayed_job_shows_live_html_then_video_and_poster(tmp_path, monkeypatch):
    with real_engine(tmp_path, monkeypatch):
        kw = dict(model="1.0-pro-fast", resolution="480p", duration=2)
        slow = jobs.submit("a kite that never lands [emu:stall]", **kw)
        _until(lambda: slow.status == "running")
        bundle = slow._repr_mimebundle_()
        assert TICKING in bundle["text/html"] and HINT in bundle["text/html"]
        assert "image/png" not in bundle and bundle["text/plain"].startswith("Job(")
        job = jobs.submit("a kite over a field", seed=5, **kw).wait(30)
        bundle = job._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Job(") and "seed=5" in bundle["text/plain"]
    assert "<video" in bundle["text/html"] and TICKING not in bundle["text/html"]
    still = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    assert still.format == "PNG" and still.width > 0
