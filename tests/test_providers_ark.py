"""Ark JSON dialect (ark, byteplus, comet-volc, emulator): §5.1, §6.1, §8 batch/cancel/list."""
from __future__ import annotations

import json
import uuid

import pytest

from _test_providers_helpers import JPEG, PNG, body, local, remote, req
from seedance_nb import catalog
from seedance_nb.errors import SeedanceAPIError, SeedanceConfigError, SeedanceValidationError
from seedance_nb.providers import (AceDataDialect, ArkDialect, CometDialect, get_dialect,
                                   to_wire)

ARK = "/contents/generations/tasks"
VOLC = "/volc/v3/contents/generations/tasks"


@pytest.mark.parametrize("provider, emulate, cls, dialect, path, batch", [
    ("ark", "ark", ArkDialect, "ark", ARK, 500),
    ("byteplus", "ark", ArkDialect, "byteplus", ARK, 500),
    ("comet-volc", "ark", ArkDialect, "comet-volc", VOLC, 0),
    ("comet", "ark", CometDialect, "comet", "/v1/videos", 0),
    ("acedata", "ark", AceDataDialect, "acedata", "/seedance/videos", 50),
    ("emulator", "ark", ArkDialect, "ark", ARK, 500),
    ("emulator", "byteplus", ArkDialect, "byteplus", ARK, 500),
    ("emulator", "comet-volc", ArkDialect, "comet-volc", VOLC, 0),
    ("emulator", "comet", CometDialect, "comet", "/v1/videos", 0),
    ("emulator", "acedata", AceDataDialect, "acedata", "/seedance/videos", 50),
])
def test_get_dialect_paths_and_names(provider, emulate, cls, dialect, path, batch):
    d = get_dialect(provider, emulate)
    assert isinstance(d, cls)
    assert d.provider == provider  # the emulator reports tasks under "emulator"
    assert d.dialect == dialect
    assert d.batch_size == batch
    call = d.create_call(req(provider, emulate=emulate))
    assert call.path == path and call.method == "POST" and call.is_create


def test_get_dialect_rejects_unknown_names():
    with pytest.raises(SeedanceConfigError, match="unknown provider 'openai'"):
        get_dialect("openai")
    with pytest.raises(SeedanceConfigError, match="cannot emulate 'sora'"):
        get_dialect("emulator", "sora")


def test_reference_example_5_1_reproduced_exactly():
    r = req("ark", "1.0-pro", "A red fox trots through fresh snow at dawn",
            images=[local("first_frame", PNG, "png")], resolution="720p", duration=5, seed=42,
            camera_fixed=False, return_last_frame=True)
    call = get_dialect("ark").create_call(r)
    expected = (
        '{"model": "doubao-seedance-1-0-pro-250528", "content": ['
        '{"type": "text", "text": "A red fox trots through fresh snow at dawn"}, '
        '{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}, '
        '"role": "first_frame"}], '
        '"resolution": "720p", "duration": 5, "seed": 42, "camera_fixed": false, '
        '"return_last_frame": true}')
    assert json.dumps(call.json) == expected
    assert call.fields is None and call.files is None


def test_content_order_text_images_videos_audios_with_roles():
    r = req("ark", "2.0", "mix", images=[local("reference_image"), remote(
        "https://example.com/b.jpg", "reference_image")],
        ref_videos=("https://v.example/1.mp4", "https://v.example/2.mp4"),
        ref_audios=("https://a.example/1.mp3",))
    content = get_dialect("ark").create_call(r).json["content"]
    assert content == [
        {"type": "text", "text": "mix"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
         "role": "reference_image"},
        {"type": "image_url", "image_url": {"url": "https://example.com/b.jpg"},
         "role": "reference_image"},
        {"type": "video_url", "video_url": {"url": "https://v.example/1.mp4"},
         "role": "reference_video"},
        {"type": "video_url", "video_url": {"url": "https://v.example/2.mp4"},
         "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": "https://a.example/1.mp3"},
         "role": "reference_audio"},
    ]


def test_first_and_last_frames_keep_given_order_and_empty_prompt_sends_no_text():
    r = req("byteplus", "1.0-pro", "", images=[
        local("first_frame", JPEG, "jpg", "a.jpg"), remote("https://x.example/l.png", "last_frame")])
    content = get_dialect("byteplus").create_call(r).json["content"]
    assert [item["role"] for item in content] == ["first_frame", "last_frame"]
    assert content[0]["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")
    assert content[1]["image_url"]["url"] == "https://x.example/l.png"


def test_unset_keys_absent_and_fps_blocking_never_sent():
    minimal = get_dialect("ark").create_call(req("ark", fps=24, blocking=True)).json
    assert minimal == {"model": "doubao-seedance-2-0-fast-260128",
                       "content": [{"type": "text", "text": "a cat"}]}


def test_every_set_key_is_sent_under_its_ark_name():
    r = req("comet-volc", "1.0-pro", resolution="1080p", ratio="21:9", frames=121, seed=-1,
            camera_fixed=True, watermark=False, return_last_frame=False, service_tier="flex",
            execution_expires_after=3600, callback_url="https://cb.example/hook")
    wire = get_dialect("comet-volc").create_call(r).json
    assert list(wire) == ["model", "content", "resolution", "ratio", "frames", "seed",
                          "camera_fixed", "watermark", "return_last_frame", "service_tier",
                          "execution_expires_after", "callback_url"]
    assert wire["frames"] == 121 and wire["watermark"] is False and wire["seed"] == -1
    assert None not in wire.values()
    r2 = req("ark", "1.5-pro", duration=-1, generate_audio=False, ratio="adaptive")
    assert get_dialect("ark").create_call(r2).json["generate_audio"] is False
    assert to_wire(r2)["duration"] == -1


@pytest.mark.parametrize("provider, emulate, expect", [
    ("ark", "ark", True), ("byteplus", "ark", True), ("comet-volc", "ark", True),
    ("emulator", "ark", True), ("emulator", "byteplus", True), ("emulator", "comet-volc", True),
    ("comet", "ark", False), ("acedata", "ark", False), ("emulator", "comet", False),
    ("emulator", "acedata", False),
])
def test_client_request_id_is_a_fresh_uuid4_on_ark_dialect_calls(provider, emulate, expect):
    d = get_dialect(provider, emulate)
    calls = [d.create_call(req(provider, emulate=emulate)) for _ in range(2)]
    ids = [(c.headers or {}).get("X-Client-Request-Id") for c in calls]
    if not expect:
        assert ids == [None, None]
        return
    assert ids[0] != ids[1]
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert "X-Client-Request-Id" in (d.get_call("t1").headers or {})


def test_body_over_64_mb_is_refused_before_sending(monkeypatch):
    r = req("ark", images=[local(data=b"\0" * 3000)])
    size = len(json.dumps(to_wire(r)))
    monkeypatch.setattr(catalog, "MAX_BODY_BYTES", size)
    assert get_dialect("ark").create_call(r).json  # exactly at the limit: fine
    monkeypatch.setattr(catalog, "MAX_BODY_BYTES", size - 1)
    with pytest.raises(SeedanceValidationError, match="request body is .* MB after encoding"):
        get_dialect("ark").create_call(r)


def test_image_without_format_is_a_clear_error():
    with pytest.raises(SeedanceValidationError, match="frame.png.*format not detected"):
        get_dialect("ark").create_call(req(images=[local(fmt=None)]))


def test_parse_create_returns_the_id_only():
    d = get_dialect("ark")
    res = d.parse_create(200, {}, body({"id": "cgt-20251121160900-a1b2c"}))
    assert res.task_id == "cgt-20251121160900-a1b2c" and res.task is None
    volc = get_dialect("comet-volc").parse_create(200, {}, body({"id": "0217732972059991234"}))
    assert volc.task_id == "0217732972059991234"
    with pytest.raises(SeedanceAPIError, match="no task id"):
        d.parse_create(200, {}, body({}))
    with pytest.raises(SeedanceAPIError, match="unreadable reply: <html>"):
        d.parse_create(200, {}, b"<html>oops</html>")


TASK_6_1 = {
    "id": "cgt-20251121160900-a1b2c", "model": "doubao-seedance-1-0-pro-250528",
    "status": "succeeded",
    "content": {"video_url": "https://tos.example/cgt-20251121160900-a1b2c.mp4?"
                             "X-Tos-Date=20251121T170000Z&X-Tos-Expires=86400&X-Tos-Signature=ab",
                "last_frame_url": "https://tos.example/cgt-20251121160900-a1b2c-last.png?x=1"},
    "usage": {"completion_tokens": 103818, "total_tokens": 103818},
    "created_at": 1763741340, "updated_at": 1763741425, "seed": 42, "resolution": "720p",
    "ratio": "16:9", "duration": 5, "framespersecond": 24, "service_tier": "default",
    "execution_expires_after": 172800, "revised_prompt": "ignored",
}


def test_parse_task_normalizes_the_reference_object():
    task = get_dialect("ark").parse_task(200, {}, body(TASK_6_1))
    assert (task.id, task.provider, task.status, task.model) == (
        "cgt-20251121160900-a1b2c", "ark", "succeeded", "doubao-seedance-1-0-pro-250528")
    assert task.tokens == 103818 and task.seed == 42 and task.duration == 5
    assert task.frames is None and task.progress is None
    assert (task.resolution, task.ratio) == ("720p", "16:9")
    assert task.created_at == 1763741340.0 and isinstance(task.created_at, float)
    assert isinstance(task.updated_at, float)
    assert task.last_frame_url.endswith("-last.png?x=1")
    # X-Tos-Date 2025-11-21T17:00:00Z = 1763744400, plus X-Tos-Expires
    assert task.url_expires_at == 1763744400.0 + 86400
    assert task.raw == TASK_6_1 and task.error is None and task.unknown_word is None


def test_emulator_reports_tasks_under_its_own_name():
    task = get_dialect("emulator", "byteplus").parse_task(200, {}, body(TASK_6_1))
    assert task.provider == "emulator"


def test_url_expiry_falls_back_to_updated_at_then_none():
    unsigned = dict(TASK_6_1, content={"video_url": "https://cdn.example/v.mp4"})
    task = get_dialect("ark").parse_task(200, {}, body(unsigned))
    assert task.url_expires_at == 1763741425.0 + 86400
    running = {"id": "cgt-1", "status": "running", "created_at": 1, "updated_at": 2}
    assert get_dialect("ark").parse_task(200, {}, body(running)).url_expires_at is None


def test_failed_task_carries_error_and_frames_when_requested():
    obj = {"id": "cgt-2", "status": "failed", "frames": 121, "error": {
        "code": "OutputVideoSensitiveContentDetected.PolicyViolation", "message": "blocked"}}
    task = get_dialect("ark").parse_task(200, {}, body(obj))
    assert task.status == "failed" and task.frames == 121 and task.duration is None
    assert task.error == {"code": "OutputVideoSensitiveContentDetected.PolicyViolation",
                          "message": "blocked"}
    assert task.tokens is None and task.video_url is None


def test_get_call_paths_and_id_quoting():
    assert get_dialect("ark").get_call("cgt-1").path == f"{ARK}/cgt-1"
    assert get_dialect("ark").get_call("cgt-1").method == "GET"
    assert get_dialect("comet-volc").get_call("0217").path == f"{VOLC}/0217"
    assert get_dialect("ark").get_call("a/../b").path == f"{ARK}/a%2F..%2Fb"


def test_batch_call_repeats_filter_task_ids():
    call = get_dialect("ark").batch_call(["cgt-a", "cgt-b", "cgt-c"])
    assert (call.method, call.path, call.json) == ("GET", ARK, None)
    assert list(call.params) == [("page_num", "1"), ("page_size", "3"),
                                 ("filter.task_ids", "cgt-a"), ("filter.task_ids", "cgt-b"),
                                 ("filter.task_ids", "cgt-c")]
    assert not call.is_create
    big = get_dialect("byteplus").batch_call([f"t{i}" for i in range(500)])
    assert ("page_size", "500") in big.params and len(big.params) == 502
    with pytest.raises(ValueError, match="at most 500"):
        get_dialect("ark").batch_call([f"t{i}" for i in range(501)])
    assert get_dialect("comet-volc").batch_call(["a"]) is None
    assert get_dialect("emulator", "comet-volc").batch_call(["a"]) is None


def test_parse_batch_reads_items():
    reply = {"total": 2, "items": [TASK_6_1, {"id": "cgt-q", "status": "queued"}]}
    tasks = get_dialect("ark").parse_batch(200, {}, body(reply))
    assert [(t.id, t.status) for t in tasks] == [("cgt-20251121160900-a1b2c", "succeeded"),
                                                  ("cgt-q", "queued")]
    assert get_dialect("ark").parse_batch(200, {}, body({"total": 0, "items": []})) == []


def test_parse_batch_hands_back_the_last_read_of_a_task_that_did_not_move():
    dialect = get_dialect("ark")
    first = {"id": "cgt-q", "status": "queued", "updated_at": 1}
    moved = {"id": "cgt-r", "status": "running", "updated_at": 1}
    known = {t.id: t for t in dialect.parse_batch(200, {}, body({"items": [first, moved]}))}
    moved_on = dict(moved, status="succeeded", content={"video_url": "https://x.test/v.mp4"})
    again = dialect.parse_batch(200, {}, body({"items": [first, moved_on]}), known)
    assert again[0] is known["cgt-q"]  # identical item: not parsed again
    assert again[1] is not known["cgt-r"]
    assert (again[1].status, again[1].video_url) == ("succeeded", "https://x.test/v.mp4")
    impostor = dict(first, id="cgt-r")  # another task's content under this id: parsed
    [read] = dialect.parse_batch(200, {}, body({"items": [impostor]}), known)
    assert read is not known["cgt-r"] and read.status == "queued"


@pytest.mark.parametrize("provider, emulate, can", [
    ("ark", "ark", True), ("byteplus", "ark", True), ("emulator", "ark", True),
    ("emulator", "byteplus", True), ("comet-volc", "ark", False),
    ("emulator", "comet-volc", False), ("comet", "ark", False), ("acedata", "ark", False),
    ("emulator", "acedata", False),
])
def test_cancel_and_list_recent_only_where_the_route_exists(provider, emulate, can):
    d = get_dialect(provider, emulate)
    cancel = d.cancel_call("cgt-9")
    recent = d.list_recent_call("doubao-seedance-1-5-pro-251215")
    if not can:
        assert cancel is None and recent is None
        return
    assert (cancel.method, cancel.path, cancel.json) == ("DELETE", f"{ARK}/cgt-9", None)
    assert (recent.method, recent.path) == ("GET", ARK)
    assert list(recent.params) == [("page_num", "1"), ("page_size", "20"),
                                   ("filter.model", "doubao-seedance-1-5-pro-251215")]
    assert ("page_size", "5") in d.list_recent_call("m", page_size=5).params


# -- end to end through build_request ---------------------------------------------------

def _png(path, size=(640, 360)):
    from PIL import Image
    Image.new("RGB", size, (200, 30, 30)).save(path, format="PNG")
    return path


def test_build_request_to_ark_json(tmp_path):
    import base64

    from seedance_nb.request import build_request
    path = _png(tmp_path / "fox.png")
    r = build_request("A red fox trots through fresh snow at dawn --rs 720p --dur 5 --seed 42 "
                      "--cf false", provider="ark", model="1.0-pro",
                      images=[(str(path), "first_frame")], return_last_frame=True)
    data_url = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    assert to_wire(r) == {
        "model": "doubao-seedance-1-0-pro-250528",
        "content": [{"type": "text", "text": "A red fox trots through fresh snow at dawn"},
                    {"type": "image_url", "image_url": {"url": data_url},
                     "role": "first_frame"}],
        "resolution": "720p", "duration": 5, "seed": 42, "camera_fixed": False,
        "return_last_frame": True}


def test_build_request_to_acedata_and_comet(tmp_path):
    from seedance_nb.request import build_request
    ace = build_request("Waves at night, slow pan --rs 720p --dur 5 --cf true",
                        provider="acedata", model="1.5-pro")
    assert get_dialect("acedata").create_call(ace).json == {
        "model": "doubao-seedance-1-5-pro-251215",
        "content": [{"type": "text", "text": "Waves at night, slow pan"}],
        "resolution": "720p", "duration": 5, "camerafixed": True, "async": True}
    path = _png(tmp_path / "ref.png")
    comet = build_request("City at dusk --rt 9:16 --dur 8", provider="comet", model="2.0",
                          images=[(str(path), "reference_image")])
    call = get_dialect("comet").create_call(comet)
    assert call.files == {"prompt": (None, b"City at dusk", None),
                          "model": (None, b"doubao-seedance-2-0", None),
                          "seconds": (None, b"8", None), "size": (None, b"9:16", None),
                          "input_reference": ("input.png", path.read_bytes(), "image/png")}


def test_build_request_for_the_emulator_speaks_the_emulated_dialect():
    from seedance_nb.request import build_request
    r = build_request("a boat --rs 480p", provider="emulator", emulate="comet-volc",
                      model="2.0-fast")
    call = get_dialect(r.provider, r.dialect).create_call(r)
    assert call.path == VOLC and call.json == {
        "model": "doubao-seedance-2-0-fast-260128",
        "content": [{"type": "text", "text": "a boat"}], "resolution": "480p"}


TASK_2_5_FINAL = {
    "id": "cgt-20261201120000-abcde", "model": "doubao-seedance-2-5-260628",
    "status": "succeeded", "content": {"video_url": "https://x.example/v.mov"},
    "usage": {"completion_tokens": 245025, "total_tokens": 245025},
    "created_at": 1764590400, "updated_at": 1764590500, "resolution": "1080p",
    "ratio": "adaptive", "duration": 10.08, "output_format": "mov", "draft": False,
    "draft_task_id": "cgt-20261201101500-k3v9x", "generate_audio": True}


def test_2_5_task_fields_are_decoded():
    task = get_dialect("ark").parse_task(200, {}, body(TASK_2_5_FINAL))
    assert (task.output_format, task.draft, task.draft_task_id) == (
        "mov", False, "cgt-20261201101500-k3v9x")
    assert task.duration == 10.08 and isinstance(task.duration, float)
    whole = get_dialect("ark").parse_task(200, {}, body({**TASK_2_5_FINAL, "duration": 5.0}))
    assert whole.duration == 5 and isinstance(whole.duration, int)
    draft = get_dialect("byteplus").parse_task(200, {}, body(
        {**TASK_2_5_FINAL, "draft": True, "draft_task_id": None, "output_format": None}))
    assert (draft.draft, draft.draft_task_id, draft.output_format) == (True, None, None)
    odd = get_dialect("ark").parse_task(200, {}, body({**TASK_2_5_FINAL, "draft": "yes",
                                                       "duration": "n/a"}))
    assert odd.draft is None and odd.duration is None  # never guessed
