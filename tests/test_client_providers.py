"""Every provider through the emulator: modes, failures, cancel, expiry, 401 (§5-§8, §10)."""
from __future__ import annotations

import logging

import pytest

from seedance_nb import jobs
from seedance_nb.emulator import Emulator
from seedance_nb.errors import (AuthError, CreateOutcomeUnknown, SeedanceAPIError,
                                SeedanceConfigError, TaskFailed)

from _client_helpers import DIALECTS, decodes, emu_submit, isolated_jobs, make_image

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def emu():
    with Emulator(port=0, speed=100, in_process=True, run_seconds=1) as server:
        yield server


@pytest.fixture
def mgr(tmp_path):
    with isolated_jobs(tmp_path) as manager:
        yield manager


def _ok(job, frames_min: int = 2):
    job.wait(60)
    assert job.status == "succeeded", job.error
    assert job.video_path and decodes(job.video_path) >= frames_min
    if job.settings.dialect != "comet":  # the comet video object carries no usage
        assert job.tokens and job.tokens > 0
    row = job.ledger.get(job.ledger_id)
    assert row["status"] == "succeeded" and row["video_path"] == job.video_path
    assert row["video_sha256"]
    return job


@pytest.mark.parametrize("emulate", DIALECTS)
def test_text_to_video(emu, mgr, emulate):
    job = _ok(emu_submit(emu, emulate, "a lighthouse at dusk"))
    assert job.task.id == job.task_id and job.task_id in job.video_path
    assert f"emulator-{job.task_id}".replace("/", "_") in job.video_path


@pytest.mark.parametrize("emulate", DIALECTS)
def test_first_frame(emu, mgr, tmp_path, emulate):
    img = make_image(tmp_path / "first.png")
    _ok(emu_submit(emu, emulate, "the fox wakes up", mode="first", images=[img]))


@pytest.mark.parametrize("emulate", ["ark", "byteplus", "comet-volc", "acedata"])
def test_first_and_last_frame_with_last_frame_png(emu, mgr, tmp_path, emulate):
    first = make_image(tmp_path / "a.png", color="navy")
    last = make_image(tmp_path / "b.png", color="gold")
    kw = {"return_last_frame": True}
    job = _ok(emu_submit(emu, emulate, "night turns to day", mode="first+last",
                         images=[(first, "first_frame"), (last, "last_frame")], **kw))
    assert job.last_frame_path and job.last_frame_path.endswith("-last.png")
    from PIL import Image
    with Image.open(job.last_frame_path) as im:
        assert im.size[0] > 0


@pytest.mark.parametrize("emulate", ["ark", "byteplus", "comet-volc", "acedata", "comet"])
def test_reference_images_on_2_0(emu, mgr, tmp_path, emulate):
    refs = [make_image(tmp_path / f"r{i}.png", color=c) for i, c in enumerate(["red", "blue"])]
    if emulate == "comet":  # comet takes one image, as a reference
        refs = refs[:1]
    images = [(r, "reference_image") for r in refs]
    job = emu_submit(emu, emulate, "the two objects dance", mode="ref", images=images,
                     model="2.0-fast", duration=4)
    _ok(job)


@pytest.mark.parametrize("emulate", DIALECTS)
def test_task_failure_raises_task_failed(emu, mgr, emulate):
    job = emu_submit(emu, emulate, "a cat [emu:fail]")
    with pytest.raises(TaskFailed) as info:
        job.wait(60)
    assert job.status == "failed" and job.video_path is None
    assert info.value.task.status == "failed"
    assert job.ledger.get(job.ledger_id)["status"] == "failed"
    with pytest.raises(TaskFailed):
        jobs.generate("a dog [emu:fail]", provider="emulator", emulate=emulate,
                      base_url=emu.base_url, api_key=emu.token, model=job.request.family,
                      resolution="480p", duration=job.request.duration)


@pytest.mark.parametrize("emulate", DIALECTS)
def test_rejected_create_is_not_billed(emu, mgr, emulate):
    job = emu_submit(emu, emulate, "bad words [emu:reject]")
    with pytest.raises(SeedanceAPIError) as info:
        job.wait(30)
    assert not isinstance(info.value, CreateOutcomeUnknown)
    assert job.status == "rejected" and job.task_id is None
    assert job.ledger.get(job.ledger_id)["status"] == "rejected"


@pytest.mark.parametrize("emulate", DIALECTS)
def test_create_500_is_outcome_unknown_and_never_resent(emu, mgr, emulate):
    before = emu.stats()["creates"]
    job = emu_submit(emu, emulate, "a boat [emu:500]")
    with pytest.raises(CreateOutcomeUnknown) as info:
        job.wait(30)
    after = emu.stats()["creates"]
    assert sum(after.values()) - sum(before.values()) == 1  # created once, never resent
    assert job.status == "unknown"
    assert job.ledger.get(job.ledger_id)["status"] == "unknown"
    if emulate in ("ark", "byteplus"):
        assert info.value.orphans  # the listing found the task the lost reply was about
    else:
        assert info.value.orphans == []


@pytest.mark.parametrize("emulate", DIALECTS)
def test_wrong_key_is_auth_error_without_leaking_it(emu, mgr, emulate, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "sk-wrong-key-do-not-leak-12345"
    job = emu_submit(emu, emulate, "a tree", api_key=wrong)
    with pytest.raises(AuthError) as info:
        job.wait(30)
    assert info.value.http_status == 401 and job.status == "rejected"
    for text in (str(info.value), repr(info.value), job.error, repr(job),
                 str(job._repr_mimebundle_()), caplog.text):
        assert wrong not in text


@pytest.mark.parametrize("emulate", ["comet", "comet-volc", "acedata"])
def test_cancel_is_a_client_error_where_the_gateway_cannot(emu, mgr, emulate):
    job = emu_submit(emu, emulate, "a slow river [emu:stall]")
    with pytest.raises(SeedanceConfigError, match="only ark and byteplus"):
        job.cancel()
    assert job.status in ("pending", "queued", "running")


@pytest.mark.parametrize("emulate", ["ark", "byteplus"])
def test_cancel_a_queued_task(tmp_path, emulate):
    family = "1.0-pro-fast"
    with Emulator(port=0, speed=100, in_process=True, run_seconds=1,
                  concurrency={family: 1}) as emu, isolated_jobs(tmp_path):
        blocker = emu_submit(emu, emulate, "hold the slot [emu:stall]", model=family)
        waiting = emu_submit(emu, emulate, "waits in the queue", model=family)
        for job in (blocker, waiting):  # both created before cancelling
            while job.task_id is None and not job.done:
                job._done.wait(0.05)
        waiting.cancel()
        with pytest.raises(TaskFailed):
            waiting.wait(30)
        assert waiting.status == "cancelled"
        assert waiting.ledger.get(waiting.ledger_id)["status"] == "cancelled"
        blocker.cancel()  # running: refused by the gateway, reported on the job
        for _ in range(100):
            if blocker.warning:
                break
            blocker._done.wait(0.05)
        assert "cancel refused" in blocker.warning and blocker.status == "running"


@pytest.mark.parametrize("emulate", DIALECTS)
def test_expiry_ends_expired(tmp_path, emulate):
    # Ark-JSON tasks expire after execution_expires_after; comet after 172800 s (scaled).
    speed = 50000 if emulate == "comet" else 2000
    kw = {} if emulate == "comet" else {"execution_expires_after": 3600}
    with Emulator(port=0, speed=speed, in_process=True) as emu, isolated_jobs(tmp_path):
        job = emu_submit(emu, emulate, "forever [emu:stall]", **kw)
        with pytest.raises(TaskFailed):
            job.wait(60)
        # comet reports ERROR; AceData reports expiry as response.success false (§10.4)
        expected = "failed" if emulate in ("comet", "acedata") else "expired"
        assert job.status == expected


def test_acedata_blocking_create_does_not_hold_the_worker(tmp_path):
    # run_seconds 300 at speed 100: the blocking create is held open about 3 s
    with Emulator(port=0, speed=100, in_process=True, run_seconds=300) as emu, \
            isolated_jobs(tmp_path):
        held = emu_submit(emu, "acedata", "held open until done", blocking=True)
        while held.status == "pending" and emu.stats()["creates"].get("ace", 0) == 0:
            held._done.wait(0.02)
        other = emu_submit(emu, "ark", "created meanwhile")
        for _ in range(100):
            if other.task_id:
                break
            other._done.wait(0.02)
        assert other.task_id and not held.done  # the worker went on while the POST was held
        held.wait(60)
        assert held.status == "succeeded" and decodes(held.video_path) > 0
        other.wait(60)


def test_automatic_emulator_says_so_once_and_explicit_provider_does_not(emu, mgr, monkeypatch,
                                                                         capsys):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", emu.token)
    monkeypatch.setattr(jobs.api, "_noticed", [])
    jobs.submit("a heron lands --rs 480p --dur 4", provider="emulator").wait(60)
    assert "offline emulator" not in capsys.readouterr().out  # asked for by name: no notice
    first = jobs.submit("a heron lands --rs 480p --dur 4 --seed 1")
    second = jobs.submit("a heron lands --rs 480p --dur 4 --seed 2")
    out = capsys.readouterr().out
    assert out.count("offline emulator") == 1 and "ARK_API_KEY" in out
    jobs.wait_all([first, second], timeout=60)


def test_emulator_notice_is_never_printed_from_another_thread(emu, mgr, monkeypatch, capsys):
    import threading

    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", emu.token)
    monkeypatch.setattr(jobs.api, "_noticed", [])
    done = []
    worker = threading.Thread(target=lambda: done.append(
        jobs.submit("a crane takes off --rs 480p --dur 4")))
    worker.start()
    worker.join()
    assert "offline emulator" not in capsys.readouterr().out
    jobs.submit("a crane takes off --rs 480p --dur 4 --seed 3")  # main thread: said now
    assert "offline emulator" in capsys.readouterr().out
    jobs.wait_all(done, timeout=60)
