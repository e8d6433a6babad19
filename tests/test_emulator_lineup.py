"""The 2026-12 lineup on every emulator route (reference §2.1, §2.3, §2.6, §10.4):
retired models answered as unknown, GET /api/v3/models, the 2.0-mini alias, comet 2.5,
AceDataCloud's always-sent fields, and 2.5 drafts on /seedance."""
from __future__ import annotations

import re

import pytest

from _emulator_helpers import (ARK_TASKS, NO_RENDER, VOLC_TASKS, V25, ace_body, ark_body,
                               ark_error, emulator, png_bytes)

MINI_BP = "dreamina-seedance-2-0-mini-260615"
LIVE_IDS = {
    "doubao-seedance-2-5-260628", "dreamina-seedance-2-5-260628",
    "doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128",
    "doubao-seedance-2-0-fast-260128", "dreamina-seedance-2-0-fast-260128",
    "doubao-seedance-2-0-mini-260615", MINI_BP,
    "doubao-seedance-1-0-pro-250528", "seedance-1-0-pro-250528",
    "doubao-seedance-1-0-pro-fast-251015", "seedance-1-0-pro-fast-251015",
}
UUID = re.compile(r"^[0-9a-f-]{36}$")


@pytest.fixture(scope="module")
def c():
    with emulator(render_module="_emulator_helpers",
                  endpoint={"ep-20261201-live": "2.0", "ep-20261201-old": "1.5-pro"}) as client:
        yield client


@pytest.mark.parametrize("model", [
    "doubao-seedance-1-5-pro-251215", "seedance-1-5-pro-251215",
    "doubao-seedance-1-0-lite-t2v-250428", "seedance-1-0-lite-i2v-250428", "ep-20261201-old"])
def test_retired_models_are_unknown_on_ark(c, model):
    before = c.stats()["creates"]["ark"]
    reply = c.ark_create(ark_body(model=model, frames=None))
    assert reply.status_code == 404, reply.text
    err = ark_error(reply)
    assert err["code"] == "InvalidEndpointOrModel.NotFound" and err["param"] == "model"
    assert err["type"] == "NotFound" and model in err["message"]
    assert c.stats()["creates"]["ark"] == before


def test_retired_models_are_unknown_on_comet_volc_and_ace(c):
    reply = c.ark_create(ark_body(model="doubao-seedance-1-5-pro-251215", frames=None),
                         VOLC_TASKS)
    assert reply.status_code == 404
    err = reply.json()["error"]
    assert err["code"] == "InvalidEndpointOrModel.NotFound" and err["type"] == "comet_api_error"
    for model in ("doubao-seedance-1-5-pro", "doubao-seedance-1-0-pro"):
        reply = c.comet_create(model=model)
        assert reply.status_code == 400
        err = reply.json()["error"]
        assert err["code"] == "" and err["message"].startswith(f"model {model} is not supported")
    for model in ("doubao-seedance-1-5-pro-251215", "doubao-seedance-1-0-lite-t2v-250428"):
        reply = c.ace_create(model=model, frames=None)
        assert reply.status_code == 400
        body = reply.json()
        assert body["success"] is False and body["error"]["code"] == "bad_request"
        assert model in body["error"]["message"] and UUID.match(body["trace_id"])
    assert c.stats()["creates"] == {"ark": 0, "comet": 0, "volc": 0, "ace": 0}


def test_models_route_lists_live_video_models(c):
    assert c.s.get(c.base + "/api/v3/models").status_code == 401
    reply = c.get("/api/v3/models")
    assert reply.status_code == 200 and reply.headers["X-Request-Id"]
    data = reply.json()["data"]
    ids = [m["id"] for m in data]
    assert len(ids) == len(set(ids))
    assert set(ids) == LIVE_IDS | {"ep-20261201-live"}  # no retired id, no alias
    assert all(m["domain"] == "VideoGeneration" for m in data)
    assert c.get("/api/v3/models/x").status_code == 404
    assert c.post("/api/v3/models").status_code == 404


def test_every_listed_model_is_accepted(c):
    for model in sorted(LIVE_IDS):
        fields = {"frames": 29} if "1-0" in model else {"duration": 4}
        body = {**ark_body(NO_RENDER, model=model, frames=None), **fields}
        assert c.ark_create(body).status_code == 200, model


def test_byteplus_mini_alias_is_the_dated_id(c):
    reply = c.ark_create(ark_body(NO_RENDER, model="dreamina-seedance-2-0-mini"))
    assert reply.status_code == 200, reply.text
    task = c.ark_get(reply.json()["id"]).json()
    assert task["model"] == MINI_BP
    listed = c.get(ARK_TASKS, params={"filter.model": MINI_BP}).json()
    assert reply.json()["id"] in {t["id"] for t in listed["items"]}
    # 2.0-mini is not on CometAPI at all
    reply = c.ark_create(ark_body(model="doubao-seedance-2-0-mini-260615"), VOLC_TASKS)
    assert reply.status_code == 404
    assert c.comet_create(model="doubao-seedance-2-0-mini").status_code == 400


def test_comet_2_5_seconds_and_resolutions(c):
    reply = c.comet_create(model="seedance-2-5", prompt=f"dunes {NO_RENDER}", seconds="30",
                           resolution="1080p", size="9:16")
    assert reply.status_code == 200, reply.text
    task = c.get(f"/v1/videos/{reply.json()['id']}").json()
    assert (task["seconds"], task["resolution"], task["size"]) == ("30", "1080p", "9:16")
    image = c.comet_create(model="seedance-2-5", prompt=NO_RENDER, image=png_bytes(400, 400),
                           size="21:9")
    assert image.status_code == 200, image.text  # any table ratio: the adaptive rule is Ark's
    for fields in ({"seconds": "31"}, {"seconds": "3"}, {"size": "adaptive"},
                   {"resolution": "4k"}):
        reply = c.comet_create(model="seedance-2-5", **fields)
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "InvalidParameter"


def test_ace_takes_the_sdks_always_sent_fields(c):
    # AceDataCloud's SDK sends generate_audio and return_last_frame false on every call
    for model in ("doubao-seedance-1-0-pro-250528", "doubao-seedance-1-0-pro-fast-251015",
                  "doubao-seedance-2-0-260128"):
        fields = {"frames": 29} if "1-0" in model else {"frames": None, "duration": 4}
        reply = c.ace_create(text=NO_RENDER, model=model, generate_audio=False,
                             return_last_frame=False, priority=0, **fields)
        assert reply.status_code == 200, (model, reply.text)
    refused = [dict(model="doubao-seedance-1-0-pro-250528", generate_audio=True),
               dict(model="doubao-seedance-2-0-260128", frames=None, return_last_frame=True)]
    for fields in refused:
        reply = c.ace_create(**fields)
        assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_request"


def test_ace_2_5_draft_and_final_use_the_upstream_id(c):
    created = c.ace_create(text=NO_RENDER, model=V25, frames=None, duration=4, draft=True)
    assert created.status_code == 200, created.text
    record = c.ace_wait(created.json()["task_id"])
    data = record["response"]["data"]
    assert data["draft"] is True and data["resolution"] == "480p"
    upstream = data["task_id"]
    assert upstream.startswith("cgt-")

    def final(draft_id: str):
        return c.post("/seedance/videos", json={
            "model": V25, "async": True, "generate_audio": False,
            "content": [{"type": "draft_task", "draft_task": {"id": draft_id}}]})

    reply = final(upstream)
    assert reply.status_code == 200, reply.text
    data = c.ace_wait(reply.json()["task_id"])["response"]["data"]
    assert data["draft_task_id"] == upstream and data["resolution"] == "1080p"
    assert data["draft"] is False and data["duration"] == 4
    reply = final(created.json()["task_id"])  # Ace's own id is not the draft's id
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_request"


def test_ace_edit_constraint_is_bad_request(c):
    body = ace_body(model=V25, frames=None, duration=4, omni_reference_task_type="edit")
    reply = c.post("/seedance/videos", json=body)
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "bad_request"
    assert "reference video" in reply.json()["error"]["message"]
