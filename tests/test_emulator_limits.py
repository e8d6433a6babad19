"""Rate limits, concurrency, queued cap, expiry, signed URLs and retention (§10.4–§10.9)."""
from __future__ import annotations

import calendar
import time
from urllib.parse import parse_qs, urlsplit

import requests

from _emulator_helpers import ARK_TASKS, VOLC_TASKS, ark_body, emulator


def test_rpm_429_with_retry_after_per_dialect():
    # speed 60: the 60 s window lasts 1 real second
    with emulator(speed=60, rpm={"1.0-pro": 2, "2.0": 1}) as c:
        assert c.ark_create(ark_body()).status_code == 200
        assert c.ark_create(ark_body()).status_code == 200
        reply = c.ark_create(ark_body())
        assert reply.status_code == 429
        assert reply.headers["Retry-After"] == "1"
        err = reply.json()["error"]
        assert err["code"] == "ModelAccountRpmRateLimitExceeded" and err["type"] == "TooManyRequests"
        # another model has its own window
        fast = ark_body(model="doubao-seedance-1-0-pro-fast-251015")
        assert c.ark_create(fast).status_code == 200
        assert c.comet_create().status_code == 200
        reply = c.comet_create()
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "rate_limit_exceeded"
        assert int(reply.headers["Retry-After"]) >= 1
        assert c.ace_create().status_code == 200
        assert c.ace_create().status_code == 200
        reply = c.ace_create()
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "too_many_requests"
        time.sleep(float(reply.headers["Retry-After"]))
        assert c.ark_create(ark_body()).status_code == 200
        assert c.stats()["creates"] == {"ark": 4, "comet": 1, "volc": 0, "ace": 2}


def test_rpm_is_per_token():
    with emulator(speed=1, rpm={"1.0-pro": 1}, token=["sk-a", "sk-b"]) as c:
        assert c.ark_create(ark_body()).status_code == 200
        assert c.ark_create(ark_body()).status_code == 429
        other = c.s.post(c.base + ARK_TASKS, json=ark_body(), headers=c.headers("sk-b"))
        assert other.status_code == 200
        retry = int(c.ark_create(ark_body()).headers["Retry-After"])
        assert 55 <= retry <= 60


def test_concurrency_fifo_queue():
    # queued >= 0.02 s, running 0.3 s, one slot for 1.0-pro
    with emulator(speed=100, run_seconds=30, concurrency={"1.0-pro": 1}) as c:
        ids = [c.ark_new(text=f"clip {i}") for i in range(3)]
        started: dict[str, float] = {}
        finished: dict[str, float] = {}
        deadline = time.monotonic() + 30
        while len(finished) < 3 and time.monotonic() < deadline:
            # one list call gives an atomic snapshot of all three
            items = c.get(ARK_TASKS, params=[("filter.task_ids", i) for i in ids]).json()["items"]
            states = {t["id"]: t["status"] for t in items}
            assert sum(s == "running" for s in states.values()) <= 1, states
            now = time.monotonic()
            for i, s in states.items():
                if s == "running":
                    started.setdefault(i, now)
                if s == "succeeded":
                    started.setdefault(i, now)
                    finished.setdefault(i, now)
            time.sleep(0.01)
        assert len(finished) == 3
        assert started[ids[0]] < started[ids[1]] < started[ids[2]]
        assert finished[ids[0]] <= started[ids[1]] + 0.05


def test_queued_cap_per_token():
    with emulator(speed=1, max_queued=2) as c:  # min queue 2 s keeps everything queued
        assert c.ark_create(ark_body()).status_code == 200
        assert c.ace_create().status_code == 200
        reply = c.ark_create(ark_body())
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "QuotaExceeded"
        reply = c.comet_create()
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "rate_limit_exceeded"
        reply = c.ace_create()
        assert reply.status_code == 429 and reply.json()["error"]["code"] == "too_many_requests"


def test_execution_expires_after_expired_everywhere():
    # 3600 s scaled to 1 s; the run itself would take far longer
    with emulator(speed=3600, run_seconds=36000) as c:
        ark = c.ark_new(execution_expires_after=3600)
        volc = c.ark_new(prefix=VOLC_TASKS, execution_expires_after=3600)
        ace = c.ace_create(execution_expires_after=3600).json()["task_id"]
        t0 = time.monotonic()
        assert c.ark_wait(ark, timeout=10)["status"] == "expired"
        assert time.monotonic() - t0 > 0.5
        assert c.ark_wait(volc, prefix=VOLC_TASKS, timeout=10)["status"] == "expired"
        record = c.ace_wait(ace, timeout=10)
        assert record["response"]["success"] is False
        assert record["response"]["error"]["message"].startswith("expired")
        assert c.get(ARK_TASKS, params={"filter.status": "expired"}).json()["total"] == 1


def test_stall_marker_expires():
    with emulator(speed=3600, run_seconds=0) as c:
        task = c.ark_wait(c.ark_new(text="[emu:stall]", execution_expires_after=3600), timeout=10)
        assert task["status"] == "expired" and "content" not in task


def test_signed_url_expiry_and_tampering():
    with emulator(speed=86400, run_seconds=0) as c:  # URLs live 1 s
        task = c.ark_wait(c.ark_new(return_last_frame=True))
        url = task["content"]["video_url"]
        assert "X-Tos-Expires=1&" in url
        assert requests.get(url).status_code == 200
        other = "q" if task["id"][-1] != "q" else "r"  # a different id, whatever it ends with
        tampered = url.replace(task["id"], task["id"][:-1] + other)
        assert requests.get(tampered).status_code == 403
        bad_sig = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
        reply = requests.get(bad_sig)
        assert reply.status_code == 403 and reply.headers["Content-Type"].startswith("text/plain")
        longer = url.replace("X-Tos-Expires=1", "X-Tos-Expires=99")
        assert requests.get(longer).status_code == 403
        unsigned = url.split("?")[0]
        assert requests.get(unsigned).status_code == 403
        # expired once the wall clock passes the signing second + 1 s (+1 s of grace); wait
        # on the wall clock itself, since a fixed sleep is not enough on a busy machine
        signed = parse_qs(urlsplit(url).query)["X-Tos-Date"][0]
        end = calendar.timegm(time.strptime(signed, "%Y%m%dT%H%M%SZ")) + 2
        while time.time() < end + 0.1:
            time.sleep(0.05)
        assert requests.get(url).status_code == 403
        assert requests.get(task["content"]["last_frame_url"]).status_code == 403


def test_retention_of_records_files_and_cancelled():
    speed = 7 * 86400 / 2.5  # records live 2.5 s, files and cancelled records 0.36 s
    with emulator(speed=speed, run_seconds=0, concurrency={"1.0-pro": 1}) as c:
        comet = c.comet_create().json()["id"]
        ace = c.ace_create().json()["task_id"]
        blocker = c.ark_new(text="[emu:stall]", execution_expires_after=259200)  # 0.9 s
        queued = c.ark_new()
        assert c.ark_get(queued).json()["status"] == "queued"
        assert c.delete(f"{ARK_TASKS}/{queued}").status_code == 200
        assert c.ark_get(queued).json()["status"] == "cancelled"
        time.sleep(0.5)
        assert c.ark_get(queued).status_code == 404  # cancelled record gone after 24 h
        assert c.ark_get(blocker).status_code == 200
        time.sleep(2.2)
        reply = c.ark_get(blocker)
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "NotFound.TaskId"
        reply = c.get(f"/v1/videos/{comet}")
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "task_not_exist"
        reply = c.ace_retrieve(ace)
        assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
