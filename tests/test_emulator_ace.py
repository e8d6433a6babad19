"""AceDataCloud routes (/seedance/videos, /seedance/tasks) over real HTTP."""
from __future__ import annotations

import re

import pytest

from _emulator_helpers import FAST2, PRO, CallbackSink, ace_body, emulator, probe, wait_for

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def c():
    with emulator() as client:
        yield client


def test_async_create_and_retrieve(c):
    reply = c.ace_create(camerafixed=True, return_last_frame=True)
    assert reply.status_code == 200
    body = reply.json()
    assert body["success"] is True and set(body) == {"success", "task_id", "trace_id"}
    assert UUID.match(body["task_id"]) and UUID.match(body["trace_id"])
    record = c.ace_wait(body["task_id"])
    assert record["id"] == body["task_id"] and record["type"] == "videos"
    assert record["trace_id"] == body["trace_id"]
    assert record["finished_at"] >= record["started_at"] >= record["created_at"] - 1
    assert record["elapsed"] >= 0 and record["request"]["async"] is True
    response = record["response"]
    assert response["success"] is True and response["task_id"] == body["task_id"]
    data = response["data"]
    assert re.match(r"^cgt-\d{14}-[a-z0-9]{5}$", data["task_id"])
    assert data["status"] == "succeeded" and data["model"] == PRO
    assert data["resolution"] == "480p" and data["ratio"] == "16:9" and data["frames"] == 29
    info = probe(c.s.get(data["video_url"]).content)
    assert (info["width"], info["height"], info["frames"]) == (864, 480, 29)
    assert c.s.get(data["last_frame_url"]).status_code == 200


def test_record_has_no_response_until_terminal():
    with emulator(speed=10, run_seconds=20) as c:
        task_id = c.ace_create().json()["task_id"]
        record = c.ace_retrieve(task_id).json()
        assert "response" not in record and "finished_at" not in record


def test_audio_default_off_on_ace(c):
    record = c.ace_wait(c.ace_create(model=FAST2, frames=None, duration=4).json()["task_id"])
    assert probe(c.s.get(record["response"]["data"]["video_url"]).content)["audio"] is False


def test_retrieve_batch_skips_unknown_ids(c):
    ids = [c.ace_create(text=f"batch {i}").json()["task_id"] for i in range(2)]
    reply = c.post("/seedance/tasks", json={"ids": [ids[0], "nope", ids[1]],
                                            "action": "retrieve_batch"})
    assert reply.status_code == 200
    body = reply.json()
    assert body["count"] == 2 and [r["id"] for r in body["items"]] == ids


def test_blocking_create_holds_until_done(c):
    reply = c.ace_create(**{"async": None})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["success"] is True and body["data"]["status"] == "succeeded"
    assert body["data"]["video_url"] and UUID.match(body["task_id"])


def test_blocking_failure_is_500_api_error(c):
    reply = c.ace_create(text="[emu:fail]", **{"async": None})
    assert reply.status_code == 500
    body = reply.json()
    assert body["success"] is False and UUID.match(body["trace_id"])
    assert body["error"]["code"] == "api_error"
    assert body["error"]["message"].startswith("OutputVideoSensitiveContentDetected")


def test_failed_record(c):
    record = c.ace_wait(c.ace_create(text="[emu:fail]").json()["task_id"])
    response = record["response"]
    assert response["success"] is False and response["error"]["code"] == "api_error"
    assert response["error"]["message"].startswith(
        "OutputVideoSensitiveContentDetected.PolicyViolation: ")


@pytest.mark.parametrize("body, status, code", [
    ({"model": "doubao-seedance-9"}, 400, "bad_request"),
    ({"duration": 99, "frames": None}, 400, "bad_request"),
    ({"content": [{"type": "image_url", "image_url": "http://x/a.png"}]}, 400, "bad_request"),
    ({"text": "a [emu:reject] b"}, 400, "bad_request"),
])
def test_create_errors(c, body, status, code):
    text = body.pop("text", "waves")
    reply = c.post("/seedance/videos", json={**ace_body(text), **body})
    assert reply.status_code == status, reply.text
    out = reply.json()
    assert out["success"] is False and out["error"]["code"] == code
    assert UUID.match(out["trace_id"])


def test_500_marker_creates_the_task(c):
    before = c.stats()["creates"]["ace"]
    reply = c.ace_create(text="[emu:500]")
    assert reply.status_code == 500 and reply.json()["error"]["code"] == "api_error"
    assert c.stats()["creates"]["ace"] == before + 1


def test_auth_unknown_id_and_bad_actions(c):
    reply = c.s.post(c.base + "/seedance/videos", json=ace_body())
    assert reply.status_code == 401
    assert reply.json()["error"] == {"code": "invalid_token", "message": "invalid token"}
    assert reply.json()["success"] is False and UUID.match(reply.json()["trace_id"])
    reply = c.ace_retrieve("00000000-0000-4000-8000-000000000000")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
    for body in ({"action": "nope"}, {"action": "retrieve"}, {"action": "retrieve_batch"}):
        reply = c.post("/seedance/tasks", json=body)
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_request"
    reply = c.get("/seedance/videos")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


def test_callback_with_async_reply():
    sink = CallbackSink(fail_first={"succeeded": 1})
    try:
        with emulator() as c:
            reply = c.ace_create(callback_url=sink.url, **{"async": None})
            body = reply.json()
            assert set(body) == {"success", "task_id", "trace_id"}  # a callback replies at once
            got = wait_for(lambda: list(sink.received), lambda r: r, timeout=15)
            assert got[0]["task_id"] == body["task_id"] and got[0]["success"] is True
            assert got[0]["data"]["status"] == "succeeded"
            assert [s for _, s in sink.attempts] == ["succeeded", "succeeded"]
    finally:
        sink.close()
