"""Job manager logic against a fake gateway: batching, status rules, reuse,
deadlines, scheduling of rate-limited creates, resume (§6.4, §8)."""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass

import pytest

from seedance_nb import jobs
from seedance_nb.request import build_request
from seedance_nb.config import ClientSettings, settings
from seedance_nb.errors import (RateLimitError, SeedanceConfigError, TaskFailed, TaskNotFound,
                                WaitTimeout)
from seedance_nb.providers.base import CreateResult

from _client_helpers import isolated_jobs, reply, scripted_server

pytestmark = pytest.mark.timeout(60)
KEY = "sk-fake-gateway-key-123456"
# The fake gateway is "on loopback", so it may hand out http://127.0.0.1 file URLs (§8).
FAKE_BASE = "http://127.0.0.1:9/api/v3"


@dataclass
class FakeResponse:
    status_code: int
    content: bytes
    headers: dict


class FakeGateway:
    """Speaks Ark JSON from memory; each read of a task advances it one step."""

    PROGRAMS = {
        "ok": ["queued", "running", "succeeded"],
        "nourl": ["running", "succeeded!"],  # '!' = succeeded without a video URL
        "weird": ["thinking", "succeeded"],
        "slow": ["running"],
        "hold": ["queued"],  # stays queued: cancellable (a running task is not, §10.6)
        "fail": ["running", "failed"],
        "gone": ["running"],
    }

    def __init__(self, file_url: str) -> None:
        self.file_url = file_url
        self.tasks: dict[str, dict] = {}
        self.counts: collections.Counter = collections.Counter()
        self.calls: list[tuple[str, str]] = []
        self.create_errors: list[Exception] = []
        self.create_errors_for: dict[str, list[Exception]] = {}
        self.create_gate: threading.Event | None = None
        self.read_delay = 0.0
        self.lock = threading.Lock()

    # transport interface used by JobManager
    def __call__(self, settings, dialect):  # transport factory
        self.dialect = dialect
        return self

    def close(self) -> None:
        pass

    def create(self, call, *, retry_429=True, attempt=0):
        self.counts["create"] += 1
        self.counts["total"] += 1
        self.calls.append(("POST", call.path))
        if self.create_gate is not None:
            self.create_gate.wait(10)
        text = call.json["content"][0]["text"]
        if self.create_errors_for.get(text):
            raise self.create_errors_for[text].pop(0)
        if self.create_errors:
            raise self.create_errors.pop(0)
        program = next((p for p in self.PROGRAMS if text.startswith(p)), "ok")
        task_id = f"cgt-{len(self.tasks):05d}"
        with self.lock:
            self.tasks[task_id] = {"program": list(self.PROGRAMS[program]), "step": 0,
                                   "model": call.json["model"], "name": program}
        return CreateResult(task_id=task_id)

    def _advance(self, task_id: str) -> dict:
        t = self.tasks[task_id]
        word = t["program"][min(t["step"], len(t["program"]) - 1)]
        t["step"] += 1
        obj = {"id": task_id, "model": t["model"], "status": word.rstrip("!"),
               "created_at": 1763741340, "updated_at": int(time.time()), "seed": 42}
        if word == "succeeded":
            obj["content"] = {"video_url": f"{self.file_url}/files/{task_id}.mp4"}
            obj["usage"] = {"completion_tokens": 1000, "total_tokens": 1000}
        if word == "failed":
            obj["error"] = {"code": "OutputVideoSensitiveContentDetected", "message": "no"}
        return obj

    def send(self, call):
        self.counts["read" if call.method == "GET" else "delete"] += 1
        self.counts["total"] += 1
        self.calls.append((call.method, call.path))
        if self.read_delay:
            time.sleep(self.read_delay)
        with self.lock:
            if call.method == "DELETE":
                task_id = call.path.rsplit("/", 1)[1]
                self.tasks[task_id]["program"] = ["cancelled"]
                self.tasks[task_id]["step"] = 0
                return FakeResponse(200, b"{}", {})
            if call.path.endswith("/tasks"):
                ids = [v for k, v in call.params if k == "filter.task_ids"]
                items = [self._advance(i) for i in ids
                         if i in self.tasks and self.tasks[i]["name"] != "gone"]
                body = {"total": len(items), "items": items}
                return FakeResponse(200, json.dumps(body).encode(), {})
            task_id = call.path.rsplit("/", 1)[1]
            if task_id not in self.tasks or self.tasks[task_id]["name"] == "gone":
                raise TaskNotFound("task not found", provider="ark", http_status=404,
                                   code="NotFound.TaskId")
            return FakeResponse(200, json.dumps(self._advance(task_id)).encode(), {})


@pytest.fixture
def files():
    with scripted_server(reply(200, b"\x00\x00\x00\x18ftypmp42 fake video bytes")) as (root, s):
        yield root, s


@pytest.fixture
def gw(files, tmp_path, monkeypatch):
    monkeypatch.setenv("ARK_API_KEY", KEY)
    gateway = FakeGateway(files[0])
    with isolated_jobs(tmp_path, transport_factory=gateway) as mgr:
        settings.poll_interval = 5.0  # the real-provider floor; tests shorten rounds below
        gateway.mgr = mgr
        yield gateway


def fast_rounds(monkeypatch, interval=0.05):
    """Make the fake 'ark' provider poll quickly (the real floor is 5 s)."""
    from seedance_nb import catalog

    monkeypatch.setattr(catalog, "POLL_FLOOR_REAL_S", interval)
    settings.poll_interval = interval
    monkeypatch.setattr(jobs.scheduler, "FIRST_CHECK_S", 0.02)


def sub(prompt="ok a fox", **kw):
    kw.setdefault("model", "1.0-pro-fast")
    kw.setdefault("resolution", "480p")
    kw.setdefault("duration", 2)
    kw.setdefault("base_url", FAKE_BASE)
    return jobs.submit(prompt, provider="ark", **kw)


def test_submit_returns_at_once_intent_recorded_before_sending(gw, monkeypatch):
    fast_rounds(monkeypatch)
    gw.create_gate = threading.Event()
    t0 = time.monotonic()
    job = sub()
    assert time.monotonic() - t0 < 0.5
    # held by admission control ("waiting") or admitted and being sent ("pending")
    assert job.status in ("waiting", "pending") and job.task_id is None
    row = job.ledger.get(job.ledger_id)
    assert row["status"] in ("waiting", "pending") and row["task_id"] is None
    gw.create_gate.set()
    job.wait(10)
    assert job.status == "succeeded" and os.path.exists(job.video_path)
    row = job.ledger.get(job.ledger_id)
    assert row["task_id"] == job.task_id and row["sent_at"] and row["video_sha256"]


def test_batch_rounds_cost_one_request_per_chunk(gw, monkeypatch):
    fast_rounds(monkeypatch, 0.2)
    batch = [sub(f"slow {i}") for i in range(25)]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(r.jobs == 25 for r in gw.mgr.rounds):
        time.sleep(0.05)
    gw.dialect.batch_size = 10  # as if the gateway took 10 ids per list call
    n = len(gw.mgr.rounds)
    while time.monotonic() < deadline and len(gw.mgr.rounds) < n + 2:
        time.sleep(0.05)
    full = [r for r in gw.mgr.rounds if r.jobs == 25]
    assert full[0].requests == 1  # 25 tasks, one list request
    assert full[-1].requests == 3  # 25 tasks at 10 per request
    assert gw.counts["read"] == sum(r.requests for r in gw.mgr.rounds)
    assert all(not j.done for j in batch)


def test_missing_from_batch_fetched_singly_then_task_not_found(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub("gone soon")
    with pytest.raises(TaskNotFound):
        job.wait(10)
    assert job.status == "failed"
    assert ("GET", f"/contents/generations/tasks/{job.task_id}") in gw.calls
    assert job.ledger.get(job.ledger_id)["status"] == "failed"


def test_succeeded_without_url_fails_after_three_more_polls(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub("nourl please")
    with pytest.raises(TaskFailed, match="NoVideoUrl"):
        job.wait(10)
    assert job.status == "failed"
    reads = gw.tasks[job.task_id]["step"]
    assert reads == 1 + 4  # one running poll, then succeeded-without-URL 4 times
    assert job.ledger.get(job.ledger_id)["error_code"] == "NoVideoUrl"


def test_unknown_status_word_warns_once_and_counts_as_running(gw, monkeypatch, caplog):
    fast_rounds(monkeypatch)
    caplog.set_level(logging.WARNING, logger="seedance_nb")
    jobs.job._warned_words.discard(("ark", "thinking"))
    first = sub("weird one")
    second = sub("weird two")
    jobs.wait_all([first, second], timeout=10)
    assert first.status == second.status == "succeeded"
    assert "thinking" in first.warning and "thinking" in second.warning
    assert caplog.text.count("'thinking'") == 1


def test_rate_limited_create_rescheduled_without_stalling_polls(gw, monkeypatch):
    fast_rounds(monkeypatch)
    gw.create_errors_for["ok limited"] = [
        RateLimitError("slow down", retry_after=0.4, provider="ark", http_status=429)
        for _ in range(2)]
    t0 = time.monotonic()
    limited = sub("ok limited")
    other = sub("ok other")
    other.wait(10)
    other_done = time.monotonic() - t0
    limited.wait(10)
    assert limited.status == "succeeded" and gw.counts["create"] == 4
    assert other_done < time.monotonic() - t0  # the other job finished first
    assert time.monotonic() - t0 >= 0.8


def test_rate_limited_create_gives_up_after_three_retries(gw, monkeypatch):
    fast_rounds(monkeypatch)
    gw.create_errors = [RateLimitError("slow down", retry_after=0.05, provider="ark",
                                       http_status=429) for _ in range(4)]
    job = sub()
    with pytest.raises(RateLimitError):
        job.wait(10)
    assert job.status == "rejected" and gw.counts["create"] == 4


def test_deadline_raises_wait_timeout_and_leaves_task_alone(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub("slow forever", timeout=0.5)
    with pytest.raises(WaitTimeout, match="resume"):
        job.wait()
    assert not any(m == "DELETE" for m, _ in gw.calls)
    assert job.status in ("queued", "running")
    assert job.ledger.get(job.ledger_id)["status"] in ("queued", "running")


def test_wait_with_short_timeout_keeps_polling(gw, monkeypatch):
    fast_rounds(monkeypatch, 0.3)
    job = sub()
    with pytest.raises(WaitTimeout):
        job.wait(0.01)
    assert job.wait(10).status == "succeeded"


def test_await_does_not_block_the_event_loop(gw, monkeypatch):
    fast_rounds(monkeypatch)

    async def main():
        job = sub()
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        t = asyncio.ensure_future(ticker())
        done = await job
        t.cancel()
        return done, ticks

    job, ticks = asyncio.run(main())
    assert job.status == "succeeded" and ticks >= 3


def test_failed_task_raises_and_generate_raises(gw, monkeypatch):
    fast_rounds(monkeypatch)
    with pytest.raises(TaskFailed) as info:
        jobs.generate("fail now", provider="ark", base_url=FAKE_BASE, model="1.0-pro-fast", resolution="480p",
                      duration=2)
    assert info.value.task.error["code"] == "OutputVideoSensitiveContentDetected"


def test_cancel_goes_through_worker_and_ends_cancelled(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub("hold to cancel")
    while job.task_id is None:
        time.sleep(0.01)
    job.cancel()
    with pytest.raises(TaskFailed):
        job.wait(10)
    assert job.status == "cancelled" and ("DELETE", f"/contents/generations/tasks/{job.task_id}") in gw.calls
    with pytest.raises(ValueError, match="already ended"):
        job.cancel()


def test_reuse_same_request_makes_no_http(gw, monkeypatch, files):
    fast_rounds(monkeypatch)
    first = sub("ok reuse me", seed=3).wait(10)
    before = dict(gw.counts)
    downloads = len(files[1].seen)
    again = sub("ok reuse me", seed=3)
    assert again.done and again.reused and again.status == "succeeded"
    assert again.video_path == first.video_path and again.ledger_id == first.ledger_id
    time.sleep(0.2)
    assert dict(gw.counts) == before and len(files[1].seen) == downloads

    # file gone, URL still valid: downloaded again, no create
    os.remove(first.video_path)
    third = sub("ok reuse me", seed=3).wait(10)
    assert third.reused and os.path.exists(third.video_path)
    assert gw.counts["create"] == before["create"] and len(files[1].seen) == downloads + 1

    # file gone and URL expired: a clear failure suggesting new=True
    os.remove(third.video_path)
    led = third.ledger
    led._exec("UPDATE tasks SET url_expires_at = ? WHERE id = ?", (time.time() - 10,
                                                                   third.ledger_id))
    gone = sub("ok reuse me", seed=3)
    with pytest.raises(TaskFailed, match="new=True"):
        gone.wait(1)
    fresh = sub("ok reuse me", seed=3, new=True).wait(10)
    assert not fresh.reused and gw.counts["create"] == before["create"] + 1


def test_repr_mimebundle_shows_job_and_video_never_key(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub().wait(10)
    bundle = job._repr_mimebundle_()
    text = bundle["text/plain"]
    for part in (job.task_id, "succeeded", job.model, "tokens=1000", "seed=42"):
        assert part in text
    assert "<video" in bundle["text/html"]
    assert KEY not in str(bundle) and KEY not in repr(job)


def test_cancel_where_impossible_is_a_plain_client_error(tmp_path, monkeypatch):
    settings = ClientSettings(provider="comet", dialect="comet", api_key=KEY,
                              base_url="https://x.invalid")
    job = jobs.Job(settings=settings)
    job.status = "running"
    with pytest.raises(SeedanceConfigError, match="only ark and byteplus"):
        job.cancel()


def test_poll_interval_floors():
    real = ClientSettings(provider="ark", dialect="ark", api_key=KEY, base_url="https://x")
    emu = ClientSettings(provider="emulator", dialect="ark", api_key=KEY, base_url="http://x")
    assert jobs.poll_interval(real, 1.0) == (5.0, True)
    assert jobs.poll_interval(real, 20.0) == (20.0, False)
    assert jobs.poll_interval(emu, 0.01) == (0.1, True)
    assert jobs.poll_interval(emu, 0.5) == (0.5, False)


def test_floor_warning_when_interval_raised(gw, monkeypatch):
    settings.poll_interval = 1.0
    jobs.api._floor_warned.discard("ark")
    with pytest.warns(UserWarning, match="below the floor"):
        sub("slow warn")


def test_resume_after_stop_finishes_jobs(gw, monkeypatch, tmp_path):
    fast_rounds(monkeypatch)
    for name in ("slow a", "slow b"):
        sub(name)
    mgr = gw.mgr
    deadline = time.monotonic() + 5
    while any(j.task_id is None for j in mgr.jobs) and time.monotonic() < deadline:
        time.sleep(0.01)
    mgr.stop()
    assert all(not j.done for j in mgr.jobs)
    for t in gw.tasks.values():  # the gateway finishes them while nobody watches
        t["program"], t["step"] = ["succeeded"], 0
    new = jobs.JobManager(transport_factory=gw)
    jobs.set_manager(new)
    try:
        resumed = jobs.resume(api_key=KEY, base_url=FAKE_BASE)
        assert sorted(j.task_id for j in resumed) == sorted(gw.tasks)
        jobs.wait_all(resumed, timeout=10)
        assert all(j.status == "succeeded" and os.path.exists(j.video_path) for j in resumed)
        assert gw.counts["create"] == 2
        assert jobs.resume(api_key=KEY, base_url=FAKE_BASE) == []  # nothing left in flight
    finally:
        new.stop()


def test_stopped_manager_wait_is_a_clear_error(gw, monkeypatch):
    fast_rounds(monkeypatch)
    job = sub("slow stop")
    gw.mgr.stop()
    with pytest.raises(Exception, match="resume"):
        job.wait(5)


def test_traits_change_on_the_worker_thread_and_elapsed_grows(gw, monkeypatch):
    fast_rounds(monkeypatch)
    seen = []
    job = sub()
    job.observe(lambda ch: seen.append((ch["new"], threading.current_thread().name)),
                names=["status"])
    job.wait(10)
    assert [s for s, _ in seen][-1] == "succeeded"
    assert {t for _, t in seen} == {"seedance-nb-lane1-ark_0"}  # the lane thread
    assert job.elapsed > 0


def test_resume_reports_requests_never_sent_once_and_sends_nothing(gw, monkeypatch):
    fast_rounds(monkeypatch)
    led = jobs.manager().ledger()
    req = build_request("ok left behind", provider="ark", model="1.0-pro-fast",
                             resolution="480p", duration=2)
    row_id = led.record_intent(fingerprint=req.fingerprint(), provider="ark", dialect="ark",
                               model=req.model, base_url="https://example.invalid/api/v3",
                               request=req.to_dict())
    fresh_id = led.record_intent(fingerprint="f2", provider="ark", dialect="ark",
                                 model=req.model, base_url="https://example.invalid/api/v3",
                                 request=req.to_dict())
    # the first intent is old (its process died); the second may be a live submit elsewhere
    led._exec("UPDATE tasks SET created_at = created_at - 7200 WHERE id = ?", (row_id,))
    with pytest.warns(UserWarning, match="1 request\\(s\\) were recorded but never sent"):
        assert jobs.resume(api_key=KEY, base_url=FAKE_BASE) == []
    row = led.get(row_id)
    assert row["status"] == "rejected" and row["error_code"] == "NeverSent"
    assert led.get(fresh_id)["status"] == "pending"
    assert gw.counts["create"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jobs.resume(api_key=KEY, base_url=FAKE_BASE)  # reported once only
