"""Live progress on job cards and in HTML outputs: the typical-duration hint, the sliding
bar until the gateway reports a percentage, then that percentage, and the clock.

Jobs are real: submitted to an in-process emulator (tests/_magic_helpers.real_engine),
or, for a real provider's hint, a Job built with a request and never sent.
"""
from __future__ import annotations

import re
import time

import pytest

from seedance_nb import catalog, jobs, live
from seedance_nb.config import ClientSettings
from seedance_nb.request import build_request
from seedance_nb.ui import JobCard

from _client_helpers import isolated_jobs
from _magic_helpers import real_engine

pytestmark = pytest.mark.timeout(90)
TICKING = 'class="seedance-clock seedance-ticking"'
SLIDING = 'class="seedance-bar seedance-indeterminate"'
STALL = dict(provider="emulator", model="1.0-pro-fast", resolution="480p", duration=2)


def _until(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _elapsed(card: JobCard) -> int:
    return int(re.search(r'data-elapsed="(\d+)"', card.elapsed.value).group(1))


def _unsent_ark_job(**fields):
    """A real Job for the ark gateway, built but never submitted (nothing is sent)."""
    settings = ClientSettings(provider="ark", dialect="ark", api_key="sk-never-sent-0000",
                              base_url="https://ark.invalid/api/v3")
    return jobs.Job(settings=settings, request=build_request("a paper boat", provider="ark",
                                                             **fields))


def test_typical_seconds_scale_with_pixels_and_length():
    assert catalog.typical_seconds("2.0-fast", "720p", 5) == 45.0  # the family's figure
    w, h = catalog.pixel_size("2.0-fast", "480p", "16:9")
    assert catalog.typical_seconds("2.0-fast", "480p", 5) == pytest.approx(45 * w * h / (1280 * 720))
    assert catalog.typical_seconds("2.0-fast", "720p", 10) == pytest.approx(45 * 241 / 121)
    assert catalog.typical_seconds("2.0-fast", "720p", -1) == 45.0  # the model picks: 5 s
    assert catalog.typical_seconds("2.0", "4k", 5) == pytest.approx(75 * 9)
    assert catalog.typical_seconds("1.0-pro", "4k", 5) is None  # no 4k row for 1.0
    assert catalog.typical_seconds("no-such-family", "720p", 5) is None


def test_card_hint_names_the_typical_time_for_model_and_resolution():
    card = JobCard(_unsent_ark_job(model="2.0-fast", resolution="720p", duration=5))
    assert card.hint.value.endswith(">usually ~45 s at 720p</span>")
    assert "seedance-indeterminate" in card.progress._dom_classes  # no percentage yet
    assert TICKING in card.elapsed.value
    assert not card.cancel.disabled  # ark cancels a task that is not running yet
    slow = live.typical_hint(_unsent_ark_job(model="2.0", resolution="1080p", duration=10))
    assert slow == "usually ~6 min at 1080p for 10 s of video"


def test_card_on_the_emulator_slides_ticks_and_hints_emulator_time(tmp_path, monkeypatch):
    with real_engine(tmp_path, monkeypatch):
        job = jobs.submit("a heron waits [emu:stall]", **STALL)
        card = JobCard(job, title="heron")
        _until(lambda: job.status == "running")
        # Ark reports no percentage: the bar slides and no percentage is shown
        assert "seedance-indeterminate" in card.progress._dom_classes
        assert "%" not in card.elapsed.value
        # emulator time, not the model's: (2 s queued + 30 + 10 x 2 s running) / --speed,
        # whose value this kernel does not know (SEEDANCE_EMULATOR_URL)
        assert ">emulator: 52 s divided by its --speed<" in card.hint.value
        first = _elapsed(card)
        time.sleep(1.2)
        card.refresh()
        assert _elapsed(card) >= first + 1  # re-rendered at the job's age, not its last poll
        assert re.search(r"--seedance-delay:-\d+\.\ds", card.elapsed.value)
        html = live.live_html(job)  # the same view for HTML outputs (a cell's placeholder)
        assert TICKING in html and SLIDING in html
        assert "emulator: 52 s" in html and html.startswith("<style>")
        assert not live.live_html(job, style=False).startswith("<style>")


def test_a_gateway_percentage_replaces_the_sliding_bar(tmp_path, monkeypatch):
    # comet reports progress while running (§6.2); 4 s of running at speed 2
    with real_engine(tmp_path, monkeypatch, speed=2, run_seconds=8):
        job = jobs.submit("a slow tide", emulate="comet", **{**STALL, "model": "2.0-fast",
                                                            "duration": 4})
        card = JobCard(job)
        _until(lambda: (job.progress or 0) > 0 and job.status == "running")
        assert "seedance-indeterminate" not in card.progress._dom_classes
        assert card.progress.value == job.progress
        assert f"{job.progress}% · " in card.elapsed.value
        job.wait(60)
        assert card.progress.value == 100 and card.progress.bar_style == "success"
        assert TICKING not in card.elapsed.value  # ended: the clock stops
        assert card.hint.value == ""


def test_emulator_hint_uses_the_speed_of_the_emulator_this_kernel_started(tmp_path,
                                                                          monkeypatch):
    from seedance_nb import emulator

    monkeypatch.delenv("SEEDANCE_EMULATOR_URL", raising=False)
    started_here = emulator.local_url() is None
    with isolated_jobs(tmp_path):
        try:
            job = jobs.submit("a fox [emu:stall]", provider="emulator", model="2.0-fast",
                              duration=5)  # starts this kernel's emulator (ensure_local)
            assert live.emulator_speed(job.settings) == emulator.LOCAL_SPEED == 20
            assert live.typical_hint(job) == "emulator: usually ~4 s"  # (2 + 30 + 50) / 20
        finally:
            if started_here:
                emulator.stop_local()


def test_ended_jobs_show_a_fixed_time():
    job = _unsent_ark_job(model="2.0-fast")
    job._finish("failed", RuntimeError("no"))
    html = live.live_html(job)
    assert TICKING not in html and SLIDING not in html
    assert "usually" not in html
