"""Ark routes (/api/v3) of the emulator over real HTTP: create, get, list, DELETE,
envelopes, auth, validation, markers and the rendered files."""
from __future__ import annotations

import re

import numpy as np
import pytest

from _emulator_helpers import (ARK_TASKS, FAST2, PRO, PRO_BP, ark_body, data_url, emulator,
                               png_bytes, probe)

ARK_ID = re.compile(r"^cgt-\d{14}-[a-z0-9]{5}$")


@pytest.fixture(scope="module")
def c():
    with emulator(endpoint={"ep-20250101-abc": "1.0-pro"}) as client:
        yield client


def test_create_get_succeeds_with_playable_video(c):
    reply = c.ark_create(ark_body(seed=42, return_last_frame=True))
    assert reply.status_code == 200
    assert set(reply.json()) == {"id"} and ARK_ID.match(reply.json()["id"])
    assert reply.headers["X-Request-Id"]
    task = c.ark_wait(reply.json()["id"])
    assert task["status"] == "succeeded", task
    assert task["model"] == PRO and task["seed"] == 42 and task["frames"] == 29
    assert "duration" not in task
    assert task["resolution"] == "480p" and task["ratio"] == "16:9"
    assert task["framespersecond"] == 24 and task["service_tier"] == "default"
    assert task["execution_expires_after"] == 172800
    assert task["usage"] == {"completion_tokens": 864 * 480 * 29 // 1024,
                             "total_tokens": 864 * 480 * 29 // 1024}
    assert isinstance(task["created_at"], int) and task["updated_at"] >= task["created_at"]
    video = c.s.get(task["content"]["video_url"], timeout=30)
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    info = probe(video.content)
    assert (info["width"], info["height"], info["fps"], info["frames"]) == (864, 480, 24.0, 29)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    png = c.s.get(task["content"]["last_frame_url"], timeout=30)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(png.content)).size == (864, 480)


def test_file_url_uses_host_header_and_signature(c):
    task = c.ark_wait(c.ark_new())
    url = task["content"]["video_url"]
    assert url.startswith(c.base + "/files/" + task["id"] + ".mp4?")
    assert re.search(r"X-Tos-Date=\d{8}T\d{6}Z", url) and "X-Tos-Expires=87" in url
    assert re.search(r"X-Tos-Signature=[0-9a-f]{64}", url)
    alias = c.base.replace("127.0.0.1", "localhost")
    other = c.s.get(alias + f"{ARK_TASKS}/{task['id']}", headers=c.headers()).json()
    assert other["content"]["video_url"].startswith(alias + "/files/")


def test_duration_default_and_audio_fields_for_2_0_fast(c):
    task = c.ark_wait(c.ark_new(model=FAST2, seed=None, ratio=None, duration=None))
    assert task["status"] == "succeeded"
    assert task["duration"] == 5 and "frames" not in task
    assert task["generate_audio"] is True
    assert "draft" not in task and "output_format" not in task  # 2.5 only
    assert task["ratio"] == "16:9"
    assert 0 <= task["seed"] <= 4294967295
    info = probe(c.s.get(task["content"]["video_url"]).content)
    assert (info["width"], info["height"], info["frames"]) == (864, 496, 121)
    assert info["audio"] is True


def test_image_to_video_starts_on_first_frame_and_adaptive_ratio(c):
    first = png_bytes(640, 640, pattern=True)
    body = ark_body(model=PRO, images=(("first_frame", data_url(first)),), ratio="adaptive")
    reply = c.ark_create(body)
    assert reply.status_code == 200, reply.text
    task = c.ark_wait(reply.json()["id"])
    assert task["ratio"] == "1:1"
    info = probe(c.s.get(task["content"]["video_url"]).content)
    assert (info["width"], info["height"]) == (640, 640)
    expected = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(
        __import__("io").BytesIO(first)).convert("RGB"), dtype=np.float32)
    diff = np.abs(info["first"].astype(np.float32) - expected).mean()
    assert diff < 12, diff


def test_byteplus_ids_and_endpoint_ids_accepted(c):
    assert c.ark_create(ark_body(model=PRO_BP)).status_code == 200
    reply = c.ark_create(ark_body(model="ep-20250101-abc"))
    assert reply.status_code == 200
    task = c.ark_get(reply.json()["id"]).json()
    assert task["model"] == "ep-20250101-abc"


def test_auth_missing_or_wrong_token(c):
    before = c.stats()["creates"]["ark"]
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic sk-emulator"}):
        reply = c.s.post(c.base + ARK_TASKS, json=ark_body(), headers=headers)
        assert reply.status_code == 401
        err = reply.json()["error"]
        rid = reply.headers["X-Request-Id"]
        assert err["code"] == "AuthenticationError" and err["type"] == "Unauthorized"
        assert err["message"] == ("The API key in the request is missing or invalid. "
                                  f"Request id: {rid}")
    assert c.stats()["creates"]["ark"] == before


@pytest.mark.parametrize("change, status, code, param", [
    ({"model": None}, 400, "MissingParameter", "model"),
    ({"model": "doubao-seedance-9-0"}, 404, "InvalidEndpointOrModel.NotFound", "model"),
    ({"model": "ep-unknown"}, 404, "InvalidEndpointOrModel.NotFound", "model"),
    ({"model": "doubao-seedance-1-0-pro"}, 404, "InvalidEndpointOrModel.NotFound", "model"),
    ({"frames": 30}, 400, "InvalidParameter", "frames"),
    ({"frames": None, "duration": 13}, 400, "InvalidParameter", "duration"),
    ({"resolution": "4k"}, 400, "InvalidParameter", "resolution"),
    ({"ratio": "9:21"}, 400, "InvalidParameter", "ratio"),
    ({"ratio": "adaptive"}, 400, "InvalidParameter", "ratio"),  # 1.0 t2v
    ({"seed": 4294967296}, 400, "InvalidParameter", "seed"),
    ({"service_tier": "gold"}, 400, "InvalidParameter", "service_tier"),
    ({"execution_expires_after": 60}, 400, "InvalidParameter", "execution_expires_after"),
    ({"generate_audio": True}, 400, "InvalidParameter", "generate_audio"),
    ({"draft": True}, 400, "InvalidParameter", "draft"),
    ({"callback_url": "ftp://x"}, 400, "InvalidParameter", "callback_url"),
    ({"content": None}, 400, "MissingParameter", "content"),
    ({"content": [{"type": "text", "text": "  "}]}, 400, "MissingParameter", "content.text"),
    ({"content": [{"type": "draft_task", "draft_task": {"id": "x"}}]}, 400,
     "InvalidParameter", "content"),
])
def test_validation_errors_in_ark_envelope(c, change, status, code, param):
    body = {**ark_body(), **change}
    body = {k: v for k, v in body.items() if not (k in ("model", "content") and v is None)}
    reply = c.ark_create(body)
    assert reply.status_code == status, reply.text
    err = reply.json()["error"]
    assert err["code"] == code and err["param"] == param
    assert err["type"] == ("NotFound" if status == 404 else "BadRequest")
    assert err["message"].endswith("Request id: " + reply.headers["X-Request-Id"])


def test_nulls_mean_not_given_and_frames_win(c):
    body = ark_body(seed=None, ratio=None, camera_fixed=None, watermark=None,
                    callback_url=None, generate_audio=None, tools=None, priority=None,
                    safety_identifier=None, return_last_frame=None, duration=5, frames=29)
    reply = c.ark_create(body)
    assert reply.status_code == 200, reply.text
    task = c.ark_get(reply.json()["id"]).json()
    assert task["frames"] == 29 and "duration" not in task


def test_mode_rules(c):
    img = data_url(png_bytes(400, 400))
    fast_first_last = ark_body(model="doubao-seedance-1-0-pro-fast-251015",
                               images=(("first_frame", img), ("last_frame", img)))
    assert c.ark_create(fast_first_last).json()["error"]["param"] == "content"
    pro_ref = ark_body(images=(("reference_image", img),))
    assert c.ark_create(pro_ref).json()["error"]["param"] == "content"
    mixed = ark_body(images=(("first_frame", img), ("reference_image", img)))
    assert c.ark_create(mixed).status_code == 400
    ref = ark_body(model=FAST2, text="[图1] dancing", images=(("reference_image", img),))
    assert c.ark_create(ref).status_code == 200
    no_text = ark_body(text=None, images=(("first_frame", img),))
    assert c.ark_create(no_text).status_code == 200


@pytest.mark.parametrize("marker, code", [("[emu:reject]", "InputTextSensitiveContentDetected")])
def test_reject_marker(c, marker, code):
    before = c.stats()["creates"]["ark"]
    reply = c.ark_create(ark_body(text=f"a cat {marker}"))
    assert reply.status_code == 400 and reply.json()["error"]["code"] == code
    assert c.stats()["creates"]["ark"] == before


def test_fail_and_500_markers(c):
    task = c.ark_wait(c.ark_new(text="storm [emu:fail]"))
    assert task["status"] == "failed"
    assert task["error"]["code"] == "OutputVideoSensitiveContentDetected.PolicyViolation"
    assert "content" not in task and "usage" not in task
    before = c.stats()["creates"]["ark"]
    listed = c.get(ARK_TASKS, params={"page_size": 500}).json()["total"]
    reply = c.ark_create(ark_body(text="calm [emu:500]"))
    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "InternalServiceError"
    assert c.stats()["creates"]["ark"] == before + 1
    newest = c.get(ARK_TASKS, params={"page_size": 500}).json()
    assert newest["total"] == listed + 1  # the task exists although the create said 500
    assert c.ark_wait(newest["items"][0]["id"])["status"] == "succeeded"


def test_unknown_route_and_unknown_id(c):
    reply = c.get("/api/v3/nothing/here")
    assert reply.status_code == 404 and "error" in reply.json()
    assert reply.headers["X-Request-Id"]
    unauthenticated = c.s.put(c.base + ARK_TASKS + "/x")  # unknown method: 404 before auth
    assert unauthenticated.status_code == 404
    assert unauthenticated.json()["error"]["message"].endswith(
        "Request id: " + unauthenticated.headers["X-Request-Id"])
    reply = c.ark_get("cgt-20250101000000-zzzzz")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "NotFound.TaskId"
    assert c.get("/nowhere").status_code == 404
    assert c.s.get(c.base + "/healthz").text == "ok"


def test_list_filters_paging_and_repeated_ids():
    with emulator() as c:
        ids = [c.ark_new(text=f"clip {i}") for i in range(3)]
        fast = c.ark_new(model="doubao-seedance-1-0-pro-fast-251015")
        flex = c.ark_new(service_tier="flex")
        for task_id in [*ids, fast, flex]:
            c.ark_wait(task_id)
        everything = c.get(ARK_TASKS).json()
        assert everything["total"] == 5 and len(everything["items"]) == 5
        assert everything["items"][0]["id"] == flex  # newest first
        page = c.get(ARK_TASKS, params={"page_num": 2, "page_size": 2}).json()
        assert page["total"] == 5 and [t["id"] for t in page["items"]] == [ids[2], ids[1]]
        picked = c.get(ARK_TASKS, params=[("filter.task_ids", ids[0]),
                                          ("filter.task_ids", ids[1])]).json()
        assert {t["id"] for t in picked["items"]} == {ids[0], ids[1]}
        by_model = c.get(ARK_TASKS, params={"filter.model": "doubao-seedance-1-0-pro-fast-251015"})
        assert [t["id"] for t in by_model.json()["items"]] == [fast]
        by_tier = c.get(ARK_TASKS, params={"filter.service_tier": "flex"}).json()
        assert [t["id"] for t in by_tier["items"]] == [flex]
        assert c.get(ARK_TASKS, params={"filter.status": "succeeded"}).json()["total"] == 5
        assert c.get(ARK_TASKS, params={"filter.status": "running"}).json()["total"] == 0
        for bad in ({"page_size": 0}, {"page_size": 501}, {"page_num": "x"},
                    {"filter.status": "done"}):
            reply = c.get(ARK_TASKS, params=bad)
            assert reply.status_code == 400
            assert reply.json()["error"]["code"] == "InvalidParameter"


def test_delete_table():
    # Slow lifecycle so tasks can be caught queued and running.
    with emulator(speed=10, run_seconds=30, concurrency={"1.0-pro": 1}) as c:
        running = c.ark_new()
        queued = c.ark_new()
        c.ark_wait(running, ("running",))
        reply = c.delete(f"{ARK_TASKS}/{running}")
        assert reply.status_code == 409
        assert reply.json()["error"]["code"] == "InvalidAction.RunningTaskDeletion"
        assert reply.json()["error"]["type"] == "Conflict"
        assert reply.json()["error"]["param"] == "id"
        assert reply.json()["error"]["message"].startswith(
            f"task {running} is running and cannot be cancelled or deleted")
        reply = c.delete(f"{ARK_TASKS}/{queued}")
        assert reply.status_code == 200 and reply.json() == {}
        assert c.ark_get(queued).json()["status"] == "cancelled"
        again = c.delete(f"{ARK_TASKS}/{queued}")
        assert again.status_code == 400
        assert again.json()["error"]["message"].startswith(f"task {queued} is already cancelled")
        unknown = c.delete(f"{ARK_TASKS}/cgt-20250101000000-aaaaa")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound.TaskId"
    with emulator() as c:
        done = c.ark_wait(c.ark_new())
        assert c.delete(f"{ARK_TASKS}/{done['id']}").json() == {}
        assert c.ark_get(done["id"]).status_code == 404
        assert c.s.get(done["content"]["video_url"]).status_code == 404
        failed = c.ark_wait(c.ark_new(text="[emu:fail]"))
        assert c.delete(f"{ARK_TASKS}/{failed['id']}").status_code == 200
        assert c.ark_get(failed["id"]).status_code == 404


def test_tasks_are_private_per_token():
    with emulator(token=["sk-a", "sk-b"]) as c:
        task_id = c.ark_new()
        reply = c.s.get(f"{c.base}{ARK_TASKS}/{task_id}", headers=c.headers("sk-b"))
        assert reply.status_code == 404
        assert c.s.get(f"{c.base}{ARK_TASKS}", headers=c.headers("sk-b")).json()["total"] == 0


def test_first_and_last_frame_render(c):
    from PIL import Image
    import io

    first = png_bytes(864, 480, pattern=True)
    last = png_bytes(864, 480, color=(30, 160, 220))
    body = ark_body(images=(("first_frame", data_url(first)), ("last_frame", data_url(last))),
                    ratio="16:9")
    task = c.ark_wait(c.ark_create(body).json()["id"])
    info = probe(c.s.get(task["content"]["video_url"]).content)
    assert (info["width"], info["height"], info["frames"]) == (864, 480, 29)
    for frame, source in ((info["first"], first), (info["last"], last)):
        expected = np.asarray(Image.open(io.BytesIO(source)).convert("RGB"), dtype=np.float32)
        assert np.abs(frame.astype(np.float32) - expected).mean() < 12


def test_stats_route_needs_no_bearer():
    with emulator() as c:
        task_id = c.ark_new()
        c.ark_get(task_id)
        c.ark_get(task_id)
        c.ark_create({"model": PRO})  # refused: not counted as a create
        stats = c.s.get(c.base + "/_emulator/stats").json()
        assert stats["creates"] == {"ark": 1, "comet": 0, "volc": 0, "ace": 0}
        assert stats["requests"]["GET /api/v3/contents/generations/tasks/{id}"] == 2
        assert stats["requests"]["POST /api/v3/contents/generations/tasks"] == 1
        assert stats["requests"]["POST /api/v3 error 400"] == 1
        assert stats["faults"] == {}


def test_identical_specs_render_once_and_deleted_files_leave_disk():
    import os
    import uuid

    with emulator() as c:
        prompt = f"cache check {uuid.uuid4()}"
        first = c.ark_wait(c.ark_new(text=prompt, seed=5))
        second = c.ark_wait(c.ark_new(text=prompt, seed=5))
        a = c.s.get(first["content"]["video_url"]).content
        assert a == c.s.get(second["content"]["video_url"]).content
        store = c.emu._server.app.store
        path = store.files[f"{first['id']}.mp4"][0].files["video"]
        # one render serves both tasks (the render pool is shared by every in-process
        # emulator, so its global count is not a reliable witness under a full test run)
        assert store.files[f"{second['id']}.mp4"][0].files["video"] == path
        c.delete(f"{ARK_TASKS}/{first['id']}")
        assert os.path.exists(path)  # still served for the second task
        c.delete(f"{ARK_TASKS}/{second['id']}")
        assert wait_gone(path)


def wait_gone(path, timeout=5.0):
    import os
    import time

    deadline = time.monotonic() + timeout
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not os.path.exists(path)


def test_two_zero_rules(c):
    model = "doubao-seedance-2-0-260128"
    img = data_url(png_bytes(400, 300))
    video = {"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"},
             "role": "reference_video"}
    audio = {"type": "audio_url", "audio_url": {"url": "https://example.com/a.mp3"},
             "role": "reference_audio"}
    ref = ark_body(model=model, images=(("reference_image", img),))
    ref["content"] += [video, audio]
    reply = c.ark_create(ref)
    assert reply.status_code == 200, reply.text
    # image modes default to adaptive: the closest ratio to the 400x300 image
    assert c.ark_get(reply.json()["id"]).json()["ratio"] == "4:3"
    only_audio = ark_body(model=model)
    only_audio["content"].append(audio)
    assert c.ark_create(only_audio).json()["error"]["param"] == "content"
    for change, param in (({"camera_fixed": True}, "camera_fixed"),
                          ({"service_tier": "flex"}, "service_tier"),
                          ({"duration": 16}, "duration")):
        reply = c.ark_create(ark_body(model=model, **change))
        assert reply.status_code == 400 and reply.json()["error"]["param"] == param
    assert c.ark_create(ark_body(model=model, duration=-1)).status_code == 200
    broken = ark_body(images=(("first_frame", "data:image/png;base64,AAAA"),))
    reply = c.ark_create(broken)
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "image_url"


def test_render_failure_fails_the_task():
    with emulator(render_module="_emulator_helpers") as c:
        task = c.ark_wait(c.ark_new(text="explode please"))
        assert task["status"] == "failed"
        assert task["error"]["code"] == "InternalServiceError"
        assert "stand-in renderer refused" in task["error"]["message"]
        assert c.ark_wait(c.ark_new(text="fine"))["status"] == "succeeded"
