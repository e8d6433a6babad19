"""Seedance 2.5 on the emulator's Ark route over raw HTTP (reference §2.2, §3, §10.4, §10.5):
every mode rendered and decoded, durations, adaptive geometry, drafts and finals,
edit/extend constraints, MOV output and reference-video tokens."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageOps

from _emulator_helpers import (ARK_TASKS, NO_RENDER, TWO, V25, V25_BP, ark_body, ark_error,
                               data_url, emulator, png_bytes, probe, probe_fast, wait_for)
from seedance_nb.emulator.validate import own_aspect_size

VIDEO = {"type": "video_url", "video_url": {"url": "https://example.com/clip.mp4"},
         "role": "reference_video"}
AUDIO = {"type": "audio_url", "audio_url": {"url": "https://example.com/voice.mp3"},
         "role": "reference_audio"}
CONSTRAINT = "InvalidParameter.TaskTypeConstraint"


@pytest.fixture(scope="module")
def c():
    # the stand-in renderer renders normally, except prompts with NO_RENDER (1 tiny frame)
    with emulator(render_module="_emulator_helpers", token=["sk-emulator", "sk-other"]) as client:
        yield client


def body25(text: str | None = "a kite over dunes", images=(), videos: int = 0, audios: int = 0,
           **fields) -> dict:
    body = ark_body(text, model=V25, images=images, **fields)
    body["content"] += [VIDEO] * videos + [AUDIO] * audios
    return {k: v for k, v in body.items() if v is not None}


def done(c, body: dict) -> dict:
    reply = c.ark_create(body)
    assert reply.status_code == 200, reply.text
    task = c.ark_wait(reply.json()["id"])
    assert task["status"] == "succeeded", task
    return task


def fetch(c, task: dict) -> bytes:
    reply = c.s.get(task["content"]["video_url"], timeout=30)
    assert reply.status_code == 200
    return reply.content


def close_to(frame: np.ndarray, image: bytes) -> float:
    h, w = frame.shape[:2]
    expected = ImageOps.fit(Image.open(io.BytesIO(image)).convert("RGB"), (w, h))
    return float(np.abs(frame.astype(np.float32) - np.asarray(expected, np.float32)).mean())


def test_t2v_reports_2_5_fields_and_renders_with_audio(c):
    task = done(c, body25(seed=3))
    assert task["model"] == V25 and task["duration"] == 4 and task["resolution"] == "480p"
    assert task["ratio"] == "16:9" and task["seed"] == 3
    assert task["draft"] is False and task["output_format"] == "mp4"
    assert task["generate_audio"] is True and "draft_task_id" not in task
    assert task["content"]["video_url"].split("?")[0].endswith(f"/files/{task['id']}.mp4")
    info = probe(fetch(c, task))
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 97)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p" and info["audio"] is True


@pytest.mark.parametrize("model, duration, seconds", [
    (V25, None, 10), (V25, -1, 10), (V25_BP, None, 10), (TWO, -1, 5), (TWO, None, 5)])
def test_unset_or_auto_duration(c, model, duration, seconds):
    body = ark_body(f"dunes {NO_RENDER}", model=model, duration=duration)
    task = done(c, {k: v for k, v in body.items() if v is not None})
    assert task["duration"] == seconds
    assert task["usage"]["completion_tokens"] == 864 * 496 * (24 * seconds + 1) // 1024


def test_first_frame_keeps_the_image_aspect_ratio(c):
    first = png_bytes(800, 1000, pattern=True)
    task = done(c, body25(images=(("first_frame", data_url(first)),)))  # ratio unset: adaptive
    assert task["ratio"] == "3:4"  # the closest table ratio is reported
    info = probe(fetch(c, task))
    # 4:5 kept, about the 480p 16:9 pixel count (864 x 496), sides multiples of 8
    assert (info["width"], info["height"], info["frames"]) == (584, 728, 97)
    assert abs(584 * 728 / (864 * 496) - 1) < 0.01
    assert close_to(info["first"], first) < 12
    assert task["usage"]["completion_tokens"] == 584 * 728 * 97 // 1024


def test_first_and_last_frame_adaptive_geometry(c):
    first = png_bytes(1000, 800, pattern=True)
    last = png_bytes(600, 600, color=(30, 160, 220))  # another shape: centre-cropped
    images = (("first_frame", data_url(first)), ("last_frame", data_url(last)))
    task = done(c, body25(images=images, ratio="adaptive", generate_audio=False))
    info = probe(fetch(c, task))
    assert (info["width"], info["height"], info["frames"]) == (728, 584, 97)
    assert info["audio"] is False
    assert close_to(info["first"], first) < 12 and close_to(info["last"], last) < 12


def test_frame_tasks_take_only_adaptive(c):
    img = data_url(png_bytes(640, 640))
    for images in ((("first_frame", img),), (("first_frame", img), ("last_frame", img))):
        reply = c.ark_create(body25(images=images, ratio="1:1"))
        assert reply.status_code == 400
        err = ark_error(reply)
        assert err["code"] == "InvalidParameter" and err["param"] == "ratio"
    # text-to-video still takes any table ratio
    assert done(c, body25(f"square {NO_RENDER}", ratio="1:1"))["ratio"] == "1:1"


def test_reference_audio_alone_renders_on_2_5(c):
    task = done(c, body25("a song about the sea", audios=1, resolution="480p"))
    assert task["ratio"] == "16:9"
    info = probe(fetch(c, task))
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 97)
    assert info["audio"] is True
    only_audio_2_0 = ark_body("a song", model=TWO)
    only_audio_2_0["content"].append(AUDIO)
    reply = c.ark_create(only_audio_2_0)
    assert reply.status_code == 400 and ark_error(reply)["param"] == "content"


def test_reference_limits_of_2_5(c):
    url = "https://example.com/ref.png"
    images = (("reference_image", url),) * 30
    full = body25(NO_RENDER, images=images, videos=10, audios=10)  # 50 in all
    assert c.ark_create(full).status_code == 200
    for body in (body25(NO_RENDER, images=images + (("reference_image", url),), videos=10,
                        audios=10),
                 body25(NO_RENDER, videos=11), body25(NO_RENDER, audios=11)):
        reply = c.ark_create(body)
        assert reply.status_code == 400 and ark_error(reply)["param"] == "content"


def test_reference_videos_add_tokens(c):
    task = done(c, body25(f"remix {NO_RENDER}", videos=2))
    per_video = 864 * 496 * 24 * 5 // 1024
    assert task["usage"]["completion_tokens"] == 864 * 496 * 97 // 1024 + 2 * per_video
    assert task["usage"]["total_tokens"] == task["usage"]["completion_tokens"]


def test_edit_renders_5_seconds(c):
    task = done(c, body25("make it night", videos=1, omni_reference_task_type="edit",
                          duration=None))
    assert task["duration"] == 5 and task["ratio"] == "16:9"
    assert task["usage"]["completion_tokens"] == (864 * 496 * 121 // 1024
                                                  + 864 * 496 * 24 * 5 // 1024)
    info = probe(fetch(c, task))
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 121)
    assert info["audio"] is True


def test_extend_renders_the_requested_duration(c):
    task = done(c, body25("and then it rains", videos=1, omni_reference_task_type="extend",
                          ratio="adaptive", duration=4, generate_audio=False))
    assert task["duration"] == 4
    info = probe(fetch(c, task))
    assert (info["width"], info["height"], info["frames"], info["audio"]) == (864, 496, 97, False)


@pytest.mark.parametrize("task_type, fields, videos, param", [
    ("edit", {}, 0, "content"),
    ("extend", {}, 0, "content"),
    ("edit", {"ratio": "16:9"}, 1, "ratio"),
    ("extend", {"ratio": "1:1"}, 1, "ratio"),
    ("edit", {"duration": 5}, 1, "duration"),
    ("edit", {"duration": 4, "ratio": "adaptive"}, 2, "duration"),
])
def test_edit_and_extend_constraints_refused_at_once(c, task_type, fields, videos, param):
    before = c.stats()["creates"]["ark"]
    body = body25(videos=videos, omni_reference_task_type=task_type, **fields)
    if "duration" not in fields:
        body.pop("duration")
    reply = c.ark_create(body)
    assert reply.status_code == 400, reply.text
    err = ark_error(reply)
    assert err["code"] == CONSTRAINT and err["param"] == param and err["type"] == "BadRequest"
    assert c.stats()["creates"]["ark"] == before


def test_task_type_only_on_2_5_and_only_known_words(c):
    two = ark_body(model=TWO, omni_reference_task_type="edit")
    two["content"].append(VIDEO)
    for body in (two, body25(videos=1, omni_reference_task_type="remix")):
        reply = c.ark_create(body)
        assert reply.status_code == 400
        err = ark_error(reply)
        assert err["code"] == "InvalidParameter" and err["param"] == "omni_reference_task_type"


def test_mov_output(c):
    task = done(c, body25("for the editor", output_format="mov"))
    assert task["output_format"] == "mov"
    url = task["content"]["video_url"]
    assert url.split("?")[0].endswith(f"/files/{task['id']}.mov")
    reply = c.s.get(url, timeout=30)
    assert reply.headers["Content-Type"] == "video/quicktime"
    info = probe_fast(reply.content)
    assert info["brand"] == b"qt  "  # a QuickTime file, not an MP4
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 97)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv444p"
    assert info["audio"] == "pcm_s16le"
    assert probe(reply.content)["frames"] == 97  # and it decodes whole
    for body in (ark_body(model=TWO, output_format="mov"), body25(output_format="webm")):
        reply = c.ark_create(body)
        assert reply.status_code == 400 and ark_error(reply)["param"] == "output_format"


def test_draft_then_final(c):
    draft = done(c, body25("a lantern festival", draft=True, seed=9, generate_audio=False))
    assert draft["draft"] is True and draft["resolution"] == "480p"
    info = probe_fast(fetch(c, draft))
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 97)
    final_body = {"model": V25, "content": [{"type": "draft_task", "draft_task": {"id": draft["id"]}}]}
    final = done(c, final_body)
    assert final["id"] != draft["id"] and final["draft_task_id"] == draft["id"]
    assert final["draft"] is False and final["resolution"] == "1080p"
    for key in ("seed", "duration", "ratio", "generate_audio", "output_format"):
        assert final[key] == draft[key], key
    assert final["usage"]["completion_tokens"] == 1920 * 1080 * 97 // 1024
    info = probe_fast(fetch(c, final))
    assert (info["width"], info["height"], info["frames"]) == (1920, 1080, 97)
    assert info["audio"] is None


def test_final_keeps_a_drafts_image_aspect_at_1080p(c):
    first = data_url(png_bytes(800, 1000, pattern=True))
    draft = done(c, body25(NO_RENDER, images=(("first_frame", first),), draft=True))
    final = done(c, {"model": V25_BP,  # the BytePlus id of the same family
                     "content": [{"type": "draft_task", "draft_task": {"id": draft["id"]}}],
                     "resolution": "1080p", "watermark": True})
    w, h = own_aspect_size("2.5", "1080p", 0.8)
    assert (w, h) == (1288, 1608)
    assert final["model"] == V25_BP and final["duration"] == 4
    assert final["usage"]["completion_tokens"] == w * h * 97 // 1024


def _final(draft_id: str, model: str = V25, **fields) -> dict:
    return {"model": model, "content": [{"type": "draft_task", "draft_task": {"id": draft_id}}],
            **fields}


def test_draft_and_final_refusals(c):
    draft = done(c, body25(NO_RENDER, draft=True))["id"]
    plain = done(c, body25(NO_RENDER))["id"]
    stalled = c.ark_create(body25("[emu:stall]", draft=True)).json()["id"]
    other = c.s.post(c.base + ARK_TASKS, json=body25(NO_RENDER, draft=True),
                     headers=c.headers("sk-other")).json()["id"]
    wait_for(lambda: c.s.get(f"{c.base}{ARK_TASKS}/{other}", headers=c.headers("sk-other")).json(),
             lambda t: t["status"] == "succeeded")  # a succeeded draft, but of another account
    with_text = _final(draft)
    with_text["content"].insert(0, {"type": "text", "text": "again"})
    cases = [
        (body25(draft=True, resolution="720p"), "InvalidParameter", "resolution"),
        (body25(draft=True, output_format="mov"), "InvalidParameter", "output_format"),
        (body25(draft=True, return_last_frame=True), "InvalidParameter", "return_last_frame"),
        (ark_body(model=TWO, draft=True), "InvalidParameter", "draft"),
        (_final("cgt-20261201000000-zzzzz"), "InvalidParameter", "content.draft_task"),
        (_final(plain), "InvalidParameter", "content.draft_task"),
        (_final(stalled), "InvalidParameter", "content.draft_task"),
        (_final(other), "InvalidParameter", "content.draft_task"),
        (_final(draft, model=TWO), "InvalidParameter", "content"),
        (with_text, "InvalidParameter", "content"),
        (_final(draft, duration=5), "InvalidParameter", "duration"),
        (_final(draft, seed=1), "InvalidParameter", "seed"),
        (_final(draft, resolution="720p"), "InvalidParameter", "resolution"),
    ]
    for body, code, param in cases:
        reply = c.ark_create(body)
        assert reply.status_code == 400, (body, reply.text)
        err = ark_error(reply)
        assert (err["code"], err["param"]) == (code, param), (body, err)
    assert c.ark_create(_final(draft)).status_code == 200  # the draft itself is fine


def test_a_draft_can_become_a_final_for_7_days_only():
    speed = 7 * 86400 / 2.0  # a draft's 7 days last 2 real seconds
    with emulator(speed=speed, render_module="_emulator_helpers") as c:
        draft_id = c.ark_create(body25(NO_RENDER, draft=True)).json()["id"]
        draft = c.ark_wait(draft_id, ("succeeded",))
        assert c.ark_create(_final(draft["id"])).status_code == 200
        time.sleep(2.2)
        reply = c.ark_create(_final(draft["id"]))
        assert reply.status_code == 400 and ark_error(reply)["param"] == "content.draft_task"
