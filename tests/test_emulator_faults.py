"""Start-up fault options: 5xx, resets, slow and truncated downloads, malformed JSON."""
from __future__ import annotations

import time

import pytest
import requests

from _emulator_helpers import ark_body, emulator


def _statuses(c, task_id, n=20):
    return [c.ark_get(task_id).status_code for _ in range(n)]


def test_5xx_on_reads_in_each_envelope_and_never_on_creates_by_default():
    with emulator(fault_5xx=1.0) as c:
        reply = c.ark_create(ark_body())
        assert reply.status_code == 200
        task_id = reply.json()["id"]
        got = c.ark_get(task_id)
        assert got.status_code == 500
        assert got.json()["error"]["code"] == "InternalServiceError" and got.headers["X-Request-Id"]
        comet = c.comet_create()
        assert comet.status_code == 200
        got = c.get(f"/v1/videos/{comet.json()['id']}")
        assert got.status_code == 500 and got.json()["error"]["type"] == "comet_api_error"
        ace = c.ace_create().json()["task_id"]
        got = c.ace_retrieve(ace)
        assert got.status_code == 500 and got.json()["error"]["code"] == "api_error"
        assert c.s.get(c.base + "/healthz").status_code == 200
        assert c.stats()["faults"]["5xx"] == 3


def test_5xx_rate_is_repeatable_with_seed():
    runs = []
    for _ in range(2):
        with emulator(fault_5xx=0.5, fault_seed=7) as c:
            task_id = c.ark_new()
            runs.append(_statuses(c, task_id))
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}
    with emulator(fault_5xx=0.5, fault_seed=8) as c:
        assert _statuses(c, c.ark_new()) != runs[0]


def test_5xx_on_creates_with_all_routes_still_creates_the_task():
    with emulator(fault_5xx=0.5, fault_seed=3, fault_routes="all") as c:
        codes = [c.ark_create(ark_body(text=f"n{i}")).status_code for i in range(12)]
        assert set(codes) == {200, 500}
        stats = c.stats()
        assert stats["creates"]["ark"] == 12  # every create made a task, 500 or not
        assert stats["faults"]["5xx"] == codes.count(500)


def test_reset_closes_the_connection_without_a_reply():
    with emulator(fault_reset=1.0) as c:
        assert c.ark_create(ark_body()).status_code == 200  # creates spared by default
        with pytest.raises(requests.ConnectionError):
            c.ark_get("cgt-20250101000000-aaaaa")
        assert c.stats()["faults"]["reset"] == 1


def test_reset_on_all_routes_creates_nothing():
    with emulator(fault_reset=1.0, fault_routes="all") as c:
        with pytest.raises(requests.ConnectionError):
            c.ark_create(ark_body())
        assert c.stats()["creates"]["ark"] == 0


def test_malformed_json_on_reads():
    with emulator(fault_malformed=1.0) as c:
        reply = c.ark_create(ark_body())
        task_id = reply.json()["id"]  # creates are intact
        got = c.ark_get(task_id)
        assert got.status_code == 200 and got.headers["Content-Type"] == "application/json"
        with pytest.raises(ValueError):
            got.json()
        assert c.stats()["faults"]["malformed"] == 1


def test_truncated_download_keeps_full_content_length():
    with emulator(fault_truncate=1.0) as c:
        task = c.ark_wait(c.ark_new())
        reply = requests.get(task["content"]["video_url"], stream=True)
        assert reply.status_code == 200
        length = int(reply.headers["Content-Length"])
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as info:
            reply.content
        assert f"{length // 2} bytes read" in str(info.value)
        assert c.stats()["faults"]["truncate"] == 1


def test_slow_download():
    rate = 400_000
    with emulator(fault_slow_download=rate) as c:
        task = c.ark_wait(c.ark_new())
        start = time.monotonic()
        data = requests.get(task["content"]["video_url"]).content
        elapsed = time.monotonic() - start
        assert len(data) > 50_000
        assert elapsed >= 0.8 * len(data) / rate
        assert c.stats()["faults"]["slow_download"] == 1


def test_bad_fault_options_are_refused():
    from seedance_nb.emulator import Emulator

    with pytest.raises(ValueError, match="rate must be within"):
        Emulator(in_process=True, fault_5xx=1.5)
    with pytest.raises(ValueError, match="fault-routes"):
        Emulator(in_process=True, fault_routes="writes")


def test_5xx_on_file_downloads():
    with emulator(fault_5xx=1.0) as c:
        reply = c.ark_create(ark_body())
        c.emu._server.app.faults.config.rate_5xx = 0.0  # let the polls through
        task = c.ark_wait(reply.json()["id"])
        c.emu._server.app.faults.config.rate_5xx = 1.0
        assert requests.get(task["content"]["video_url"]).status_code == 500
