"""The caller's thread never waits on the network while jobs poll (§8, issue 4)."""
from __future__ import annotations

import itertools
import time

import pytest

from seedance_nb import jobs

from _client_helpers import isolated_jobs, reply, scripted_server

pytestmark = pytest.mark.timeout(60)
STALL_S = 0.6


def _stalling_gateway():
    ids = itertools.count()

    def answer(request):
        if request.method == "POST":
            return ("sleep", STALL_S, reply(200, {"id": f"cgt-20260101000000-{next(ids):05d}"}))
        wanted = request.args.getlist("filter.task_ids")
        items = [{"id": i, "model": "doubao-seedance-1-0-pro-fast-251015", "status": "running",
                  "created_at": int(time.time())} for i in wanted]
        return ("sleep", STALL_S, reply(200, {"total": len(items), "items": items}))

    return answer


def test_stalled_gateway_never_delays_the_main_thread(tmp_path):
    with scripted_server(_stalling_gateway()) as (root, script), \
            isolated_jobs(tmp_path, poll_interval=0.1):
        t0 = time.perf_counter()
        batch = [jobs.submit(f"fox {i}", provider="emulator", emulate="ark", base_url=root,
                             api_key="sk-emulator", model="1.0-pro-fast", resolution="480p",
                             duration=2) for i in range(5)]
        submit_s = time.perf_counter() - t0
        # A busy main-thread loop while the worker sits in stalled HTTP calls.
        worst = 0.0
        last = time.perf_counter()
        end = last + 3 * STALL_S + 1.0
        while time.perf_counter() < end:
            time.sleep(0.002)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now
        stalled_calls = len(script.seen)
        statuses = {j.status for j in batch}
        for job in batch:
            assert not job.done
    assert submit_s < 0.5 * len(batch) * STALL_S  # submit never waited for a create reply
    assert stalled_calls >= 4  # the worker really was inside slow requests meanwhile
    assert "queued" in statuses or "running" in statuses
    assert worst < 0.05, f"main thread stalled {worst * 1000:.1f} ms"
