"""Never bill twice: an identical request still in flight is joined, not created again,
in this process and across processes sharing a ledger; `new=True` still creates."""
from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from seedance_nb import jobs
from seedance_nb.config import settings, resolve_client
from seedance_nb.emulator import Emulator
from seedance_nb.request import build_request

from _client_helpers import emu_submit, isolated_jobs
from _ledger_helpers import SMALL, child_cmd, child_env, prompts

pytestmark = pytest.mark.timeout(120)


def creates(emu: Any) -> int:
    return sum(emu.stats()["creates"].values())


@pytest.fixture
def emu():
    # about 3 s of running per task: long enough to submit again while it runs
    with Emulator(port=0, speed=10, in_process=True, run_seconds=30) as server:
        yield server


def test_resubmitting_while_it_runs_joins_the_running_task(emu, tmp_path):
    with isolated_jobs(tmp_path):
        first = emu_submit(emu, "ark", "a kite over dunes", seed=3)
        second = emu_submit(emu, "ark", "a kite over dunes", seed=3)
        assert second.joined and not first.joined
        assert second.ledger_id == first.ledger_id
        assert "already" in repr(second)
        jobs.wait_all([first, second], timeout=60)
        assert first.status == second.status == "succeeded", (first.error, second.error)
        assert second.video_path == first.video_path and second.task_id == first.task_id
        assert "already running as task" in repr(second)
        assert creates(emu) == 1


def test_new_true_creates_a_second_task(emu, tmp_path):
    with isolated_jobs(tmp_path):
        first = emu_submit(emu, "ark", "a kite over dunes", seed=4)
        second = emu_submit(emu, "ark", "a kite over dunes", seed=4, new=True)
        assert not second.joined and second.ledger_id != first.ledger_id
        jobs.wait_all([first, second], timeout=60)
        assert first.status == second.status == "succeeded"
        assert creates(emu) == 2


def test_a_joined_job_keeps_its_own_deadline(emu, tmp_path):
    with isolated_jobs(tmp_path):
        first = emu_submit(emu, "ark", "a slow heron", seed=5)
        second = emu_submit(emu, "ark", "a slow heron", seed=5, timeout=0.5)
        assert second.joined
        time.sleep(1.2)
        assert second.done and "stopped waiting" in second.error
        jobs.wait_all([first], timeout=60)
        assert first.status == "succeeded" and creates(emu) == 1


def test_another_process_running_the_same_request_is_joined(emu, tmp_path, monkeypatch):
    ledger = tmp_path / "shared.sqlite"
    proc = subprocess.Popen(child_cmd("submit", ledger, tmp_path / "child", "shared", 1),
                            env=child_env(emu), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("submitted")
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
        monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", emu.token)
        with isolated_jobs(tmp_path):
            settings.ledger_path = str(ledger)
            job = jobs.submit(prompts("shared", 1)[0], **SMALL)
            assert job.joined
            job.wait(60)
            assert job.status == "succeeded" and job.video_path
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert '"status": "succeeded"' in out
    assert creates(emu) == 1


def _foreign_pending_row(led: Any, prompt: str) -> int:
    """A row another process recorded and sent, whose answer it has not written yet."""
    settings = resolve_client("emulator")
    request = build_request(prompt, provider=settings.provider, model=SMALL["model"],
                            emulate=settings.emulate,
                            endpoints=dict(settings.endpoints) or None,
                            **{k: v for k, v in SMALL.items() if k not in ("provider", "model")})
    row = led.record_intent(fingerprint=request.fingerprint(), provider=settings.provider,
                            dialect=settings.dialect, model=request.model,
                            base_url=settings.base_url, request=request)
    led.mark_sending(row)
    return row


@pytest.fixture
def emulator_env(emu, monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", emu.token)
    return emu


def test_a_row_still_being_sent_elsewhere_is_watched_until_it_has_an_id(emulator_env,
                                                                        tmp_path):
    from _ledger_helpers import create_elsewhere

    emu = emulator_env
    with isolated_jobs(tmp_path) as mgr:
        led = mgr.ledger()
        row = _foreign_pending_row(led, "a lantern at dusk")
        job = jobs.submit("a lantern at dusk", **SMALL)
        assert job.joined and job.ledger_id == row and job.task_id is None
        assert "already being sent" in repr(job)
        time.sleep(0.5)
        assert not job.done and creates(emu) == 0  # it waits, it does not send
        led.record_created(row, create_elsewhere("a lantern at dusk"))  # the other process
        job.wait(60)
        assert job.status == "succeeded" and job.video_path
        assert creates(emu) == 1


def test_a_watched_row_that_is_refused_elsewhere_ends_the_joined_job(emulator_env, tmp_path):
    with isolated_jobs(tmp_path) as mgr:
        led = mgr.ledger()
        row = _foreign_pending_row(led, "a lantern at dawn")
        job = jobs.submit("a lantern at dawn", **SMALL)
        assert job.joined
        led.record_create_failed(row, "InvalidParameter", "refused by the gateway")
        with pytest.raises(Exception, match="refused by the gateway"):
            job.wait(10)
        assert job.status == "rejected" == led.get(row)["status"]
        assert creates(emulator_env) == 0
