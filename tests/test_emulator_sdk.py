"""Official SDKs against the emulator: Volcengine's Ark runtime SDK on /api/v3 and
AceDataCloud's `acedatacloud` SDK on /seedance (pointed at the loopback base URL)."""
from __future__ import annotations

import time

import pytest
from volcenginesdkarkruntime import Ark
from volcenginesdkarkruntime._exceptions import ArkBadRequestError

from _emulator_helpers import FAST2, NO_RENDER, PRO, V25, emulator
from seedance_nb import catalog


def test_ark_sdk_create_get_list_delete():
    with emulator() as c:
        client = Ark(base_url=c.base + "/api/v3", api_key=c.token, max_retries=0)
        tasks = client.content_generation.tasks
        created = tasks.create(model=PRO, content=[{"type": "text", "text": "a fox in snow"}],
                               resolution="480p", frames=29, seed=7, return_last_frame=True,
                               service_tier="default")
        assert created.id.startswith("cgt-")
        deadline = time.monotonic() + 30
        task = tasks.get(task_id=created.id)
        while task.status not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
            task = tasks.get(task_id=created.id)
        assert task.status == "succeeded"
        # the §6.1 fields, parsed by the SDK's own model
        assert task.id == created.id and task.model == PRO
        assert task.content.video_url.startswith(c.base + "/files/")
        assert f"/files/{created.id}-last.png?" in task.content.last_frame_url
        assert task.usage.completion_tokens == task.usage.total_tokens == 864 * 480 * 29 // 1024
        assert isinstance(task.created_at, int) and task.updated_at >= task.created_at
        assert task.seed == 7 and task.resolution == "480p" and task.ratio == "16:9"
        assert task.frames == 29 and task.framespersecond == 24
        assert task.service_tier == "default" and task.execution_expires_after == 172800

        # the SDK sends nulls for unset fields; they mean "not given"
        audio = tasks.create(model=FAST2, content=[{"type": "text", "text": "waves"}],
                             resolution="480p", duration=4)
        listed = tasks.list(page_num=1, page_size=10, model=PRO)
        assert listed.total == 1 and listed.items[0].id == created.id
        both = tasks.list(task_ids=[created.id, audio.id])
        assert {t.id for t in both.items} == {created.id, audio.id}
        assert tasks.list(status="succeeded").total >= 1

        tasks.delete(task_id=created.id)
        assert tasks.list(task_ids=[created.id]).total == 0
        got = tasks.get(task_id=audio.id)
        assert got.generate_audio is True and got.duration == 4


def _wait_sdk(tasks, task_id: str):
    deadline = time.monotonic() + 60
    task = tasks.get(task_id=task_id)
    while task.status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
        task = tasks.get(task_id=task_id)
    return task


def test_ark_sdk_2_5_draft_final_and_edit():
    # NO_RENDER keeps the 1080p final cheap (its real render is checked in test_emulator_v25)
    with emulator(render_module="_emulator_helpers") as c:
        tasks = Ark(base_url=c.base + "/api/v3", api_key=c.token,
                    max_retries=0).content_generation.tasks
        draft = tasks.create(model=V25, content=[{"type": "text", "text": f"lanterns {NO_RENDER}"}],
                             draft=True, duration=4, seed=9, generate_audio=False)
        done = _wait_sdk(tasks, draft.id)
        assert done.status == "succeeded" and done.draft is True
        assert done.resolution == "480p" and done.duration == 4
        final = tasks.create(model=V25, content=[{"type": "draft_task",
                                                  "draft_task": {"id": draft.id}}])
        got = _wait_sdk(tasks, final.id)
        assert got.status == "succeeded" and got.draft_task_id == draft.id
        assert got.resolution == "1080p" and got.seed == 9 and got.draft is False
        assert got.usage.completion_tokens == 1920 * 1080 * 97 // 1024
        edit = tasks.create(
            model=V25, omni_reference_task_type="edit", ratio="adaptive", duration=-1,
            resolution="480p", generate_audio=False,
            content=[{"type": "text", "text": "make it snow"},
                     {"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"},
                      "role": "reference_video"}])
        got = _wait_sdk(tasks, edit.id)
        assert got.status == "succeeded" and got.duration == 5 and got.output_format == "mp4"
        with pytest.raises(ArkBadRequestError) as info:  # the SDK surfaces the constraint code
            tasks.create(model=V25, omni_reference_task_type="edit", ratio="16:9",
                         content=[{"type": "text", "text": "x"}])
        assert "TaskTypeConstraint" in str(info.value)


ACE_LIVE = {  # acedata wire id -> a cheap length for it
    "doubao-seedance-2-5-260628": {"duration": 4},
    "doubao-seedance-2-0-260128": {"duration": 4},
    "doubao-seedance-2-0-fast-260128": {"duration": 4},
    "doubao-seedance-2-0-mini-260615": {"duration": 4},
    "doubao-seedance-1-0-pro-250528": {"frames": 29},
    "doubao-seedance-1-0-pro-fast-251015": {"frames": 29},
}


def test_acedatacloud_sdk_every_live_family_and_retired_refused():
    from acedatacloud import AceDataCloud
    from acedatacloud._runtime.errors import APIError

    with emulator() as c:
        client = AceDataCloud(api_token=c.token, base_url=c.base, max_retries=0, timeout=60)
        assert {m for m in ACE_LIVE} == {
            catalog.WIRE_IDS["acedata"][f] for f in catalog.families_for("acedata", live_only=True)}
        for model, length in ACE_LIVE.items():
            handle = client.seedance.generate(
                model=model, content=[{"type": "text", "text": "waves at night"}],
                resolution="480p", seed=1, wait=True, poll_interval=0.05, max_wait=60, **length)
            assert handle.done, model
            urls = handle.urls()
            assert len(urls) == 1 and urls[0].startswith(c.base + "/files/"), model
            data = handle.result()["response"]["data"]
            assert data["model"] == model and data["status"] == "succeeded"
            assert c.s.get(urls[0]).status_code == 200
        with pytest.raises(APIError) as info:
            client.seedance.generate(model="doubao-seedance-1-5-pro-251215",
                                     content=[{"type": "text", "text": "waves"}])
        assert info.value.status_code == 400 and "bad_request" in str(info.value.code)
        client.close()
