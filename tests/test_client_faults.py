"""The client against a misbehaving emulator: 429 storms, 5xx bursts, malformed
bodies, truncated downloads, and the 100-job fault soak (§8, §10.8)."""
from __future__ import annotations

import time

import pytest

from seedance_nb import jobs
from seedance_nb.emulator import Emulator

from _client_helpers import DIALECTS, decodes, emu_submit, isolated_jobs

pytestmark = pytest.mark.timeout(240)


def _creates(emu) -> int:
    return sum(emu.stats()["creates"].values())


def _all_succeeded(batch, timeout=90):
    jobs.wait_all(batch, timeout=timeout)
    for job in batch:
        assert job.status == "succeeded", (job.status, job.error)
        assert decodes(job.video_path) > 0


@pytest.mark.parametrize("emulate", ["ark", "comet", "acedata"])
def test_429_storm_on_creates_is_waited_out(tmp_path, emulate):
    family = "1.0-pro-fast" if emulate != "comet" else "2.0-fast"
    # speed 60: the RPM window is 1 s, so 2 creates per second pass and the rest get 429
    with Emulator(port=0, speed=60, in_process=True, run_seconds=1, rpm={family: 2}) as emu, \
            isolated_jobs(tmp_path):
        batch = [emu_submit(emu, emulate, f"storm {i}", model=family, seed=None)
                 if emulate == "comet" else
                 emu_submit(emu, emulate, f"storm {i}", model=family, seed=5)
                 for i in range(6)]
        _all_succeeded(batch)
        assert _creates(emu) == 6  # 429s were retried, nothing was created twice
        assert sum(j.task_id is not None for j in batch) == 6


@pytest.mark.parametrize("emulate", DIALECTS)
def test_5xx_bursts_on_reads(tmp_path, emulate):
    # run_seconds 50 at speed 100: about 0.5 s running, so several poll rounds happen
    # retry_scale: the lane's scheduled backoff after a 5xx is real but short here
    with Emulator(port=0, speed=100, in_process=True, run_seconds=50, fault_5xx=0.5,
                  fault_seed=1) as emu, isolated_jobs(tmp_path, retry_scale=0.05):
        batch = [emu_submit(emu, emulate, f"burst {i}") for i in range(3)]
        _all_succeeded(batch)
        assert emu.stats()["faults"].get("5xx", 0) > 0
        assert _creates(emu) == 3


@pytest.mark.parametrize("emulate", DIALECTS)
def test_malformed_bodies_fail_only_their_own_task(tmp_path, emulate):
    """A 200 whose JSON is cut in half cannot be understood: §8 fails that task only
    (BadJSON, in the job and the ledger alike); the others finish with their files."""
    with Emulator(port=0, speed=100, in_process=True, run_seconds=50, fault_malformed=0.4,
                  fault_seed=4) as emu, isolated_jobs(tmp_path):
        batch = [emu_submit(emu, emulate, f"garbled {i}") for i in range(3)]
        jobs.wait_all(batch, timeout=90)
        assert emu.stats()["faults"].get("malformed", 0) > 0
        assert all(j.done for j in batch)
        for job in batch:
            row = job.ledger.get(job.ledger_id)
            assert row["status"] == job.status, (row["status"], job.status)
            if job.status == "succeeded":
                assert decodes(job.video_path) > 0
            else:
                assert job.status == "failed" and row["error_code"] == "BadJSON"
                assert "BadJSON" in job.error and "unreadable reply" in row["error_message"]
        assert _creates(emu) == 3


@pytest.mark.parametrize("emulate", DIALECTS)
def test_truncated_downloads_are_completed(tmp_path, emulate):
    with Emulator(port=0, speed=100, in_process=True, run_seconds=1, fault_truncate=0.5,
                  fault_seed=5) as emu, isolated_jobs(tmp_path):
        batch = [emu_submit(emu, emulate, f"cut {i}") for i in range(3)]
        _all_succeeded(batch)
        assert emu.stats()["faults"].get("truncate", 0) > 0
        for job in batch:
            row = job.ledger.get(job.ledger_id)
            assert row["video_sha256"] and row["video_path"] == job.video_path


def test_fault_soak_100_jobs(tmp_path):
    """20 % of reads answer 5xx and 5 % of connections reset: every job ends, every
    success has its file, and the emulator counted exactly 100 creates."""
    with Emulator(port=0, speed=100, in_process=True, run_seconds=1, fault_5xx=0.2,
                  fault_reset=0.05, fault_seed=11) as emu, \
            isolated_jobs(tmp_path, retry_scale=0.05) as mgr:
        t0 = time.monotonic()
        batch = [emu_submit(emu, "ark", f"soak {i % 2}", new=True, seed=7) for i in range(100)]
        submit_s = time.monotonic() - t0
        jobs.wait_all(batch, timeout=180)
        assert all(j.done for j in batch)
        ok = [j for j in batch if j.status == "succeeded"]
        assert len(ok) == 100, [(j.status, j.error) for j in batch if j.status != "succeeded"]
        for job in ok:
            assert job.video_path and job.ledger.get(job.ledger_id)["video_sha256"]
        assert len({j.video_path for j in ok}) == 100
        assert decodes(ok[0].video_path) > 0 and decodes(ok[-1].video_path) > 0
        assert _creates(emu) == 100
        faults = emu.stats()["faults"]
        assert faults.get("5xx", 0) > 0 and faults.get("reset", 0) > 0
        # batched polling: a round for 100 Ark tasks costs about one request, not 100
        big = [r for r in mgr.rounds if r.jobs > 50]
        assert big and max(r.requests for r in big) < 20
        assert submit_s < 30
