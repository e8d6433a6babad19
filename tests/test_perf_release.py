"""Finished jobs are released by the job manager (issue 13.4): a job the user drops is
freed, yet `manager().jobs`, `wait_all()` and the job listing still show it."""
from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

import pytest

from seedance_nb import display, jobs
from seedance_nb.errors import SeedanceError

from _client_helpers import isolated_jobs
from _perf_helpers import FAMILY, NO_RENDER, emu  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(90)


def _submit(emu, prompt: str, seed: int):  # noqa: F811
    return jobs.submit(f"{prompt} {NO_RENDER}", provider="emulator", emulate="ark", base_url=emu.base_url,
                       api_key=emu.token, model=FAMILY, resolution="480p", duration=2,
                       seed=seed, new=True)


def _traced(mgr) -> int:
    """Traced bytes (tracemalloc's own aside) once the bounded caches that fill as jobs
    run, whatever their number, are emptied: the last 1,000 poll-round stats, the
    preview probe cache (1,024 files) and urllib's URL-split cache (128)."""
    import urllib.parse

    from seedance_nb import preview

    mgr.rounds.clear()
    preview._probed.clear()
    getattr(urllib.parse.urlsplit, "cache_clear", lambda: None)()
    gc.collect()
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    return sum(stat.size for stat in snap.statistics("filename"))


def _settle() -> None:
    # the lane thread may still be returning from the job's last turn
    for _ in range(3):
        gc.collect()
        time.sleep(0.05)


def test_dropped_finished_job_is_freed_but_still_listed(emu, tmp_path):  # noqa: F811
    with isolated_jobs(tmp_path) as mgr:
        job = _submit(emu, "a heron at dawn", 11)
        job.wait(60)
        task_id, path = job.task_id, job.video_path
        assert job.status == "succeeded" and path
        assert mgr.jobs[0] is job  # held by the user: the same object comes back
        ref = weakref.ref(job)
        del job
        _settle()
        assert ref() is None, "the manager still holds a finished job nobody uses"

        listed = list(mgr.jobs)
        assert len(listed) == 1
        brief = listed[0]
        assert (brief.task_id, brief.status, brief.video_path, brief.done) == \
            (task_id, "succeeded", path, True)
        assert jobs.wait_all() == listed  # returns at once, nothing raised
        shown = display.gallery_bundle(mgr.jobs)
        assert task_id in shown["text/plain"] and "succeeded" in shown["text/plain"]
        assert task_id in repr(brief)
        with pytest.raises(ValueError, match="already ended"):
            brief.cancel()


def test_released_failed_job_still_raises_its_error(emu, tmp_path):  # noqa: F811
    with isolated_jobs(tmp_path) as mgr:
        job = _submit(emu, "a fox [emu:fail]", 12)
        with pytest.raises(SeedanceError):
            job.wait(60)
        error = job.error
        del job
        _settle()
        (brief,) = list(mgr.jobs)
        assert brief.status == "failed" and brief.error == error
        with pytest.raises(SeedanceError, match="ended failed"):
            brief.wait()
        assert jobs.wait_all() == [brief]  # wait_all keeps errors on the jobs


def test_manager_tables_do_not_grow_over_50_jobs(emu, tmp_path):  # noqa: F811
    def run(n: int, seed: int) -> list:
        batch = [_submit(emu, f"a paper boat, take {seed + i}", seed + i) for i in range(n)]
        jobs.wait_all(batch, timeout=60)
        assert [j.status for j in batch] == ["succeeded"] * n
        return [weakref.ref(j) for j in batch]

    with isolated_jobs(tmp_path) as mgr:
        tracemalloc.start()
        try:
            # first use: imports, connections, threads; and the 128-entry caches of
            # urllib.parse and sqlite3's statements fill up
            run(150, 1000)
            _settle()
            before = _traced(mgr)
            refs = run(50, 200)
            _settle()
            grown = _traced(mgr) - before
            print(f"kept per finished job: {grown / 50:.0f} bytes")
        finally:
            tracemalloc.stop()
        assert not [r for r in refs if r() is not None], "finished jobs are still referenced"
        assert mgr.jobs.held() == [] and mgr._live == {}
        for lane in mgr._lanes.values():
            assert lane.jobs == [] and lane.creating == [] and lane.actions == []
        assert len(mgr.jobs) == 200  # every job of the session is still listed
        assert grown / 50 < 2048, f"{grown / 50:.0f} bytes kept per finished job"
