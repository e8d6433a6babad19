"""Callbacks (§10.7), received by a small werkzeug server in the test."""
from __future__ import annotations

import time

from _emulator_helpers import VOLC_TASKS, CallbackSink, emulator, wait_for


def test_ark_callbacks_for_each_status_with_get_body():
    sink = CallbackSink()
    try:
        with emulator(speed=100, run_seconds=10) as c:
            task_id = c.ark_new(callback_url=sink.url)
            got = wait_for(lambda: list(sink.received), lambda r: len(r) >= 3, timeout=15)
            assert [b["status"] for b in got] == ["queued", "running", "succeeded"]
            assert all(b["id"] == task_id for b in got)
            final = got[-1]
            assert final["content"]["video_url"].startswith(c.base + "/files/")
            assert final["usage"]["total_tokens"] > 0
            assert final == {**c.ark_get(task_id).json()}
            time.sleep(0.3)
            assert len(sink.received) == 3
    finally:
        sink.close()


def test_final_callbacks_are_retried_three_times_one_second_apart():
    sink = CallbackSink(fail_first={"failed": 10, "running": 10})
    try:
        with emulator(speed=100, run_seconds=10) as c:
            c.ark_new(text="[emu:fail]", callback_url=sink.url, prefix=VOLC_TASKS)
            wait_for(lambda: [s for _, s in sink.attempts if s == "failed"],
                     lambda a: len(a) >= 4, timeout=15)
            time.sleep(1.3)
            failed = [t for t, s in sink.attempts if s == "failed"]
            running = [t for t, s in sink.attempts if s == "running"]
            assert len(failed) == 4 and len(running) == 1  # 1 + 3 retries; running: one try
            gaps = [b - a for a, b in zip(failed, failed[1:])]
            assert all(0.9 <= g <= 1.6 for g in gaps), gaps
            assert c.stats()["callbacks"]["failed_attempts"] >= 5
    finally:
        sink.close()


def test_no_callback_for_cancelled_and_none_for_comet():
    sink = CallbackSink()
    try:
        with emulator(speed=1) as c:  # stays queued for 2 s
            task_id = c.ark_new(callback_url=sink.url)
            wait_for(lambda: list(sink.received), lambda r: len(r) == 1)
            assert c.delete(f"/api/v3/contents/generations/tasks/{task_id}").status_code == 200
            time.sleep(0.3)
            assert [b["status"] for b in sink.received] == ["queued"]
    finally:
        sink.close()
