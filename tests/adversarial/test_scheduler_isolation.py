"""The scheduler against hostile gateways (§8 Bounds): a stalled, trickling or
Retry-After: 120 gateway delays only its own jobs; every job ends at its deadline;
a reply that cannot be understood fails only its own task, and the ledger agrees."""
from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any, Callable, Optional
from urllib.parse import parse_qs

import pytest

from seedance_nb import jobs
from seedance_nb.config import settings
from seedance_nb.errors import WaitTimeout

from _client_helpers import isolated_jobs
from hostile import Hostile, fake_mp4, rate_limited, reply, stall, trickle

pytestmark = pytest.mark.timeout(60)
PATH = "/api/v3/contents/generations/tasks"
_GATEWAYS = itertools.count()
MODEL = "doubao-seedance-1-0-pro-fast-251015"


class FakeArk:
    """An Ark-speaking gateway on a Hostile server.

    Creates hand out ids (`create_ids` first, then cgt-N). Reads answer from
    `on_batch(ids) -> Handler` and `on_single(id) -> Handler`; by default every
    task has succeeded with a video on this server.
    """

    def __init__(self, gw: Hostile) -> None:
        self.gw = gw
        self.count = itertools.count()
        self.prefix = f"cgt-g{next(_GATEWAYS)}-"  # ids are unique per provider in the ledger
        self.create_ids: list[str] = []
        self.lock = threading.Lock()
        self.on_batch: Callable[[list[str]], Any] = lambda ids: self.items(
            [self.task(i) for i in ids])
        self.on_single: Callable[[str], Any] = lambda tid: self.json(self.task(tid))
        gw.default = self._handle
        gw.route("/v.mp4", reply(200, fake_mp4(), {"Content-Type": "video/mp4"}))

    @property
    def base_url(self) -> str:
        return self.gw.url + "/api/v3"

    def task(self, tid: str, status: str = "succeeded", **extra: Any) -> dict:
        obj = {"id": tid, "model": MODEL, "status": status, "created_at": int(time.time())}
        if status == "succeeded":
            obj["content"] = {"video_url": self.gw.url + "/v.mp4"}
            obj["usage"] = {"completion_tokens": 1000, "total_tokens": 1000}
        obj.update(extra)
        return obj

    @staticmethod
    def json(obj: Any) -> Any:
        return reply(200, json.dumps(obj), {"Content-Type": "application/json"})

    def items(self, items: list) -> Any:
        return self.json({"total": len(items), "items": items})

    def reads(self) -> int:
        return sum(1 for r in list(self.gw.seen) if r.method == "GET" and r.path.startswith(PATH))

    def creates(self) -> int:
        return sum(1 for r in list(self.gw.seen) if r.method == "POST")

    def _handle(self, conn: Any, req: Any) -> None:
        if req.method == "POST" and req.path == PATH:
            with self.lock:
                tid = self.create_ids.pop(0) if self.create_ids else f"{self.prefix}{next(self.count)}"
            return reply(200, json.dumps({"id": tid}) if tid else "{}",
                         {"Content-Type": "application/json"})(conn, req)
        if req.path == PATH:
            return self.on_batch(parse_qs(req.query).get("filter.task_ids", []))(conn, req)
        if req.path.startswith(PATH + "/"):
            return self.on_single(req.path.rsplit("/", 1)[1])(conn, req)
        return reply(404, "{}")(conn, req)


def submit(fake: FakeArk, prompt: str, **kw: Any) -> Any:
    return jobs.submit(prompt, provider="emulator", emulate="ark", base_url=fake.base_url,
                       api_key="sk-emulator", model="1.0-pro-fast", resolution="480p",
                       duration=2, **kw)


def finish_time(batch: list, timeout: float = 30) -> float:
    t0 = time.monotonic()
    jobs.wait_all(batch, timeout=timeout)
    return time.monotonic() - t0


def row_of(job: Any) -> dict:
    return job.ledger.get(job.ledger_id)


def healthy_run(fake: FakeArk, tag: str) -> tuple[list, float]:
    t0 = time.monotonic()
    batch = [submit(fake, f"{tag} healthy {i}") for i in range(4)]
    jobs.wait_all(batch, timeout=30)
    return batch, time.monotonic() - t0


# --- isolation ---------------------------------------------------------------------------

def _stalled(fake: FakeArk) -> None:
    fake.on_batch = lambda ids: stall(30)
    fake.on_single = lambda tid: stall(30)


def _trickling(fake: FakeArk) -> None:
    body = json.dumps({"total": 0, "items": []})
    fake.on_batch = lambda ids: trickle(body, interval=1.0)
    fake.on_single = lambda tid: trickle(body, interval=1.0)


def _retry_after_120(fake: FakeArk) -> None:
    fake.on_batch = lambda ids: rate_limited("120")
    fake.on_single = lambda tid: rate_limited("120")


@pytest.mark.parametrize("hostile", [_stalled, _trickling, _retry_after_120],
                         ids=["stall", "trickle", "retry-after-120"])
def test_a_hostile_gateway_never_delays_a_healthy_one(tmp_path, hostile):
    with Hostile() as good_gw, Hostile() as bad_gw, isolated_jobs(tmp_path, poll_interval=0.1):
        good, bad = FakeArk(good_gw), FakeArk(bad_gw)
        hostile(bad)
        _, baseline = healthy_run(good, "alone")
        stuck = [submit(bad, f"hostile {i}") for i in range(2)]
        deadline = time.monotonic() + 5
        while bad.reads() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # the hostile lane is inside its bad read
        assert bad.reads() >= 1
        batch, with_hostile = healthy_run(good, "beside")
        assert all(j.status == "succeeded" for j in batch), [(j.status, j.error) for j in batch]
        assert with_hostile < 3 * baseline + 2.0, (baseline, with_hostile)
        assert not any(j.done for j in stuck)  # the hostile jobs are simply still waiting
        if hostile is _retry_after_120:
            # the Retry-After is a scheduled time on that lane, not a storm of retries
            assert bad.reads() == 1


def test_a_read_retry_after_is_waited_out_as_a_scheduled_time(tmp_path):
    # retry_scale 0.01: Retry-After 50 s becomes a 0.5 s wait on the lane
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1, retry_scale=0.01) as mgr:
        fake = FakeArk(gw)
        answers = iter([rate_limited("50")])
        fake.on_batch = lambda ids: next(answers, None) or fake.items([fake.task(i)
                                                                       for i in ids])
        t0 = time.monotonic()
        job = submit(fake, "patience")
        job.wait(10)
        took = time.monotonic() - t0
        assert job.status == "succeeded"
        assert fake.reads() == 2  # the 429, then one read after the wait: no retry storm
        assert 0.4 < took < 4.0, took
        lane = next(iter(mgr._lanes.values()))
        assert lane.failures == 0  # the backoff resets once a read succeeds


def test_a_stuck_lane_still_ends_its_jobs_at_their_deadline(tmp_path):
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        _stalled(fake)
        job = submit(fake, "stuck poll", timeout=1.0)
        t0 = time.monotonic()
        with pytest.raises(WaitTimeout):
            job.wait()
        assert time.monotonic() - t0 < 2.5
        assert job.task_id and row_of(job)["status"] in ("queued", "running")  # it goes on


def test_a_stalled_create_still_ends_at_the_deadline(tmp_path):
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        gw.default = stall(30)
        t0 = time.monotonic()
        job = submit(fake, "stuck create", timeout=1.0)
        with pytest.raises(WaitTimeout):
            job.wait()
        assert time.monotonic() - t0 < 2.5
        assert job.status == "pending"  # sent, answer not in: neither billed nor refused yet


CHILD = """
import sys, time
from seedance_nb import jobs
from seedance_nb.config import settings
settings.output_dir = sys.argv[2]
jobs.submit("stuck at exit", provider="emulator", emulate="ark", base_url=sys.argv[1],
            api_key="sk-emulator", model="1.0-pro-fast", resolution="480p", duration=2)
time.sleep(1.0)  # the create is now stuck on the lane's thread
print("leaving", flush=True)
"""


def test_a_stuck_lane_never_holds_the_interpreter_at_exit(tmp_path):
    import subprocess
    import sys

    with Hostile() as gw:
        fake = FakeArk(gw)
        gw.default = stall(30)
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-c", CHILD, fake.base_url, str(tmp_path)],
                              capture_output=True, text=True, timeout=30)
        took = time.monotonic() - t0
    assert "leaving" in done.stdout, done.stderr[-2000:]
    assert gw.seen  # the create really was in flight
    assert took < 10, took  # not the 60 s reply deadline: lane threads are daemons


def test_generate_without_timeout_uses_the_default_deadline(tmp_path):
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        _stalled(fake)
        settings.wait_timeout = 1.0
        t0 = time.monotonic()
        with pytest.raises(WaitTimeout):
            jobs.generate("never ends", provider="emulator", emulate="ark",
                          base_url=fake.base_url, api_key="sk-emulator", model="1.0-pro-fast",
                          resolution="480p", duration=2)
        assert time.monotonic() - t0 < 3.0


# --- replies that cannot be understood ----------------------------------------------------

def _batch_with(fake: FakeArk, bad_id: Callable[[], Optional[str]], text: str) -> None:
    """Batch reads that include `text` for the bad task; single reads likewise."""
    def batch(ids: list[str]) -> Any:
        parts = [text if i == bad_id() else json.dumps(fake.task(i)) for i in ids]
        return reply(200, '{"total": %d, "items": [%s]}' % (len(ids), ",".join(parts)),
                     {"Content-Type": "application/json"})

    def single(tid: str) -> Any:
        return reply(200, text if tid == bad_id() else json.dumps(fake.task(tid)),
                     {"Content-Type": "application/json"})

    fake.on_batch, fake.on_single = batch, single


def _run_three(tmp_path: Any, arrange: Callable[[FakeArk, list], None]) -> tuple[list, FakeArk]:
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        fake.create_ids = ["cgt-a", "cgt-b", "cgt-c"]
        holder: list = []
        arrange(fake, holder)
        holder.extend(submit(fake, f"three {i}") for i in range(3))
        jobs.wait_all(holder, timeout=20)
        return holder, fake


def _assert_only_b_failed(batch: list, code: str, snippet: Optional[str] = None) -> None:
    a, b, c = batch
    assert a.status == c.status == "succeeded", [(j.status, j.error) for j in batch]
    assert a.video_path and c.video_path
    assert b.status == "failed" and code in b.error
    row = row_of(b)
    assert row["status"] == "failed" and row["error_code"] == code == b.task.error["code"]
    if snippet:
        assert snippet in b.error and snippet in row["error_message"]
    assert row_of(a)["status"] == "succeeded"


def test_nan_in_one_task_fails_only_that_task(tmp_path):
    nan = '{"id": "cgt-b", "model": "m", "status": "running", "seed": NaN}'
    batch, fake = _run_three(tmp_path, lambda f, h: _batch_with(f, lambda: "cgt-b", nan))
    _assert_only_b_failed(batch, batch[1].task.error["code"], snippet="NaN")
    assert batch[1].task.error["code"] in ("BadNumber", "BadJSON")


def test_integer_beyond_64_bits_fails_the_task_in_job_and_ledger(tmp_path):
    huge = json.dumps({"id": "cgt-b", "model": "m", "status": "succeeded",
                       "content": {"video_url": "https://x.invalid/v.mp4"},
                       "usage": {"completion_tokens": 2 ** 70, "total_tokens": 2 ** 70}})
    batch, _ = _run_three(tmp_path, lambda f, h: _batch_with(f, lambda: "cgt-b", huge))
    _assert_only_b_failed(batch, batch[1].task.error["code"])
    assert row_of(batch[1])["tokens"] is None  # never half-recorded


def test_a_batch_listing_one_id_twice_fails_that_task_only(tmp_path):
    def arrange(fake: FakeArk, holder: list) -> None:
        def batch(ids: list[str]) -> Any:
            items = [fake.task(i) for i in ids]
            if "cgt-b" in ids:
                items.append(fake.task("cgt-b", status="running"))
            return fake.items(items)
        fake.on_batch = batch

    batch, _ = _run_three(tmp_path, arrange)
    _assert_only_b_failed(batch, "DuplicateTaskId")


def test_a_status_going_back_from_terminal_fails_that_task_only(tmp_path):
    def arrange(fake: FakeArk, holder: list) -> None:
        reads = itertools.count()

        def b_task() -> dict:
            # succeeded without a URL (counts as running for a few polls), then queued
            if next(reads) == 0:
                return fake.task("cgt-b", status="succeeded", content=None)
            return fake.task("cgt-b", status="queued")

        fake.on_batch = lambda ids: fake.items(
            [b_task() if i == "cgt-b" else fake.task(i) for i in ids])

    batch, _ = _run_three(tmp_path, arrange)
    _assert_only_b_failed(batch, "StatusRegressed")


def test_a_create_answering_a_live_task_id_fails_only_the_new_job(tmp_path):
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        fake.create_ids = ["cgt-same", "cgt-same"]
        gate = threading.Event()
        fake.on_batch = lambda ids: fake.items(
            [fake.task(i, status="succeeded" if gate.is_set() else "running") for i in ids])
        first = submit(fake, "first of two")
        deadline = time.monotonic() + 5
        while first.task_id is None and time.monotonic() < deadline:
            time.sleep(0.02)
        second = submit(fake, "second of two")
        second_end = finish_time([second], timeout=10)
        gate.set()
        jobs.wait_all([first], timeout=10)
        assert second.status == "failed" and "DuplicateTaskId" in second.error
        row = row_of(second)
        assert row["status"] == "failed" and row["error_code"] == "DuplicateTaskId"
        assert row["task_id"] is None  # the id stays with the row that had it first
        assert first.status == "succeeded" and row_of(first)["task_id"] == "cgt-same"
        assert second_end < 5  # it did not stay pending forever


def test_a_create_reply_without_an_id_fails_that_job_only(tmp_path):
    """A 200 `{}` to a create: that job ends failed MissingId (job and ledger agree),
    it is never resent, and the next job on the same gateway succeeds."""
    with Hostile() as gw, isolated_jobs(tmp_path, poll_interval=0.1):
        fake = FakeArk(gw)
        fake.create_ids = [""]  # the first create is answered `{}`
        lost = submit(fake, "no id for me")
        jobs.wait_all([lost], timeout=10)
        fine = submit(fake, "a normal one")
        jobs.wait_all([fine], timeout=10)
        assert lost.status == "failed" and "MissingId" in lost.error
        row = row_of(lost)
        assert row["status"] == "failed" and row["error_code"] == "MissingId"
        assert row["task_id"] is None
        assert fine.status == "succeeded" and fine.video_path
        assert fake.creates() == 2  # the id-less create was not sent again
