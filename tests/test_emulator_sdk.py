"""The official Volcengine Ark runtime SDK against the emulator's /api/v3."""
from __future__ import annotations

import time

from volcenginesdkarkruntime import Ark

from _emulator_helpers import PRO, PRO15, emulator


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
        audio = tasks.create(model=PRO15, content=[{"type": "text", "text": "waves"}],
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
