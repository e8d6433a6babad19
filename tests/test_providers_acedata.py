"""AceDataCloud dialect: JSON create (§5.3) and task records (§6.3)."""
from __future__ import annotations

import json

import pytest

from _test_providers_helpers import body, local, remote, req
from seedance_nb import catalog
from seedance_nb.errors import ServerError
from seedance_nb.providers import get_dialect, to_wire

ACE = get_dialect("acedata")
URL = "https://cdn.example/v.mp4"


def test_reference_example_5_3_reproduced_exactly():
    r = req("acedata", "1.5-pro", "Waves at night, slow pan", resolution="720p", duration=5,
            camera_fixed=True)
    call = ACE.create_call(r)
    assert json.dumps(call.json) == (
        '{"model": "doubao-seedance-1-5-pro-251215", "content": [{"type": "text", "text": '
        '"Waves at night, slow pan"}], "resolution": "720p", "duration": 5, '
        '"camerafixed": true, "async": true}')
    assert (call.method, call.path, call.is_create, call.timeout) == (
        "POST", "/seedance/videos", True, None)
    assert not (call.headers or {}).get("X-Client-Request-Id")


def test_image_url_is_always_an_object_and_keys_use_ace_spelling():
    r = req("acedata", "2.0-mini", "", images=[local("first_frame"),
                                                remote("https://x.example/l.png", "last_frame")],
            camera_fixed=False, seed=7, generate_audio=True, watermark=True)
    wire = to_wire(r)
    assert wire["model"] == "doubao-seedance-2-0-mini-260615"
    assert wire["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
         "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": "https://x.example/l.png"},
         "role": "last_frame"}]
    assert wire["camerafixed"] is False and "camera_fixed" not in wire
    assert (wire["seed"], wire["generate_audio"], wire["watermark"], wire["async"]) == (
        7, True, True, True)


def test_blocking_create_omits_async_and_gets_a_long_read_timeout():
    call = ACE.create_call(req("acedata", blocking=True))
    assert "async" not in call.json and "blocking" not in call.json
    assert call.timeout == catalog.WAIT_DEADLINE_S
    assert "async" in ACE.create_call(req("acedata", blocking=False)).json


@pytest.mark.parametrize("reply, task_id, upstream", [
    ({"success": True, "task_id": "u-1", "trace_id": "tr"}, "u-1", None),
    ({"success": True, "data": {"task_id": "cgt-9"}}, "cgt-9", None),
    ({"success": True, "id": "u-3"}, "u-3", None),
    ({"success": True, "task_id": "u-4", "data": {"task_id": "cgt-4", "status": "queued"}},
     "u-4", "cgt-4"),
    ({"success": True, "task_id": "u-5", "data": [{"task_id": "cgt-5"}]}, "u-5", "cgt-5"),
])
def test_create_id_order_task_id_then_data_task_id_then_id(reply, task_id, upstream):
    res = ACE.parse_create(200, {}, body(reply))
    assert (res.task_id, res.upstream_id, res.task) == (task_id, upstream, None)


def test_blocking_reply_with_a_video_url_completes_the_task():
    reply = {"success": True, "task_id": "u-1", "trace_id": "tr",
             "data": {"task_id": "cgt-1", "status": "succeeded", "video_url": URL,
                      "model": "doubao-seedance-1-5-pro-251215", "duration": 5,
                      "resolution": "720p", "ratio": "16:9"}}
    res = ACE.parse_create(200, {}, body(reply))
    assert res.upstream_id == "cgt-1"
    t = res.task
    assert (t.id, t.upstream_id, t.status, t.video_url, t.duration, t.ratio) == (
        "u-1", "cgt-1", "succeeded", URL, 5, "16:9")
    no_word = dict(reply, data={"video_url": URL})
    assert ACE.parse_create(200, {}, body(no_word)).task.status == "succeeded"


def test_failed_blocking_create_is_a_server_error():
    err = {"success": False, "error": {"code": "api_error", "message": "boom"}, "trace_id": "t9"}
    with pytest.raises(ServerError) as info:
        ACE.parse_create(500, {}, body(err))
    assert (info.value.code, info.value.request_id) == ("api_error", "t9")


def test_retrieve_and_batch_calls():
    call = ACE.get_call("u-1")
    assert (call.method, call.path, call.json, call.is_create) == (
        "POST", "/seedance/tasks", {"id": "u-1", "action": "retrieve"}, False)
    batch = ACE.batch_call(["a", "b"])
    assert (batch.method, batch.path, batch.json) == (
        "POST", "/seedance/tasks", {"ids": ["a", "b"], "action": "retrieve_batch"})
    assert len(ACE.batch_call([str(i) for i in range(50)]).json["ids"]) == 50
    with pytest.raises(ValueError, match="at most 50"):
        ACE.batch_call([str(i) for i in range(51)])
    assert ACE.cancel_call("a") is None and ACE.list_recent_call("m") is None


RECORD = {
    "_id": "x", "id": "u-1", "api_id": "a", "type": "videos", "trace_id": "tr",
    "created_at": 1763741340.12, "started_at": 1763741340.15, "finished_at": 1763741431.9,
    "elapsed": 91.75, "request": {"model": "doubao-seedance-1-5-pro-251215", "content": [],
                                  "async": True},
    "response": {"success": True, "task_id": "u-1", "trace_id": "tr",
                 "data": {"task_id": "cgt-20251121160900-a1b2c", "status": "succeeded",
                          "video_url": URL, "model": "doubao-seedance-1-5-pro-251215",
                          "duration": 5, "resolution": "720p", "ratio": "16:9"}}}


def _with(data=None, **response):
    resp = {"success": True, "task_id": "u-1", **response}
    if data is not None:
        resp["data"] = data
    return dict(RECORD, response=resp)


def test_reference_record_normalized():
    t = ACE.parse_task(200, {}, body(RECORD))
    assert (t.id, t.upstream_id, t.provider, t.status, t.video_url) == (
        "u-1", "cgt-20251121160900-a1b2c", "acedata", "succeeded", URL)
    assert (t.created_at, t.updated_at) == (1763741340.12, 1763741431.9)
    assert t.url_expires_at == pytest.approx(1763741431.9 + 86400)  # finished_at + 24 h
    assert (t.model, t.duration, t.resolution, t.ratio) == (
        "doubao-seedance-1-5-pro-251215", 5, "720p", "16:9")
    assert t.raw == RECORD


ARK_DATA = {"id": "cgt-7", "status": "succeeded", "content": {"video_url": URL,
                                                             "last_frame_url": URL + "-last"},
            "usage": {"completion_tokens": 108900}, "seed": 3}


@pytest.mark.parametrize("record, status, url, error", [
    # 1. no response yet -> running
    ({"id": "u-1", "created_at": 1.5, "request": {"model": "m"}}, "running", None, None),
    # 2. success false -> failed; error object or bare string
    (_with(success=False, error={"code": "api_error", "message": "Output...: no"}), "failed",
     None, {"code": "api_error", "message": "Output...: no"}),
    (_with(success=False, error="quota gone"), "failed", None,
     {"code": "", "message": "quota gone"}),
    # success false wins even over a status word
    (_with({"status": "succeeded", "video_url": URL}, success=False, error="x"), "failed", URL,
     {"code": "", "message": "x"}),
    # 3. data as list, as a full Ark object; url from data.content.video_url
    (_with([{"status": "running"}, {"status": "succeeded"}]), "running", None, None),
    (_with(ARK_DATA), "succeeded", URL, None),
    (_with({"content": {"video_url": URL}}), "succeeded", URL, None),
    # 4. status word mapping; no word: url -> succeeded, none -> running
    (_with({"status": "SUCCEED", "video_url": URL}), "succeeded", URL, None),
    (_with({"status": "processing"}), "running", None, None),
    (_with({"status": "failure", "error": {"code": "E", "message": "m"}}), "failed", None,
     {"code": "E", "message": "m"}),
    (_with({"video_url": URL}), "succeeded", URL, None),
    (_with({"task_id": "cgt-1"}), "running", None, None),
    (_with(), "running", None, None),
])
def test_record_reading_order(record, status, url, error):
    t = ACE.parse_task(200, {}, body(record))
    assert (t.status, t.video_url, t.error) == (status, url, error)
    assert t.id == "u-1" and t.unknown_word is None


def test_full_ark_object_in_data_gives_tokens_and_last_frame():
    t = ACE.parse_task(200, {}, body(_with(ARK_DATA)))
    assert (t.tokens, t.last_frame_url, t.seed, t.upstream_id) == (108900, URL + "-last", 3,
                                                                   "cgt-7")


def test_record_without_response_keeps_model_and_created_time():
    t = ACE.parse_task(200, {}, body({"id": "u-1", "created_at": 1.5, "request": {"model": "m"}}))
    assert (t.model, t.created_at, t.url_expires_at) == ("m", 1.5, None)


def test_parse_batch_reads_items_and_skips_missing_ids():
    reply = {"items": [RECORD, {"id": "u-2", "created_at": 2}], "count": 2}
    tasks = get_dialect("emulator", "acedata").parse_batch(200, {}, body(reply))
    assert [(t.id, t.status, t.provider) for t in tasks] == [
        ("u-1", "succeeded", "emulator"), ("u-2", "running", "emulator")]
    assert ACE.parse_batch(200, {}, body({"items": [], "count": 0})) == []


def test_2_5_fields_of_an_ace_record_are_decoded():
    record = {"id": "t-1", "response": {"success": True, "task_id": "t-1", "data": {
        "task_id": "cgt-1", "status": "succeeded", "video_url": "https://x.example/v.mp4",
        "duration": 12.04, "draft": True, "output_format": "mp4"}}}
    task = get_dialect("acedata").parse_task(200, {}, body(record))
    assert (task.duration, task.draft, task.output_format) == (12.04, True, "mp4")
    assert task.upstream_id == "cgt-1"
