"""Comet `/v1/videos` dialect: multipart create (§5.2) and video objects (§6.2)."""
from __future__ import annotations

import pytest

from _test_providers_helpers import JPEG, PNG, body, local, remote, req
from seedance_nb.errors import SeedanceValidationError
from seedance_nb.providers import get_dialect, to_wire


def text_parts(call) -> dict:
    """The multipart text parts of a comet create (no filename, no content type)."""
    return {k: v[1].decode() for k, v in call.files.items() if v[0] is None and v[2] is None}


def test_text_only_create_sends_prompt_and_model_only_as_multipart_parts():
    call = get_dialect("comet").create_call(req("comet", "2.0-fast", "Waves at night"))
    assert (call.method, call.path, call.is_create) == ("POST", "/v1/videos", True)
    assert call.files == {"prompt": (None, b"Waves at night", None),
                          "model": (None, b"doubao-seedance-2-0-fast", None)}
    assert call.fields is None and call.json is None
    assert not (call.headers or {}).get("X-Client-Request-Id")


def test_create_without_an_image_goes_out_as_multipart_form_data():
    # §5.2: always multipart, also without an image (requests would urlencode plain data).
    from _client_helpers import reply, scripted_server
    from seedance_nb.config import ClientSettings
    from seedance_nb.http import Transport

    video = {"id": "video_1", "object": "video", "status": "queued", "created_at": 1}
    with scripted_server(reply(200, video)) as (url, script):
        settings = ClientSettings(provider="comet", dialect="comet",
                                  api_key="sk-test-123456789", base_url=url)
        transport = Transport(settings)
        call = get_dialect("comet").create_call(req("comet", "2.0", "a kite", duration=6))
        try:
            assert transport.create(call, retry_429=False).task_id == "video_1"
        finally:
            transport.close()
    [sent] = script.seen
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    raw = sent.body
    assert b'name="prompt"\r\n\r\na kite\r\n' in raw and b'name="seconds"\r\n\r\n6\r\n' in raw
    assert b"filename" not in raw


def test_set_fields_go_out_as_text_parts():
    r = req("comet", "2.0", "City at dusk", duration=8, ratio="9:16", resolution="480p")
    assert text_parts(get_dialect("comet").create_call(r)) == {
        "prompt": "City at dusk", "model": "doubao-seedance-2-0", "seconds": "8", "size": "9:16",
        "resolution": "480p"}


@pytest.mark.parametrize("image, filename, ctype", [
    (local("first_frame", PNG, "png"), "input.png", "image/png"),
    (local("reference_image", JPEG, "jpg", "a.jpg"), "input.jpeg", "image/jpeg"),
    (local("first_frame", b"RIFFxxxxWEBP", "webp", "w.webp"), "input.webp", "image/webp"),
])
def test_single_image_is_the_input_reference_file_part(image, filename, ctype):
    r = req("comet", "2.0-fast", "go", images=[image])
    call = get_dialect("comet").create_call(r)
    assert call.files["input_reference"] == (filename, image.data, ctype)
    assert text_parts(call) == {"prompt": "go", "model": "doubao-seedance-2-0-fast"}
    assert to_wire(r) == {"fields": {"prompt": "go", "model": "doubao-seedance-2-0-fast"},
                          "files": {"input_reference": (filename, image.data, ctype)}}


def test_to_wire_without_image_has_no_files_key():
    assert to_wire(req("comet", "1.0-pro", "x")) == {
        "fields": {"prompt": "x", "model": "doubao-seedance-1-0-pro"}}


def test_remote_image_without_bytes_is_refused():
    r = req("comet", "2.0", "x", images=[remote("https://x.example/a.png")])
    with pytest.raises(SeedanceValidationError, match="comet needs the image bytes"):
        get_dialect("comet").create_call(r)


@pytest.mark.parametrize("field, value", [
    ("seed", 1), ("camera_fixed", False), ("watermark", True), ("generate_audio", True),
    ("return_last_frame", True), ("service_tier", "flex"), ("execution_expires_after", 3600),
    ("callback_url", "https://cb.example"), ("frames", 121),
    ("ref_videos", ("https://v.example/a.mp4",)),
])
def test_fields_the_route_lacks_are_refused_not_dropped(field, value):
    with pytest.raises(SeedanceValidationError, match=f"{field} is not supported on comet"):
        get_dialect("comet").create_call(req("comet", "2.0", **{field: value}))


def test_two_images_are_refused():
    r = req("comet", "2.0", images=[local("reference_image"), local("reference_image")])
    with pytest.raises(SeedanceValidationError, match="comet takes one image, got 2"):
        get_dialect("comet").create_call(r)


def test_multipart_size_limit(monkeypatch):
    from seedance_nb import catalog
    monkeypatch.setattr(catalog, "MAX_BODY_BYTES", 1000)
    r = req("comet", "2.0", images=[local(data=b"\0" * 1000)])
    with pytest.raises(SeedanceValidationError, match="request body is .* after encoding"):
        get_dialect("comet").create_call(r)


def test_parse_create_reference_reply_holds_the_task():
    reply = {"id": "task_abc123", "task_id": "task_abc123", "object": "video",
             "model": "doubao-seedance-2-0", "status": "SUBMITTED", "progress": 0,
             "created_at": 1763741340}
    res = get_dialect("comet").parse_create(200, {}, body(reply))
    assert res.task_id == "task_abc123" and res.upstream_id is None
    t = res.task
    assert (t.id, t.provider, t.status, t.progress, t.model) == (
        "task_abc123", "comet", "queued", 0, "doubao-seedance-2-0")
    assert t.created_at == 1763741340.0 and t.updated_at is None and t.raw == reply


@pytest.mark.parametrize("word, status", [
    ("SUBMITTED", "queued"), ("IN_PROGRESS", "running"), ("SUCCESS", "succeeded"),
    ("FAILED", "failed"), ("ERROR", "failed"), ("queued", "queued"),
    ("in_progress", "running"), ("completed", "succeeded"), ("failed", "failed"),
    ("error", "failed"),
])
def test_both_status_cases(word, status):
    obj = {"id": "task_1", "object": "video", "status": word, "progress": 40}
    assert get_dialect("emulator", "comet").parse_task(200, {}, body(obj)).status == status


def test_success_object_reads_url_progress_and_expiry():
    obj = {"id": "task_1", "object": "video", "model": "doubao-seedance-2-0", "status": "SUCCESS",
           "progress": 100, "created_at": 1763741340, "completed_at": 1763741431,
           "video_url": "https://cdn.example/v.mp4?sig=1", "seconds": "5", "size": "16:9",
           "resolution": "720p"}
    t = get_dialect("comet").parse_task(200, {}, body(obj))
    assert t.progress == 100 and t.video_url == "https://cdn.example/v.mp4?sig=1"
    assert t.updated_at == 1763741431.0
    assert t.url_expires_at == 1763741431.0 + 86400  # completed_at + 24 h
    assert (t.duration, t.ratio, t.resolution) == (5, "16:9", "720p")


def test_signed_url_wins_and_no_completed_at_leaves_expiry_to_the_job_manager():
    signed = {"id": "t", "status": "SUCCESS", "completed_at": 1,
              "video_url": "http://127.0.0.1:9/files/t.mp4?X-Tos-Date=20251121T170000Z"
                           "&X-Tos-Expires=60&X-Tos-Signature=ff"}
    assert get_dialect("comet").parse_task(200, {}, body(signed)).url_expires_at == 1763744460.0
    bare = {"id": "t", "status": "SUCCESS", "video_url": "https://cdn.example/v.mp4"}
    assert get_dialect("comet").parse_task(200, {}, body(bare)).url_expires_at is None


def test_failed_object_error_is_read_when_present():
    obj = {"id": "t", "status": "FAILED", "error": {"code": "OutputVideoSensitiveContentDetected",
                                                    "message": "no"}}
    t = get_dialect("comet").parse_task(200, {}, body(obj))
    assert t.status == "failed" and t.error == {
        "code": "OutputVideoSensitiveContentDetected", "message": "no"}
    no_reason = get_dialect("comet").parse_task(200, {}, body({"id": "t", "status": "ERROR"}))
    assert no_reason.status == "failed" and no_reason.error is None


def test_reads_are_single_gets_without_batch_cancel_or_list():
    d = get_dialect("comet")
    call = d.get_call("task_abc")
    assert (call.method, call.path, call.json, call.is_create) == (
        "GET", "/v1/videos/task_abc", None, False)
    assert d.batch_size == 0 and d.batch_call(["a", "b"]) is None
    assert d.cancel_call("a") is None and d.list_recent_call("m") is None
